"""Writes for residents' help requests (DESIGN §5.4): submitting (confirmed by the requester's channel
and handed to routing), cancelling, and the accepted helper's work on it (call attempts, completion),
and reassignment by an administrator. Status changes are transitions of `ondemand.lifecycles.HELP_REQUEST`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kynect.accounts.models import ApiToken, Role, User
from kynect.accounts.selectors import is_state_admin, user_has_role
from kynect.core import clock
from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.core.names import name_validate
from kynect.core.phones import phone_normalize
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key
from kynect.notifications.delivery import SUPPORTED_LANGUAGES
from kynect.notifications.services import email_queue, sms_queue
from kynect.ondemand import messages
from kynect.ondemand.confirmation import CONFIRMATION_TEMPLATE, confirmation_context
from kynect.ondemand.lifecycles import HELP_REQUEST
from kynect.ondemand.models import (
    HELP_REQUEST_LINK,
    CallAttempt,
    Helper,
    HelpRequest,
    Language,
    RequestedProgram,
)
from kynect.ondemand.selectors import help_request_call_by, help_request_open_for_phone
from kynect.ondemand.services.helpers import waiting_requests_nudge
from kynect.ondemand.services.offers import help_request_lock, offers_rescind

logger = logging.getLogger(__name__)


class DuplicateHelpRequestError(Exception):
    """The phone number already has an open request (`help_request_open_for_phone`)."""

    def __init__(self, existing: HelpRequest) -> None:
        super().__init__("duplicate help request")
        self.existing = existing


class HelpRequestLimitError(Exception):
    """Too many requests from this client address or API key in the current window."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("help request limit")
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class SubmittedHelpRequest:
    help_request: HelpRequest
    token: str  # the secret of the requester's link; exists in clear only here and in their message


