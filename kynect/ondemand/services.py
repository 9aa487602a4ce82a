"""Writes for kynect On Demand helpers: registration, contact and mobile verification, schedule, the
active flag, and the Department of Insurance roster import.

Registration is a state machine on `Helper.status`:

    not_registered --helper_register--> registered --helper_deregister--> deregistered
    deregistered --helper_agree_terms--> not_registered (registering again)

Each transition is a conditional update on the old status, so two requests never both apply it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.accounts.models import ApiToken, Membership, User
from kynect.core import clock
from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.core.phones import phone_normalize
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key
from kynect.interop.doi.roster import Roster, RosterProblem, RosterRow
from kynect.notifications.services import SUPPORTED_LANGUAGES, email_queue, sms_queue
from kynect.ondemand import credentials
from kynect.ondemand import verification as codes
from kynect.ondemand.confirmation import CONFIRMATION_TEMPLATE, confirmation_context
from kynect.ondemand.models import (
    KENTUCKY_COUNTY_FIPS,
    MINUTES_PER_DAY,
    Deregistration,
    DoiLicence,
    Helper,
    HelperCounty,
    HelperLanguage,
    HelperProgram,
    HelpRequest,
    Language,
    MobileVerification,
    Program,
    RequestedProgram,
    ScheduleBreak,
    ScheduleWindow,
    TimeOff,
)
from kynect.ondemand.selectors import (
    HELPER_ROLES,
    can_set_agency_active,
    help_request_call_by,
    help_request_open_for_phone,
    helper_memberships,
    helper_problems,
    helper_steps,
    licence_is_eligible,
    mobile_verification_open,
)

logger = logging.getLogger(__name__)

# --- Starting -------------------------------------------------------------------------------------


def helper_start(*, user: User) -> Helper:
    """The user's helper row, created on first visit to the kynect On Demand tab.

    The role is the first the user holds of agent, agency admin, kynector; the agency is that
    membership's organization. Raises PermissionDenied for a user with none of those roles.
    """
    existing = Helper.objects.select_related("licence", "organization", "user").filter(user=user).first()
    if existing is not None:
        return existing
    memberships = {membership.role: membership for membership in helper_memberships(user=user)}
    for accounts_role, helper_role in HELPER_ROLES.items():
        membership = memberships.get(accounts_role)
        if membership is not None:
            helper, _created = Helper.objects.get_or_create(
                user=user, defaults={"role": helper_role, "organization": membership.organization}
            )
            return helper
    raise PermissionDenied


# --- Step 1: Agree to Register ----------------------------------------------------------------------


@transaction.atomic
def helper_agree_terms(*, helper: Helper, npn: str = "") -> Helper:
    """Record agreement to the current terms. Agents name their licence here by NPN.

    The licence must be on the roster, carry the agent's sign-in email address (so nobody claims
    somebody else's licence) and meet the On Demand FAQ's criteria. A de-registered helper who agrees
    again starts registering again.
    """
    helper = (
        Helper.objects.select_for_update(of=("self",)).select_related("user", "licence").get(pk=helper.pk)
    )
    if helper.status == Helper.Status.REGISTERED:
        raise ValidationError(_("You are already registered for kynect On Demand."))
    if helper.role == Helper.Role.AGENT:
        helper.licence = _licence_for_agent(helper=helper, npn=npn)
    problems = helper_problems(helper=helper)
    if problems:
        raise ValidationError(problems)
    now = clock.now()
    helper.terms_version = settings.ONDEMAND_TERMS_VERSION
    helper.terms_agreed_at = now
    if helper.status == Helper.Status.DEREGISTERED:
        helper.status = Helper.Status.NOT_REGISTERED
    helper.full_clean()
    helper.save()
    return helper


def _licence_for_agent(*, helper: Helper, npn: str) -> DoiLicence:
    npn = npn.strip()
    if not npn.isdigit() or len(npn) > 10:
        raise ValidationError({"npn": _("Enter your National Producer Number (NPN): up to 10 digits.")})
    licence = DoiLicence.objects.filter(npn=npn).first()
    if licence is None:
        raise ValidationError(
            {"npn": _("This NPN is not on the Department of Insurance roster. Check it, or contact the DOI.")}
        )
    if licence.email.lower() != str(helper.user.email).lower():
        raise ValidationError(
            {
                "npn": _(
                    "The Department of Insurance has a different email address for this NPN. Sign in "
                    "with the email address the DOI has, or update your contact information in the DOI."
                )
            }
        )
    claimed = Helper.objects.filter(licence=licence).exclude(pk=helper.pk).exists()
    if claimed:
        raise ValidationError({"npn": _("Another account already registered with this NPN.")})
    return licence


# --- Step 2: Preferred Contact Information ----------------------------------------------------------


@dataclass(frozen=True)
class ContactResult:
    helper: Helper
    verification: MobileVerification | None  # a code was sent and must be entered


@transaction.atomic
def helper_contact_update(
    *, helper: Helper, phone: str, phone_source: str, email: str, email_source: str, channel: str
) -> ContactResult:
    """Save the preferred contact information. A new mobile number takes effect once its code is entered.

    Agents enter On Demand contact details; kynectors and agency admins may instead use their sign-in
    account's phone or email.
    """
    helper = Helper.objects.select_for_update(of=("self",)).select_related("user").get(pk=helper.pk)
    if helper.terms_agreed_at is None:
        raise ValidationError(_("First agree to register."))
    errors: dict[str, str] = {}
    sources = {choice.value for choice in Helper.ContactSource}
    if helper.role == Helper.Role.AGENT:
        phone_source = email_source = Helper.ContactSource.ON_DEMAND
    if phone_source not in sources or email_source not in sources:
        raise ValidationError(_("Choose where your contact details come from."))
    if channel not in Helper.Channel.values:
        errors["channel"] = _("Choose how to get referral notifications.")
    if phone_source == Helper.ContactSource.ACCOUNT:
        phone = helper.user.phone
        if not phone:
            errors["phone_source"] = _(
                "Your sign-in account has no mobile phone. Enter a kynect On Demand phone number instead."
            )
    try:
        new_phone = phone_normalize(phone) if phone else ""
    except ValidationError as error:
        errors["phone"] = error.messages[0]
        new_phone = ""
    if not new_phone and "phone" not in errors and "phone_source" not in errors:
        errors["phone"] = _("Enter a mobile phone number that can get text messages.")
    if email_source == Helper.ContactSource.ON_DEMAND:
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Enter an email address, like name@example.com.")
    else:
        email = ""
    if errors:
        raise ValidationError(errors)

    helper.email = email
    helper.email_source = email_source
    helper.channel = channel
    verification = None
    if new_phone == helper.phone and helper.phone_verified_at is not None:
        helper.phone_source = phone_source
        helper.contact_completed_at = helper.contact_completed_at or clock.now()
    else:
        verification = _mobile_code_issue(helper=helper, phone=new_phone, phone_source=phone_source)
    helper.full_clean()
    helper.save()
    return ContactResult(helper=helper, verification=verification)


def _mobile_code_issue(*, helper: Helper, phone: str, phone_source: str) -> MobileVerification:
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
    return _mobile_code_issue(helper=helper, phone=latest.phone, phone_source=latest.phone_source)


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


# --- Step 3: Schedule & Availability -----------------------------------------------------------------


@dataclass(frozen=True)
class WindowSpec:
    """A weekly window: weekday (Monday 0), minutes since midnight, and the breaks inside it."""

    weekday: int
    start_minute: int
    end_minute: int
    breaks: tuple[tuple[int, int], ...] = field(default=())


def _validate_windows(windows: Sequence[WindowSpec]) -> None:
    by_day: dict[int, list[WindowSpec]] = {}
    for window in windows:
        if not 0 <= window.weekday <= 6:
            raise ValidationError(_("A weekday is not valid."))
        if not 0 <= window.start_minute < window.end_minute <= MINUTES_PER_DAY:
            raise ValidationError(_("Each working window must end after it starts."))
        previous_end = window.start_minute
        for start, end in sorted(window.breaks):
            if not window.start_minute <= start < end <= window.end_minute or start < previous_end:
                raise ValidationError(_("A break must fit inside its working hours and end after it starts."))
            previous_end = end
        by_day.setdefault(window.weekday, []).append(window)
    for day_windows in by_day.values():
        ordered = sorted(day_windows, key=lambda window: window.start_minute)
        for earlier, later in itertools.pairwise(ordered):
            if later.start_minute < earlier.end_minute:
                raise ValidationError(_("Working windows on the same day cannot overlap."))


@transaction.atomic
def helper_schedule_update(
    *,
    helper: Helper,
    home_zip: str,
    counties: Iterable[str],
    languages: Iterable[str],
    programs: Iterable[str],
    windows: Sequence[WindowSpec],
    is_available: bool,
) -> Helper:
    """Replace the helper's home location, counties, languages, programs and weekly schedule.

    Completing this step after the other two registers the helper.
    """
    helper = (
        Helper.objects.select_for_update(of=("self",)).select_related("user", "licence").get(pk=helper.pk)
    )
    if helper.contact_completed_at is None or helper.phone_verified_at is None:
        raise ValidationError(_("First complete your preferred contact information."))
    errors: dict[str, str] = {}
    try:
        place = zip_lookup(home_zip)
    except UnknownZipCodeError as error:
        errors["home_zip"] = str(error)
    county_set = set(counties)
    language_set = set(languages)
    program_set = set(programs)
    if not county_set or not county_set <= set(KENTUCKY_COUNTY_FIPS):
        errors["counties"] = _("Choose at least one Kentucky county you serve.")
    if not language_set or not language_set <= set(Language.values):
        errors["languages"] = _("Choose at least one language you help people in.")
    if not program_set or not program_set <= set(Program.values):
        errors["programs"] = _("Choose at least one program you help with.")
    if not windows:
        errors["windows"] = _("Add at least one day with working hours.")
    else:
        try:
            _validate_windows(windows)
        except ValidationError as error:
            errors["windows"] = error.messages[0]
    if errors:
        raise ValidationError(errors)

    helper.home_zip = place.zip_code
    helper.home_latitude = place.latitude
    helper.home_longitude = place.longitude
    helper.home_county_fips = place.county.fips if place.county else ""
    helper.time_zone = place.time_zone
    helper.is_available = is_available
    helper.schedule_completed_at = clock.now()
    helper.full_clean()
    helper.save()

    HelperCounty.objects.filter(helper=helper).delete()
    HelperCounty.objects.bulk_create(
        HelperCounty(helper=helper, county_fips=fips) for fips in sorted(county_set)
    )
    HelperLanguage.objects.filter(helper=helper).delete()
    HelperLanguage.objects.bulk_create(
        HelperLanguage(helper=helper, language=code) for code in sorted(language_set)
    )
    HelperProgram.objects.filter(helper=helper).delete()
    HelperProgram.objects.bulk_create(
        HelperProgram(helper=helper, program=code) for code in sorted(program_set)
    )
    ScheduleWindow.objects.filter(helper=helper).delete()
    for spec in windows:
        window = ScheduleWindow.objects.create(
            helper=helper, weekday=spec.weekday, start_minute=spec.start_minute, end_minute=spec.end_minute
        )
        ScheduleBreak.objects.bulk_create(
            ScheduleBreak(window=window, start_minute=start, end_minute=end) for start, end in spec.breaks
        )

    if helper.status != Helper.Status.REGISTERED:
        helper = _register(helper=helper)
    return helper


def _register(*, helper: Helper) -> Helper:
    """not_registered → registered, once the three steps are done and nothing stands in the way."""
    steps = helper_steps(helper=helper, terms_version=settings.ONDEMAND_TERMS_VERSION)
    if steps.next_step is not None:
        raise ValidationError(_("Complete the earlier steps first."))
    problems = helper_problems(helper=helper)
    if problems:
        raise ValidationError(problems)
    now = clock.now()
    updated = Helper.objects.filter(pk=helper.pk, status=Helper.Status.NOT_REGISTERED).update(
        status=Helper.Status.REGISTERED,
        registered_at=now,
        deregistered_at=None,
        deregistration_reason="",
        consecutive_misses=0,
        updated_at=now,
    )
    if not updated:
        raise ValidationError(_("First agree to register."))
    helper.refresh_from_db()
    _waiting_requests_nudge()
    return helper


@transaction.atomic
def helper_availability_set(*, helper: Helper, is_available: bool) -> Helper:
    """The availability switch. Only a registered helper can switch it on."""
    if is_available and helper.status != Helper.Status.REGISTERED:
        raise ValidationError(_("Finish registering before you make yourself available."))
    Helper.objects.filter(pk=helper.pk).update(is_available=is_available, updated_at=clock.now())
    helper.refresh_from_db()
    if is_available:
        _waiting_requests_nudge()
    return helper


def _waiting_requests_nudge() -> None:
    """A helper became available: requests waiting for one are routed on the worker's next turn."""
    from kynect.ondemand import routing

    routing.waiting_requests_nudge()


