"""The emails and text messages of routing: offers and reminders (with the helper's secret link, put in
only when sent), passcodes, misses, and what the requester and administrators are told.

Each function queues outbox rows inside the caller's transaction (DESIGN §5.5), in the recipient's
language: a helper's account language, a requester's `message_language`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from kynect.accounts.models import Role
from kynect.accounts.selectors import users_with_role
from kynect.core import clock
from kynect.core.codes import MASKED_CODE, code_for_message
from kynect.notifications.delivery import send_time_context_register
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import (
    MessageSpec,
    email_queue,
    messages_queue,
    sms_is_opted_out,
    sms_queue,
)
from kynect.ondemand.confirmation import MASKED_LINK_PART, local_time_text
from kynect.ondemand.models import (
    OFFER_LINK,
    Helper,
    HelpRequest,
    MobileVerification,
    Offer,
    OfferMessage,
    OfferPasscode,
)
from kynect.ondemand.selectors import help_request_caller

OFFER_TEMPLATE = "ondemand/offer"
OFFER_REMINDER_TEMPLATE = "ondemand/offer_reminder"
PASSCODE_TEMPLATE = "ondemand/offer_passcode"
MOBILE_CODE_TEMPLATE = "ondemand/mobile_code"


def helper_language(helper: Helper) -> str:
    return str(getattr(helper.user, "preferred_language", "") or settings.LANGUAGE_CODE)


def helper_can_get_texts(*, helper: Helper) -> bool:
    return bool(helper.phone) and not sms_is_opted_out(phone=helper.phone)


def offer_link(*, offer: Offer, token: str, language: str) -> str:
    with translation.override(language):
        path = reverse("ondemand:offer", kwargs={"offer_id": offer.pk, "token": token})
    return settings.SITE_URL + path


def offer_context(
    *, offer: Offer, help_request: HelpRequest, token: str | None, language: str
) -> dict[str, Any]:
    """What an offer message says: only ZIP code, city, language and program, never who the resident is."""
    with translation.override(language):
        return {
            "kind": offer.kind,
            "general": offer.kind == Offer.Kind.GENERAL,
            "zip_code": help_request.zip_code,
            "city": help_request.city,
            "language": help_request.get_language_display(),
            "program": help_request.get_program_display(),
            "needs_interpreter": offer.needs_interpreter,
            "expires": local_time_text(at=offer.expires_at, time_zone=offer.helper.time_zone),
            "link": offer_link(offer=offer, token=token or MASKED_LINK_PART, language=language),
        }


def offer_notify(*, offer: Offer, help_request: HelpRequest, reminder: bool) -> None:
    offers_notify(offers=[offer], help_request=help_request, reminder=reminder)


def offers_notify(*, offers: Sequence[Offer], help_request: HelpRequest, reminder: bool) -> None:
    """The offers of a round (or a reminder) by each helper's channels: email, and text message unless
    they chose email only. The stored messages have the link masked, so the helpers of a round share
    their renderings; `offer_send_time_context` puts each one's link in when it is sent."""
    template = OFFER_REMINDER_TEMPLATE if reminder else OFFER_TEMPLATE
    specs: list[MessageSpec] = []
    owners: list[Offer] = []
    for offer in offers:
        helper = offer.helper
        language = helper_language(helper)
        context = offer_context(offer=offer, help_request=help_request, token=None, language=language)
        if helper.contact_email:
            specs.append(
                MessageSpec(OutboundMessage.Channel.EMAIL, helper.contact_email, template, context, language)
            )
            owners.append(offer)
        if helper.channel == Helper.Channel.SMS_AND_EMAIL and helper.phone:
            specs.append(MessageSpec(OutboundMessage.Channel.SMS, helper.phone, template, context, language))
            owners.append(offer)
    sent = messages_queue(specs)
    OfferMessage.objects.bulk_create(
        [
            OfferMessage(message_id=message.pk, offer=owner)
            for message, owner in zip(sent, owners, strict=True)
        ]
    )


def _offer_send_time_context(message: OutboundMessage) -> dict[str, Any] | None:
    """The real link, or None (withdrawn) once the offer is no longer pending or has expired."""
    link = OfferMessage.objects.filter(message_id=message.pk).select_related(
        "offer__helper", "offer__help_request"
    )
    offer_message = link.first()
    if offer_message is None:
        return None
    offer = offer_message.offer
    if offer.status != Offer.Status.PENDING or offer.expires_at <= clock.now() or not offer.link_key:
        return None
    token = OFFER_LINK.derive(row_id=offer.pk, key=offer.link_key)
    return offer_context(offer=offer, help_request=offer.help_request, token=token, language=message.language)


send_time_context_register(OFFER_TEMPLATE)(_offer_send_time_context)
send_time_context_register(OFFER_REMINDER_TEMPLATE)(_offer_send_time_context)