def _help_request_clean(
    *,
    name: str,
    phone: str,
    email: str,
    contact_method: str,
    language: str,
    zip_code: str,
    program: str,
    consent: bool,
) -> tuple[dict[str, Any], Any]:
    """Checks every field at once; raises ValidationError with a message per field."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"name": " ".join((name or "").split()), "email": (email or "").strip()}
    if not values["name"]:
        errors["name"] = [_("Enter your name.")]
    elif len(values["name"]) > 150:
        errors["name"] = [_("Enter a name of at most 150 characters.")]
    else:
        try:
            name_validate(values["name"])
        except ValidationError as error:
            errors["name"] = list(error.messages)
    try:
        values["phone"] = phone_normalize(phone)
    except ValidationError as error:
        errors["phone"] = list(error.messages)
    if contact_method not in HelpRequest.ContactMethod.values:
        errors["contact_method"] = [_("Choose how you want to be contacted.")]
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            errors["email"] = [_("Enter an email address, like name@example.com.")]
    elif contact_method == HelpRequest.ContactMethod.EMAIL:
        errors["email"] = [_("Enter your email address: you chose to be contacted by email.")]
    if language not in Language.values:
        errors["language"] = [_("Choose the language you want help in.")]
    if program not in RequestedProgram.values:
        errors["program"] = [_("Choose what you need help with.")]
    if consent is not True:
        errors["consent"] = [_("Tick the box to agree to be contacted: we cannot call you back without it.")]
    info = None
    try:
        info = zip_lookup(zip_code or "")
    except UnknownZipCodeError as error:
        errors["zip_code"] = [str(error)]
    else:
        if info.county is None:
            errors["zip_code"] = [
                _(
                    "%(zip)s is not a Kentucky ZIP code. kynect On Demand helps people who live in "
                    "Kentucky: enter your Kentucky ZIP code."
                )
                % {"zip": info.zip_code}
            ]
    if errors:
        raise ValidationError(errors)
    return values, info


def help_request_submit(
    *,
    name: str,
    phone: str,
    email: str,
    contact_method: str,
    language: str,
    zip_code: str,
    program: str,
    consent: bool,
    message_language: str,
    client_key: str | None = None,
    api_key: ApiToken | None = None,
) -> SubmittedHelpRequest:
    """Record a resident's request for a call back, confirm it by their preferred channel, and hand it
    to routing: the workers route it from its `route_at` (`services.sweeps.help_requests_route`).

    Raises ValidationError (a message per field) for bad input, HelpRequestLimitError over the rate
    limit (per client address on the web, per API token on the API unless the token is exempt), and
    DuplicateHelpRequestError when the phone number already has an open request. Bad input counts
    against no limit and changes nothing; the limit counts every well-formed attempt, duplicates
    included, so the duplicate answer cannot be used to probe phone numbers quickly.
    """
    values, info = _help_request_clean(
        name=name,
        phone=phone,
        email=email,
        contact_method=contact_method,
        language=language,
        zip_code=zip_code,
        program=program,
        consent=consent,
    )
    if api_key is None or api_key.rate_limited:
        hit = rate_limit_hit(
            key=(
                rate_limit_key("ondemand-help-api-key", str(api_key.pk))
                if api_key is not None
                else rate_limit_key("ondemand-help-client", client_key or "unknown")
            ),
            limit=(
                settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_API_KEY
                if api_key is not None
                else settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT
            ),
            window_seconds=(
                settings.ONDEMAND_HELP_REQUEST_API_KEY_WINDOW_SECONDS
                if api_key is not None
                else settings.ONDEMAND_HELP_REQUEST_CLIENT_WINDOW_SECONDS
            ),
        )
        if not hit.allowed:
            raise HelpRequestLimitError(hit.retry_after_seconds)

    now = clock.now()
    call_by = help_request_call_by(at=now)
    waiting_limit = max(settings.ONDEMAND_WAITING_LIMIT_MINUTES, settings.ONDEMAND_CALLBACK_MINUTES)
    message_language = message_language if message_language in SUPPORTED_LANGUAGES else settings.LANGUAGE_CODE
    help_request = HelpRequest(
        **values,
        contact_method=contact_method,
        language=language,
        message_language=message_language,
        zip_code=info.zip_code,
        city=info.city,
        county_fips=info.county.fips,
        time_zone=info.time_zone,
        latitude=info.latitude,
        longitude=info.longitude,
        program=program,
        consent_given_at=now,
        consent_version=settings.ONDEMAND_CONSENT_VERSION,
        submitted_at=now,
        clock_starts_at=call_by.clock_starts_at,
        sla_due_at=call_by.call_by,
        unserved_at=call_by.clock_starts_at + timedelta(minutes=waiting_limit),
        source=HelpRequest.Source.API if api_key is not None else HelpRequest.Source.WEB,
        api_key=api_key,
    )
    help_request.link_key, token, help_request.token_hash = HELP_REQUEST_LINK.issue(row_id=help_request.pk)
    # The request waits for a helper from now. The workers' routing loop takes it at `route_at` (ADR 0036):
    # at once, or at the opening of service hours; a rolled-back request is never seen, so never offered.
    help_request.waiting_since = now
    help_request.route_at = max(now, help_request.clock_starts_at)
    # The database enforces uniqueness and the constraints; the token was read from its row just now.
    help_request.full_clean(exclude=["api_key"], validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        existing = help_request_open_for_phone(phone=help_request.phone, now=now)
        if existing is not None:
            raise DuplicateHelpRequestError(existing)
        help_request.confirmation_message_id = _help_request_confirm(help_request=help_request)
        try:
            with transaction.atomic():
                help_request.save(force_insert=True)
        except IntegrityError:
            # Another request from this phone won the race for the one Pending slot. Leaving the outer
            # block by this error rolls the confirmation back too.
            existing = help_request_open_for_phone(phone=help_request.phone, now=now)
            if existing is None:
                raise
            raise DuplicateHelpRequestError(existing) from None
    logger.info("Help request %s submitted (%s)", help_request.pk, help_request.source)
    return SubmittedHelpRequest(help_request=help_request, token=token)


def _help_request_confirm(*, help_request: HelpRequest) -> uuid.UUID:
    """Queue the confirmation by the requester's preferred channel; returns the message's id. The outbox
    keeps it with the secret links masked; the links go in only when it is sent
    (`confirmation.confirmation_send_time_context`)."""
    language = help_request.message_language
    context = confirmation_context(help_request=help_request, token=None)
    if help_request.contact_method == HelpRequest.ContactMethod.EMAIL:
        message = email_queue(
            to=help_request.email, template=CONFIRMATION_TEMPLATE, context=context, language=language
        )
    else:
        message = sms_queue(
            to=help_request.phone, template=CONFIRMATION_TEMPLATE, context=context, language=language
        )
    return message.pk


def help_request_cancel(*, help_request: HelpRequest) -> HelpRequest:
    """The requester cancels: Pending → Cancelled, by a conditional update on the status.

    Raises ValidationError when the request is no longer Pending (a helper accepted it, or it closed).
    """
    now = clock.now()
    with transaction.atomic():
        cancelled = HELP_REQUEST.apply("cancel", instance=help_request, now=now)
        if cancelled:
            offers_rescind(help_request=help_request, keep=None, now=now)
    if not cancelled:
        help_request.refresh_from_db()
        if help_request.status == HelpRequest.Status.CANCELLED:
            raise ValidationError(_("This request is already cancelled."))
        raise ValidationError(
            _("This request can no longer be cancelled: it is %(status)s.")
            % {"status": help_request.get_status_display()}
        )
    return help_request


# --- Working the request ---------------------------------------------------------------------------


def _own_request(help_request_id: Any, helper: Helper) -> HelpRequest:
    help_request = help_request_lock(help_request_id)
    if help_request is None or help_request.accepted_helper_id != helper.pk:
        raise PermissionDenied
    if help_request.status != HelpRequest.Status.IN_PROGRESS:
        raise ValidationError(
            _("This request is %(status)s: it cannot be changed.")
            % {"status": help_request.get_status_display()}
        )
    return help_request


@transaction.atomic
def call_attempt_log(
    *, help_request_id: Any, helper: Helper, result: str, note: str = "", now: datetime | None = None
) -> CallAttempt:
    """Log a call attempt; the first one stops the 30-minute clock (`first_contact_at`)."""
    now = now or clock.now()
    help_request = _own_request(help_request_id, helper)
    if result not in CallAttempt.Result.values:
        raise ValidationError({"result": _("Choose what happened on the call.")})
    attempt = CallAttempt(
        help_request=help_request, helper=helper, at=now, result=result, note=(note or "").strip()
    )
    attempt.full_clean()
    attempt.save()
    first = HelpRequest.objects.filter(pk=help_request.pk, first_contact_at__isnull=True).update(
        first_contact_at=now, updated_at=now
    )
    if first and settings.ONDEMAND_DIAL_REMINDER_MINUTES:
        waiting_requests_nudge(now=now)  # no longer holding a request not yet called (ADR 0044)
    return attempt


@transaction.atomic
def help_request_complete(
    *, help_request_id: Any, helper: Helper, outcome: str, now: datetime | None = None
) -> HelpRequest:
    """In Progress → Complete with an outcome, by the helper who accepted it."""
    now = now or clock.now()
    help_request = _own_request(help_request_id, helper)
    if outcome not in HelpRequest.Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    if help_request.first_contact_at is None and outcome != HelpRequest.Outcome.UNABLE_TO_REACH:
        raise ValidationError(
            {"outcome": _("Log your call to the resident first: the outcome comes from that call.")}
        )
    HELP_REQUEST.apply(
        "complete",
        instance=help_request,
        now=now,
        values={"outcome": outcome},
        event={"actor_id": helper.user_id},
    )
    if settings.ONDEMAND_CAPACITY_MINUTES:
        waiting_requests_nudge(now=now)  # off the call, free for a General offer again (ADR 0044)
    return help_request


def can_reassign(*, actor: User, help_request: HelpRequest) -> bool:
    """State administrators may reassign any request; an agency admin, their agency's helpers' requests."""
    if is_state_admin(user=actor):
        return True
    helper = help_request.accepted_helper
    return bool(
        helper is not None
        and helper.organization_id is not None
        and user_has_role(user=actor, role=Role.AGENCY_ADMIN, organization=helper.organization_id)
    )


@transaction.atomic
def help_request_reassign(
    *, help_request_id: Any, actor: User, to_helper: Helper, now: datetime | None = None
) -> HelpRequest:
    """An agency admin (within their agency) or a state administrator gives an In Progress request to
    another registered helper. The new helper is told, and the requester is told who will call now."""
    now = now or clock.now()
    help_request = help_request_lock(help_request_id)
    if help_request is None or not can_reassign(actor=actor, help_request=help_request):
        raise PermissionDenied
    if help_request.status != HelpRequest.Status.IN_PROGRESS:
        raise ValidationError(_("Only a request In Progress can be reassigned."))
    if to_helper.status != Helper.Status.REGISTERED:
        raise ValidationError({"helper": _("Choose a registered helper.")})
    current = help_request.accepted_helper
    if not is_state_admin(user=actor) and (
        current is None or to_helper.organization_id != current.organization_id
    ):
        raise ValidationError({"helper": _("Choose a helper of your agency.")})
    if to_helper.pk == help_request.accepted_helper_id:
        raise ValidationError({"helper": _("This helper already has the request.")})
    HELP_REQUEST.apply(  # accepted_at stays: the time to accept is measured from it
        "reassign",
        instance=help_request,
        now=now,
        values={"accepted_helper": to_helper},
        event={"actor_id": actor.pk},
    )
    messages.helper_reassigned_notify(help_request=help_request, helper=to_helper)
    messages.requester_accepted_notify(help_request=help_request, helper=to_helper)
    return help_request


# --- The sweeper's deadlines (DESIGN §5.6) ---------------------------------------------------------