@transaction.atomic
def time_off_add(*, helper: Helper, starts_at: datetime, ends_at: datetime) -> TimeOff:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("Time off must end after it starts.")})
    if ends_at <= clock.now():
        raise ValidationError({"ends_at": _("This time off is already over.")})
    time_off = TimeOff(helper=helper, starts_at=starts_at, ends_at=ends_at)
    time_off.full_clean()
    time_off.save()
    return time_off


@transaction.atomic
def time_off_remove(*, helper: Helper, time_off_id: Any) -> None:
    deleted, _rows = TimeOff.objects.filter(helper=helper, pk=time_off_id).delete()
    if not deleted:
        raise ValidationError(_("This time off was already removed."))


# --- Leaving ---------------------------------------------------------------------------------------


@transaction.atomic
def helper_deregister(*, helper: Helper, reason: str) -> bool:
    """registered → deregistered, with the reason. The helper must go through the three steps again.

    Returns False when the helper was not registered (nothing changes).
    """
    if reason not in Helper.DeregistrationReason.values:
        raise ValueError(f"Unknown de-registration reason {reason!r}")
    now = clock.now()
    updated = Helper.objects.filter(pk=helper.pk, status=Helper.Status.REGISTERED).update(
        status=Helper.Status.DEREGISTERED,
        deregistered_at=now,
        deregistration_reason=reason,
        is_available=False,
        terms_agreed_at=None,
        contact_completed_at=None,
        schedule_completed_at=None,
        updated_at=now,
    )
    if updated:
        Deregistration.objects.create(helper=helper, at=now, reason=reason)
    helper.refresh_from_db()
    return bool(updated)


