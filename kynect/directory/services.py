"""Writes of the public directory: sharing a listing by email or text message.

The sharer is anonymous. Nothing about them is stored except the rate-limit counters, whose keys are
hashes (`rate_limit_key`), so neither the client address nor the recipient is written in clear.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.core.phones import phone_display, phone_normalize
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key
from kynect.directory.display import listing_address, listing_main_phone
from kynect.directory.models import Address, Location, Service
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import message_queue

logger = logging.getLogger(__name__)

SHARE_TEMPLATE = "directory/share"
SHAREABLE_STATUSES = (Service.Status.ACTIVE, Service.Status.TEMPORARILY_CLOSED)
SMS_MAX_CHARS = 320
SMS_SHORTEST_FIELD = 12


class ShareLimitExceededError(Exception):
    """Too many shares from one client, or to one recipient, in the current window."""

    CLIENT = "client"
    RECIPIENT = "recipient"

    def __init__(self, *, scope: str, retry_after_seconds: int) -> None:
        super().__init__(f"share limit per {scope} reached")
        self.scope = scope
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class ListingSummary:
    """What a shared listing says: the same on the share page, in the email and in the text message."""

    service_name: str
    organization: str
    phone: str
    phone_extension: str
    phone_e164: str
    address: str
    location: Location | None

    def as_context(self) -> dict[str, Any]:
        return {
            "service_name": self.service_name,
            "organization": self.organization,
            "phone": self.phone,
            "phone_extension": self.phone_extension,
            "address": self.address,
        }


# --- Reads the share needs -------------------------------------------------------------------------


def share_location(*, service: Service, location_id: Any) -> Location | None:
    """The location named by `location_id` if the service is offered there, else None."""
    if not location_id:
        return None
    try:
        return Location.objects.filter(service_at_locations__service=service, pk=location_id).first()
    except ValidationError:  # not a UUID
        return None


def listing_summary(*, service: Service, location: Location | None = None) -> ListingSummary:
    """The summary of a listing, at `location` or else at the service's first location (if any)."""
    place = location or (
        Location.objects.filter(service_at_locations__service=service)
        .annotate(
            has_address=Case(
                When(addresses__address_type=Address.AddressType.PHYSICAL, then=Value(0)),
                default=1,
                output_field=IntegerField(),
            )
        )
        .order_by("has_address", "name", "id")
        .first()
    )
    phone = listing_main_phone(service=service, location=place)
    phone_text, phone_e164 = "", ""
    if phone is not None:
        try:
            phone_e164 = phone_normalize(phone.number)
            phone_text = phone_display(phone_e164)
        except ValidationError:
            phone_text = phone.number.strip()
    return ListingSummary(
        service_name=service.name,
        organization=service.organization.name,
        phone=phone_text,
        phone_extension=str(phone.extension) if phone is not None and phone.extension else "",
        phone_e164=phone_e164,
        address=listing_address(location=place),
        location=location,
    )


# --- The share -------------------------------------------------------------------------------------


def recipient_normalize(*, channel: str, recipient: str) -> str:
    """The recipient in the form the outbox stores: a lower-case email address, or a phone in E.164."""
    if channel == OutboundMessage.Channel.SMS:
        try:
            return phone_normalize(recipient)
        except ValidationError as error:
            raise ValidationError({"recipient": error.messages}) from error
    if channel == OutboundMessage.Channel.EMAIL:
        email = (recipient or "").strip().lower()
        try:
            validate_email(email)
        except ValidationError as error:
            raise ValidationError(
                {"recipient": _("Enter an email address, like name@example.com.")}
            ) from error
        return email
    raise ValidationError({"channel": _("Choose email or text message.")})


def recipient_mask(*, channel: str, recipient: str) -> str:
    """'+15025550123' → '•••-•••-0123'; 'jane@example.org' → 'j•••@example.org'."""
    if channel == OutboundMessage.Channel.SMS:
        return f"•••-•••-{recipient[-4:]}"
    local, _at, domain = recipient.partition("@")
    return f"{local[:1]}•••@{domain}"


def _shorten(text: str, length: int) -> str:
    length = max(length, SMS_SHORTEST_FIELD)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


SHORTENED_FIELDS = ("service_name", "organization", "address")


def _sms_context(*, context: dict[str, Any], language: str) -> dict[str, Any]:
    """The context with its longest texts cut to one length, so that the message fits SMS_MAX_CHARS.

    The link, the phone and the opt-out line are never cut.
    """
    fitted = dict(context)
    for _attempt in range(3):
        with translation.override(language):
            body = render_to_string(f"notifications/{SHARE_TEMPLATE}.sms.txt", fitted).strip()
        excess = len(body) - SMS_MAX_CHARS
        if excess <= 0:
            break
        lengths = [len(fitted[name]) for name in SHORTENED_FIELDS]
        cap = max(lengths)
        while cap > SMS_SHORTEST_FIELD and sum(max(0, length - cap) for length in lengths) < excess:
            cap -= 1
        fitted.update({name: _shorten(fitted[name], cap) for name in SHORTENED_FIELDS})
    return fitted


@transaction.atomic
def service_share(
    *,
    service: Service,
    channel: str,
    recipient: str,
    language: str,
    link: str,
    client_key: str | None,
    location: Location | None = None,
) -> OutboundMessage:
    """Write one outbox message that shares a listing with `recipient`, in `language`.

    Both limits are counted in this transaction: if either is already used up, it raises
    ShareLimitExceededError and the rollback leaves neither the counters nor the outbox changed.
    Raises ValidationError for a bad recipient or a listing that cannot be shared.
    """
    if service.status not in SHAREABLE_STATUSES:
        raise ValidationError(_("This service is no longer listed."))
    if location is not None and not service.service_at_locations.filter(location=location).exists():
        raise ValidationError(_("This service is not offered at that location."))
    recipient = recipient_normalize(channel=channel, recipient=recipient)

    client_hit = rate_limit_hit(
        key=rate_limit_key("share-client", client_key or "unknown"),
        limit=settings.DIRECTORY_SHARE_LIMIT_PER_CLIENT,
        window_seconds=settings.DIRECTORY_SHARE_CLIENT_WINDOW_SECONDS,
    )
    if not client_hit.allowed:
        raise ShareLimitExceededError(
            scope=ShareLimitExceededError.CLIENT, retry_after_seconds=client_hit.retry_after_seconds
        )
    recipient_hit = rate_limit_hit(
        key=rate_limit_key("share-recipient", channel, recipient),
        limit=settings.DIRECTORY_SHARE_LIMIT_PER_RECIPIENT,
        window_seconds=settings.DIRECTORY_SHARE_RECIPIENT_WINDOW_SECONDS,
    )
    if not recipient_hit.allowed:
        raise ShareLimitExceededError(
            scope=ShareLimitExceededError.RECIPIENT, retry_after_seconds=recipient_hit.retry_after_seconds
        )

    context = {**listing_summary(service=service, location=location).as_context(), "link": link}
    if channel == OutboundMessage.Channel.SMS:
        context = _sms_context(context=context, language=language)
    message = message_queue(
        channel=channel, recipient=recipient, template=SHARE_TEMPLATE, context=context, language=language
    )
    logger.info("Listing %s shared by %s (outbox message %s)", service.pk, channel, message.pk)
    return message
