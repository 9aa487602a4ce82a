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
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.core import clock
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key
from kynect.notifications.services import sms_queue
from kynect.ondemand import messages
from kynect.ondemand import verification as codes
from kynect.ondemand.models import Helper, HelpRequest, MobileVerification, Offer, OfferPasscode
from kynect.ondemand.selectors import mobile_verification_open

# --- A helper's mobile number ----------------------------------------------------------------------


def mobile_code_issue(*, helper: Helper, phone: str, phone_source: str) -> MobileVerification:
    """Replace any open code with a new one and queue the text message. Needs the helper row locked."""
    now = clock.now()
    # The wait applies between codes for the same verification, not after a number was verified.
    latest = (
        MobileVerification.objects.filter(helper=helper, verified_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    cooldown = timedelta(seconds=settings.ONDEMAND_MOBILE_CODE_RESEND_SECONDS)
    if latest is not None and latest.created_at + cooldown > now:
        seconds = int((latest.created_at + cooldown - now).total_seconds()) + 1
        raise ValidationError(
            _("We just sent a code. You can ask for a new one in %(seconds)s seconds.")
            % {"seconds": seconds},
            code="cooldown",
        )
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
    MobileVerification.objects.filter(helper=helper, verified_at__isnull=True, closed_at__isnull=True).update(
        closed_at=now, code_key=""
    )
    verification = MobileVerification(
        helper=helper,
        phone=phone,
        phone_source=phone_source,
        code_key=codes.code_key_new(),
        expires_at=now + timedelta(seconds=settings.ONDEMAND_MOBILE_CODE_TTL_SECONDS),
    )
    code = codes.code_derive(verification_id=str(verification.pk), code_key=verification.code_key)
    verification.code_hash = codes.code_hash(verification_id=str(verification.pk), code=code)
    del code
    message = sms_queue(
        to=phone,
        template=codes.MESSAGE_TEMPLATE,
        context={
            "code": codes.MASKED_CODE,
            "minutes": settings.ONDEMAND_MOBILE_CODE_TTL_SECONDS // 60,
        },
        language=helper.user.preferred_language or translation.get_language(),
    )
    verification.message_id = message.pk
    verification.full_clean()
    verification.save()
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
    """Check a code. Right: the number becomes the helper's mobile phone. Wrong: one attempt used up.

    Each attempt is counted by a conditional update that commits on its own, before the check, so
    parallel guesses cannot exceed the limit and a wrong guess's ValidationError does not undo its
    count. Do not call this inside an outer transaction.
    """
    code = "".join(code.split())
    verification = mobile_verification_open(helper=helper)
    if verification is None:
        raise ValidationError(_("This code has expired or was replaced. Ask for a new code."), code="expired")
    counted = MobileVerification.objects.filter(
        pk=verification.pk,
        verified_at__isnull=True,
        closed_at__isnull=True,
        attempts__lt=settings.ONDEMAND_MOBILE_CODE_MAX_ATTEMPTS,
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise ValidationError(_("Too many wrong codes. Ask for a new code."), code="locked")
    matches = (
        len(code) == codes.CODE_DIGITS
        and code.isdigit()
        and codes.code_matches(
            verification_id=str(verification.pk), stored_hash=verification.code_hash, code=code
        )
    )
    if not matches:
        left = settings.ONDEMAND_MOBILE_CODE_MAX_ATTEMPTS - verification.attempts - 1
        if left <= 0:
            MobileVerification.objects.filter(pk=verification.pk).update(closed_at=clock.now(), code_key="")
            raise ValidationError(_("Too many wrong codes. Ask for a new code."), code="locked")
        raise ValidationError(
            _("That code is not right. You have %(left)s tries left.") % {"left": left}, code="wrong"
        )
    with transaction.atomic():
        return _mobile_code_accept(helper=helper, verification=verification)


def _mobile_code_accept(*, helper: Helper, verification: MobileVerification) -> Helper:
    now = clock.now()
    used = MobileVerification.objects.filter(
        pk=verification.pk, verified_at__isnull=True, closed_at__isnull=True
    ).update(verified_at=now, code_key="")
    if not used:
        raise ValidationError(_("This code has expired or was replaced. Ask for a new code."), code="expired")
    helper = Helper.objects.select_for_update(of=("self",)).get(pk=helper.pk)
    helper.phone = verification.phone
    helper.phone_source = verification.phone_source
    helper.phone_verified_at = now
    helper.contact_completed_at = helper.contact_completed_at or now
    helper.full_clean()
    helper.save()
    return helper


# --- The passcode after a link accept ---------------------------------------------------------------


def offer_accept_settle(*, offer: Offer, help_request: HelpRequest, now: datetime) -> None:
    """A desktop accept, or a link accept whose passcode was verified: misses reset, requester told."""
    Helper.objects.filter(pk=offer.helper_id).update(consecutive_misses=0, updated_at=now)
    messages.requester_accepted_notify(help_request=help_request, helper=offer.helper)


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
        if _can_lock():  # two Resends at once: one waits for the other, then meets the cooldown
            Offer.objects.select_for_update().filter(pk=offer.pk).first()
        offer = _accepted_offer(offer.pk, None, now)
        last = offer.passcodes.order_by("-created_at").first()
        if resend and last is not None:
            wait = last.created_at + timedelta(seconds=settings.ONDEMAND_PASSCODE_RESEND_SECONDS) - now
            if wait.total_seconds() > 0:
                raise PasscodeError(
                    _("We just sent a passcode. You can ask for a new one in %(seconds)s seconds.")
                    % {"seconds": int(wait.total_seconds()) + 1},
                    code="cooldown",
                )
        offer.passcodes.filter(used_at__isnull=True, closed_at__isnull=True).update(
            closed_at=now, code_key="", updated_at=now
        )
        passcode = OfferPasscode(
            offer=offer,
            code_key=codes.code_key_new(),
            expires_at=now + timedelta(seconds=settings.ONDEMAND_PASSCODE_SECONDS),
            created_at=now,
        )
        code = codes.code_derive(verification_id=str(passcode.pk), code_key=passcode.code_key)
        passcode.code_hash = codes.code_hash(verification_id=str(passcode.pk), code=code)
        passcode.save(force_insert=True)
        message = messages.passcode_queue(passcode=passcode, helper=offer.helper)
        OfferPasscode.objects.filter(pk=passcode.pk).update(message_id=message.pk)
        passcode.message_id = message.pk
    return passcode


def _can_lock() -> bool:
    return bool(transaction.get_connection().features.has_select_for_update)


def offer_passcode_verify(*, offer_id: Any, code: str, now: datetime | None = None) -> Offer:
    """Check the passcode: at most ONDEMAND_PASSCODE_MAX_ATTEMPTS tries per code, within its time, once.

    On success the accept is settled (misses reset, the requester told who will call) and the Customer
    Details page opens for ONDEMAND_DETAILS_SECONDS. Raises PasscodeError with a message otherwise.
    """
    now = now or clock.now()
    with transaction.atomic():  # a wrong try is counted even though an error follows: raised after commit
        outcome = _passcode_check(offer_id, code, now)
    if isinstance(outcome, PasscodeError):
        raise outcome
    return outcome


def _passcode_check(offer_id: Any, code: str, now: datetime) -> Offer | PasscodeError:
    offer = _accepted_offer(offer_id, None, now)
    query = OfferPasscode.objects.filter(offer=offer, used_at__isnull=True, closed_at__isnull=True)
    if _can_lock():
        query = query.select_for_update()
    passcode = query.order_by("-created_at").first()
    if passcode is None:
        return PasscodeError(
            _("This passcode can no longer be used. Press Resend for a new one."), code="none"
        )
    if passcode.expires_at <= now:
        OfferPasscode.objects.filter(pk=passcode.pk).update(closed_at=now, code_key="", updated_at=now)
        return PasscodeError(_("This passcode expired. Press Resend for a new one."), code="expired")
    cleaned = "".join((code or "").split())
    if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) == codes.CODE_DIGITS):
        return PasscodeError(_("Enter the 6-digit passcode from the text message."), code="format")
    attempts = passcode.attempts + 1
    if not codes.code_matches(verification_id=str(passcode.pk), stored_hash=passcode.code_hash, code=cleaned):
        locked = attempts >= settings.ONDEMAND_PASSCODE_MAX_ATTEMPTS
        OfferPasscode.objects.filter(pk=passcode.pk).update(
            attempts=attempts,
            closed_at=now if locked else None,
            code_key="" if locked else F("code_key"),
            updated_at=now,
        )
        if locked:
            return PasscodeError(
                _("That passcode is wrong, and that was the last try for it. Press Resend for a new one."),
                code="locked",
            )
        left = settings.ONDEMAND_PASSCODE_MAX_ATTEMPTS - attempts
        return PasscodeError(_("That passcode is wrong. %(left)s tries left.") % {"left": left}, code="wrong")
    used = OfferPasscode.objects.filter(pk=passcode.pk, used_at__isnull=True, closed_at__isnull=True).update(
        used_at=now, attempts=attempts, code_key="", updated_at=now
    )
    if not used:
        return PasscodeError(_("This passcode was already used. Press Resend for a new one."), code="used")
    first = offer.verified_at is None
    Offer.objects.filter(pk=offer.pk).update(
        verified_at=F("verified_at") if not first else now,
        verify_due_at=None,
        details_until=now + timedelta(seconds=settings.ONDEMAND_DETAILS_SECONDS),
        updated_at=now,
    )
    offer.refresh_from_db()
    if first:
        offer_accept_settle(offer=offer, help_request=offer.help_request, now=now)
    return offer


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