# --- The active flag for kynectors and agency admins ------------------------------------------------


@transaction.atomic
def helper_agency_active_set(*, actor: User, membership: Membership, active: bool) -> Helper:
    """An agency admin (for their agency) or a state administrator marks a kynector or agency admin
    active or not for kynect On Demand. Marking a registered helper inactive de-registers them."""
    if not can_set_agency_active(actor=actor, membership=membership):
        raise PermissionDenied
    role = HELPER_ROLES[membership.role]  # type: ignore[index]
    helper, _created = Helper.objects.select_for_update(of=("self",)).get_or_create(
        user_id=membership.user_id, defaults={"role": role, "organization": membership.organization}
    )
    if helper.role == Helper.Role.AGENT:
        raise ValidationError(_("This person registered as an insurance agent; agents need no active flag."))
    now = clock.now()
    Helper.objects.filter(pk=helper.pk).update(
        agency_active=active, agency_active_changed_at=now, agency_active_changed_by=actor, updated_at=now
    )
    if not active:
        helper_deregister(helper=helper, reason=Helper.DeregistrationReason.DEACTIVATED)
    helper.refresh_from_db()
    return helper


# --- The Department of Insurance roster ---------------------------------------------------------------


@dataclass
class RosterImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deregistered: int = 0
    problems: list[RosterProblem] = field(default_factory=list)


