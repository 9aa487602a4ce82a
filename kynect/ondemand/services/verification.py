"""One-time codes of On Demand: the code that verifies a helper's mobile number, and the passcode a
helper enters after accepting an offer from a link (DESIGN §5.4). Both are made, hashed and put into the
text message without ever being stored (ADR 0014).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.core import clock
from kynect.core.codes import CodeCheck, CodeOutcome, code_check, code_cooldown_left, code_issue
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key
from kynect.ondemand import messages
from kynect.ondemand.models import Helper, HelpRequest, MobileVerification, Offer, OfferPasscode

# --- A helper's mobile number ----------------------------------------------------------------------


def _cooldown_error(seconds: int, *, passcode: bool) -> str:
    if passcode:
        return _("We just sent a passcode. You can ask for a new one in %(seconds)s seconds.") % {
            "seconds": seconds
        }
    return _("We just sent a code. You can ask for a new one in %(seconds)s seconds.") % {"seconds": seconds}


def mobile_code_issue(*, helper: Helper, phone: str, phone_source: str) -> MobileVerification:
    """Replace any open code with a new one and queue the text message. Needs the helper row locked."""
    now = clock.now()
    # The wait applies between codes for the same verification, not after a number was verified.
    latest = MobileVerification.objects.filter(helper=helper, verified_at__isnull=True).order_by(
        "-created_at"
    )
    cooldown = timedelta(seconds=settings.ONDEMAND_MOBILE_CODE_RESEND_SECONDS)
    seconds = code_cooldown_left(latest=latest.first(), cooldown=cooldown, now=now)
    if seconds:
        raise ValidationError(_cooldown_error(seconds, passcode=False), code="cooldown")
    daily = rate_limit_hit(
        key=rate_limit_key("ondemand-mobile-code", str(helper.pk)),
        limit=settings.ONDEMAND_MOBILE_CODES_PER_DAY,
        window_seconds=24 * 3600,
    )
    if not daily.allowed:
        raise ValidationError(
            _("Too many codes were sent today. Try again tomorrow, or call the kynect help line."),
            code="daily_limit",
        )
    language = helper.user.preferred_language or translation.get_language()
    verification = code_issue(
        code=MobileVerification(helper=helper, phone=phone, phone_source=phone_source),
        owned=MobileVerification.objects.filter(helper=helper),
        ttl=timedelta(seconds=settings.ONDEMAND_MOBILE_CODE_TTL_SECONDS),
        now=now,
        queue=lambda: messages.mobile_code_queue(phone=phone, language=language),
    )
    assert isinstance(verification, MobileVerification)
    return verification


@transaction.atomic
def mobile_code_resend(*, helper: Helper) -> MobileVerification:
    """Send a new code to the number waiting to be verified (after the cooldown)."""
    helper = Helper.objects.select_for_update(of=("self",)).select_related("user").get(pk=helper.pk)
    latest = (
        MobileVerification.objects.filter(helper=helper, verified_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if latest is None:
        raise ValidationError(
            _("There is no mobile number waiting to be verified. Enter your contact information.")
        )
    return mobile_code_issue(helper=helper, phone=latest.phone, phone_source=latest.phone_source)


def mobile_code_verify(*, helper: Helper, code: str) -> Helper:
    """Check a code (`kynect.core.codes.code_check`). Right: the number becomes the helper's mobile
    phone. Wrong: one attempt used up, kept even though a ValidationError follows (raised after commit)."""
    now = clock.now()
    with transaction.atomic():
        check = code_check(
            owned=MobileVerification.objects.filter(helper=helper),
            entered="".join(code.split()),
            max_attempts=settings.ONDEMAND_MOBILE_CODE_MAX_ATTEMPTS,
            now=now,
        )
        if check.outcome is CodeOutcome.RIGHT:
            assert isinstance(check.code, MobileVerification)
            helper = Helper.objects.select_for_update(of=("self",)).get(pk=helper.pk)
            helper.phone = check.code.phone
            helper.phone_source = check.code.phone_source
            helper.phone_verified_at = now
            helper.contact_completed_at = helper.contact_completed_at or now
            helper.full_clean()
            helper.save()
            return helper
    if check.outcome is CodeOutcome.WRONG:
        raise ValidationError(
            _("That code is not right. You have %(left)s tries left.") % {"left": check.left}, code="wrong"
        )
    if check.outcome is CodeOutcome.LOCKED:
        raise ValidationError(_("Too many wrong codes. Ask for a new code."), code="locked")
    raise ValidationError(_("This code has expired or was replaced. Ask for a new code."), code="expired")


# --- The passcode after a link accept ---------------------------------------------------------------


def offer_accept_settle(*, offer: Offer, help_request: HelpRequest, now: datetime) -> None:
    """A desktop accept, or a link accept whose passcode was verified: misses reset, requester told."""
    Helper.objects.filter(pk=offer.helper_id).update(consecutive_misses=0, updated_at=now)
    messages.requester_accepted_notify(help_request=help_request, helper=offer.helper)
    # The reminder to call (ADR 0044): at minute N of the clock if no call is logged by then. Accepted
    # later than that, the helper has just been told the call-by time, so there is no reminder.
    minutes = settings.ONDEMAND_DIAL_REMINDER_MINUTES
    remind_at = help_request.clock_starts_at + timedelta(minutes=minutes)
    if minutes and remind_at > now and help_request.first_contact_at is None:
        HelpRequest.objects.filter(pk=help_request.pk).update(dial_remind_at=remind_at, dial_reminded_at=None)
        help_request.dial_remind_at, help_request.dial_reminded_at = remind_at, None


class PasscodeError(Exception):
    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _accepted_offer(offer_id: Any, helper: Helper | None, now: datetime) -> Offer:
    offer = Offer.objects.select_related("helper__user", "help_request").filter(pk=offer_id).first()
    if offer is None:
        raise PasscodeError(_("This referral offer does not exist."), code="missing")
    if helper is not None and offer.helper_id != helper.pk:
        raise PermissionDenied
    help_request = offer.help_request
    if (
        offer.status != Offer.Status.ACCEPTED
        or help_request.status != HelpRequest.Status.IN_PROGRESS
        or help_request.accepted_helper_id != offer.helper_id
    ):
        raise PasscodeError(_("This referral is no longer yours."), code="closed")
    if offer.verified_at is None and offer.verify_due_at is not None and offer.verify_due_at <= now:
        raise PasscodeError(
            _("You did not enter the passcode in time, so the referral went to another helper."), code="late"
        )
    return offer


def offer_passcode_send(*, offer: Offer, now: datetime | None = None, resend: bool = True) -> OfferPasscode:
    """A new passcode by text message to the helper's verified number; older ones stop working.

    A Resend within ONDEMAND_PASSCODE_RESEND_SECONDS of the last code is refused (PasscodeError).
    """
    now = now or clock.now()
    with transaction.atomic():
        if transaction.get_connection().features.has_select_for_update:
            # Two Resends at once: one waits for the other, then meets the cooldown.
            Offer.objects.select_for_update().filter(pk=offer.pk).first()
        offer = _accepted_offer(offer.pk, None, now)
        if resend:
            cooldown = timedelta(seconds=settings.ONDEMAND_PASSCODE_RESEND_SECONDS)
            latest = offer.passcodes.order_by("-created_at").first()
            seconds = code_cooldown_left(latest=latest, cooldown=cooldown, now=now)
            if seconds:
                raise PasscodeError(_cooldown_error(seconds, passcode=True), code="cooldown")
        passcode = code_issue(
            code=OfferPasscode(offer=offer),
            owned=offer.passcodes.all(),
            ttl=timedelta(seconds=settings.ONDEMAND_PASSCODE_SECONDS),
            now=now,
            queue=lambda: messages.passcode_queue(helper=offer.helper),
        )
    assert isinstance(passcode, OfferPasscode)
    return passcode


def offer_passcode_verify(*, offer_id: Any, code: str, now: datetime | None = None) -> Offer:
    """Check the passcode (`kynect.core.codes.code_check`): at most ONDEMAND_PASSCODE_MAX_ATTEMPTS tries
    per code, within its time, once.

    On success the accept is settled (misses reset, the requester told who will call) and the Customer
    Details page opens for ONDEMAND_DETAILS_SECONDS. Raises PasscodeError with a message otherwise; a
    wrong try stays counted (the error is raised after the commit).
    """
    now = now or clock.now()
    with transaction.atomic():
        offer = _accepted_offer(offer_id, None, now)
        check = code_check(
            owned=OfferPasscode.objects.filter(offer=offer),
            entered="".join((code or "").split()),
            max_attempts=settings.ONDEMAND_PASSCODE_MAX_ATTEMPTS,
            now=now,
            malformed_counts=False,
        )
        if check.outcome is CodeOutcome.RIGHT:
            first = offer.verified_at is None
            details_until = now + timedelta(seconds=settings.ONDEMAND_DETAILS_SECONDS)
            verified_at = now if first else offer.verified_at
            Offer.objects.filter(pk=offer.pk).update(
                verified_at=verified_at, verify_due_at=None, details_until=details_until, updated_at=now
            )
            offer.verified_at, offer.verify_due_at, offer.details_until = verified_at, None, details_until
            if first:
                offer_accept_settle(offer=offer, help_request=offer.help_request, now=now)
            return offer
    raise _passcode_error(check)


def _passcode_error(check: CodeCheck) -> PasscodeError:
    if check.outcome is CodeOutcome.EXPIRED:
        return PasscodeError(_("This passcode expired. Press Resend for a new one."), code="expired")
    if check.outcome is CodeOutcome.MALFORMED:
        return PasscodeError(_("Enter the 6-digit passcode from the text message."), code="format")
    if check.outcome is CodeOutcome.WRONG:
        return PasscodeError(
            _("That passcode is wrong. %(left)s tries left.") % {"left": check.left}, code="wrong"
        )
    if check.outcome is CodeOutcome.LOCKED:
        return PasscodeError(
            _("That passcode is wrong, and that was the last try for it. Press Resend for a new one."),
            code="locked",
        )
    return PasscodeError(_("This passcode can no longer be used. Press Resend for a new one."), code="none")


def offer_details_open(*, offer: Offer, now: datetime | None = None) -> bool:
    """Whether the Customer Details page may be shown from the link: a verified passcode in the last
    ONDEMAND_DETAILS_SECONDS, on an offer still accepted for a request still this helper's."""
    now = now or clock.now()
    return bool(
        offer.status == Offer.Status.ACCEPTED
        and offer.details_until is not None
        and offer.details_until > now
        and offer.help_request.accepted_helper_id == offer.helper_id
        and offer.help_request.status in (*HelpRequest.OPEN_STATUSES, HelpRequest.Status.COMPLETE)
    )