def passcode_queue(*, helper: Helper) -> OutboundMessage:
    """The passcode after a link accept, masked: `_passcode_send_time_context` puts it in when sent."""
    return sms_queue(
        to=helper.phone,
        template=PASSCODE_TEMPLATE,
        context={"code": MASKED_CODE, "minutes": settings.ONDEMAND_PASSCODE_SECONDS // 60},
        language=helper_language(helper),
    )


@send_time_context_register(PASSCODE_TEMPLATE)
def _passcode_send_time_context(message: OutboundMessage) -> dict[str, Any] | None:
    passcode = code_for_message(model=OfferPasscode, message_id=message.pk, now=clock.now())
    if passcode is None:
        return None
    return {"code": passcode.code_derive(), "minutes": settings.ONDEMAND_PASSCODE_SECONDS // 60}


def mobile_code_queue(*, phone: str, language: str) -> OutboundMessage:
    """The code that verifies a helper's mobile number, masked: `_mobile_code_send_time_context` puts it
    in when sent (ADR 0014)."""
    return sms_queue(
        to=phone,
        template=MOBILE_CODE_TEMPLATE,
        context={"code": MASKED_CODE, "minutes": settings.ONDEMAND_MOBILE_CODE_TTL_SECONDS // 60},
        language=language,
    )


@send_time_context_register(MOBILE_CODE_TEMPLATE)
def _mobile_code_send_time_context(message: OutboundMessage) -> dict[str, Any] | None:
    verification = code_for_message(model=MobileVerification, message_id=message.pk, now=clock.now())
    if verification is None:
        return None
    minutes = max(1, round((verification.expires_at - verification.created_at).total_seconds() / 60))
    return {"code": verification.code_derive(), "minutes": minutes}


def _to_helper(helper: Helper, template: str, context: dict[str, Any]) -> None:
    language = helper_language(helper)
    if helper.contact_email:
        email_queue(to=helper.contact_email, template=template, context=context, language=language)
    if helper.channel == Helper.Channel.SMS_AND_EMAIL and helper.phone:
        sms_queue(to=helper.phone, template=template, context=context, language=language)


def _site_link(name: str) -> str:
    return settings.SITE_URL + reverse(name)


def helper_unavailable_notify(*, helper: Helper) -> None:
    """A General offer was missed: the helper is now unavailable until they switch back."""
    _to_helper(helper, "ondemand/helper_unavailable", {"link": _site_link("ondemand:home")})


def helper_missed_notify(*, helper: Helper, deregistered: bool) -> None:
    """The warning after the second miss in a row, or the de-registration after the third."""
    _to_helper(
        helper,
        "ondemand/helper_deregistered" if deregistered else "ondemand/helper_missed_warning",
        {"link": _site_link("ondemand:home"), "misses": helper.consecutive_misses},
    )


def helper_reassigned_notify(*, help_request: HelpRequest, helper: Helper) -> None:
    _to_helper(
        helper,
        "ondemand/help_request_reassigned",
        {
            "zip_code": help_request.zip_code,
            "city": help_request.city,
            "link": _site_link("ondemand:referrals"),
        },
    )


def dial_reminder_notify(*, help_request: HelpRequest) -> None:
    """The accepted helper has logged no call yet (ADR 0044): call by the time the resident was promised.
    No personal data: the ZIP code and a link to the Referral Manager."""
    helper = help_request.accepted_helper
    if helper is None:
        return
    with translation.override(helper_language(helper)):
        call_by = local_time_text(at=help_request.sla_due_at, time_zone=helper.time_zone)
    _to_helper(
        helper,
        "ondemand/help_request_dial_reminder",
        {"zip_code": help_request.zip_code, "call_by": call_by, "link": _site_link("ondemand:referrals")},
    )


def _to_requester(help_request: HelpRequest, template: str, context: dict[str, Any]) -> None:
    language = help_request.message_language
    if help_request.contact_method == HelpRequest.ContactMethod.EMAIL and help_request.email:
        email_queue(to=help_request.email, template=template, context=context, language=language)
    else:
        sms_queue(to=help_request.phone, template=template, context=context, language=language)


def requester_accepted_notify(*, help_request: HelpRequest, helper: Helper) -> None:
    """Who will call the requester, and from which number."""
    help_request.accepted_helper = helper
    caller = help_request_caller(help_request=help_request)
    if caller is None:
        return
    _to_requester(
        help_request, "ondemand/help_request_accepted", {"caller": caller.name, "phone": caller.phone}
    )


def requester_unserved_notify(*, help_request: HelpRequest) -> None:
    _to_requester(
        help_request,
        "ondemand/help_request_unserved",
        {"name": help_request.name, "call_centre": settings.ONDEMAND_CALL_CENTRE_PHONE},
    )


def escalation_notify(*, help_request: HelpRequest) -> None:
    """No contact logged by the due time: the helper's agency admins (if any) and every state
    administrator get a link to the request (no personal data in the message)."""
    helper = help_request.accepted_helper
    recipients = {user.email: user for user in users_with_role(role=Role.STATE_ADMIN) if user.email}
    if helper is not None and helper.organization_id is not None:
        agency = users_with_role(role=Role.AGENCY_ADMIN, organization=helper.organization_id)
        recipients.update({user.email: user for user in agency if user.email})
    context = {
        "status": help_request.status,
        "in_progress": help_request.status == HelpRequest.Status.IN_PROGRESS,
        "zip_code": help_request.zip_code,
        "link": _site_link("ondemand:oversight"),
    }
    for email, user in sorted(recipients.items()):
        email_queue(
            to=email,
            template="ondemand/help_request_escalated",
            context=context,
            language=str(user.preferred_language or settings.LANGUAGE_CODE),
        )