_LICENCE_FIELDS = (
    "licence_number",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "lines_of_authority",
    "has_health_authority",
    "expires_on",
    "certification_completed_on",
)


def _licence_values(row: RosterRow) -> dict[str, Any]:
    return {
        "licence_number": row.licence_number,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "email": row.email,
        "phone": row.phone,
        "status": row.status,
        "lines_of_authority": list(row.lines_of_authority),
        "has_health_authority": row.has_health_authority,
        "expires_on": row.expires_on,
        "certification_completed_on": row.certification_completed_on,
    }


@transaction.atomic
def licence_roster_import(*, roster: Roster) -> RosterImportSummary:
    """Upsert the roster's good rows by NPN, all or nothing; rows already the same are not touched.

    Licences missing from the file are kept. Registered agents whose licence no longer meets the On
    Demand FAQ's criteria are de-registered (reason: not eligible).
    """
    summary = RosterImportSummary(problems=list(roster.problems))
    now = clock.now()
    existing = DoiLicence.objects.in_bulk([row.npn for row in roster.rows])
    to_create: list[DoiLicence] = []
    to_update: list[DoiLicence] = []
    for row in roster.rows:
        values = _licence_values(row)
        licence = existing.get(row.npn)
        if licence is None:
            to_create.append(DoiLicence(npn=row.npn, imported_at=now, **values))
            continue
        if all(getattr(licence, name) == values[name] for name in _LICENCE_FIELDS):
            summary.unchanged += 1
            continue
        for name, value in values.items():
            setattr(licence, name, value)
        licence.imported_at = now
        to_update.append(licence)
    DoiLicence.objects.bulk_create(to_create, batch_size=1000)
    DoiLicence.objects.bulk_update(to_update, [*_LICENCE_FIELDS, "imported_at"], batch_size=1000)
    summary.created = len(to_create)
    summary.updated = len(to_update)

    today = now.date()
    for helper in Helper.objects.filter(
        status=Helper.Status.REGISTERED, licence__in=[licence.npn for licence in to_update]
    ).select_related("licence"):
        assert helper.licence is not None
        if not licence_is_eligible(licence=helper.licence, today=today) and helper_deregister(
            helper=helper, reason=Helper.DeregistrationReason.NOT_ELIGIBLE
        ):
            summary.deregistered += 1
    return summary


# --- Help requests (DESIGN §5.4) ----------------------------------------------------------------------


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
    to routing (`help_request_submitted`).

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
    link_key = credentials.secret_new()
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
    help_request.link_key = link_key
    token = credentials.request_token_derive(request_id=str(help_request.pk), link_key=link_key)
    help_request.token_hash = credentials.request_token_hash(request_id=str(help_request.pk), token=token)
    help_request.full_clean(validate_unique=False, validate_constraints=False)  # the database enforces both
    with transaction.atomic():
        existing = help_request_open_for_phone(phone=help_request.phone, now=now)
        if existing is not None:
            raise DuplicateHelpRequestError(existing)
        try:
            with transaction.atomic():
                help_request.save(force_insert=True)
        except IntegrityError:
            # Another request from this phone won the race for the one Pending slot.
            existing = help_request_open_for_phone(phone=help_request.phone, now=now)
            if existing is None:
                raise
            raise DuplicateHelpRequestError(existing) from None
        _help_request_confirm(help_request=help_request)
        help_request_submitted(help_request=help_request)
    logger.info("Help request %s submitted (%s)", help_request.pk, help_request.source)
    return SubmittedHelpRequest(help_request=help_request, token=token)


def _help_request_confirm(*, help_request: HelpRequest) -> None:
    """Queue the confirmation by the requester's preferred channel. The outbox keeps it with the secret
    links masked; the links go in only when it is sent (`confirmation.confirmation_send_time_context`)."""
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
    HelpRequest.objects.filter(pk=help_request.pk).update(confirmation_message_id=message.pk)


def help_request_submitted(*, help_request: HelpRequest) -> None:
    """The request now waits for a helper (`waiting_since`, `route_at`). Once the submitting transaction
    commits, a task routes it in the worker (`tasks.route_help_request`), so a rolled-back request is
    never offered and a burst of requests is not slowed by routing. If the task is lost (a crash), the
    sweeper routes the request from `route_at`. A request made outside service hours is routed at
    `clock_starts_at`.
    """
    from kynect.ondemand.tasks import route_help_request

    now = clock.now()
    route_at = max(now, help_request.clock_starts_at)
    HelpRequest.objects.filter(
        pk=help_request.pk, status=HelpRequest.Status.PENDING, waiting_since__isnull=True
    ).update(waiting_since=now, route_at=route_at)
    if route_at <= now:
        request_id = str(help_request.pk)

        def route() -> None:
            try:
                route_help_request.enqueue(help_request_id=request_id)
            except Exception:
                # The request is saved and confirmed; the sweeper routes it from `route_at`.
                logger.exception("Routing help request %s failed; the sweeper will retry", request_id)

        transaction.on_commit(route)


def help_request_cancel(*, help_request: HelpRequest) -> HelpRequest:
    """The requester cancels: Pending → Cancelled, by a conditional update on the status.

    Raises ValidationError when the request is no longer Pending (a helper accepted it, or it closed).
    """
    from kynect.ondemand import routing

    now = clock.now()
    with transaction.atomic():
        cancelled = HelpRequest.objects.filter(pk=help_request.pk, status=HelpRequest.Status.PENDING).update(
            status=HelpRequest.Status.CANCELLED, closed_at=now, updated_at=now, link_key="", route_at=None
        )
        if cancelled:
            routing.help_request_offers_close(help_request=help_request, now=now)
    help_request.refresh_from_db()
    if not cancelled:
        if help_request.status == HelpRequest.Status.CANCELLED:
            raise ValidationError(_("This request is already cancelled."))
        raise ValidationError(
            _("This request can no longer be cancelled: it is %(status)s.")
            % {"status": help_request.get_status_display()}
        )
    return help_request
