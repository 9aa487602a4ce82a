"""Writes for kynect On Demand helpers: registration, contact, schedule, availability and time off
(de-registering, and the active flag of kynectors and agency admins, are `deregistration`'s).

Registration is the helper's lifecycle (`ondemand.lifecycles.HELPER`): agreeing to the terms, then the
contact and schedule steps register the helper; a de-registered helper who agrees again starts over.
"""

from __future__ import annotations

import itertools
import logging
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from kynect.accounts.models import User
from kynect.core import clock
from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.core.phones import phone_normalize
from kynect.ondemand.lifecycles import HELPER
from kynect.ondemand.models import (
    KENTUCKY_COUNTY_FIPS,
    MINUTES_PER_DAY,
    DoiLicence,
    Helper,
    HelperCounty,
    HelperLanguage,
    HelperProgram,
    HelpRequest,
    Language,
    MobileVerification,
    Offer,
    Program,
    ScheduleBreak,
    ScheduleWindow,
    TimeOff,
)
from kynect.ondemand.selectors import (
    HELPER_ROLES,
    helper_memberships,
    helper_problems,
    helper_steps,
)
from kynect.ondemand.services.verification import mobile_code_issue

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
    HELPER.apply("restart", instance=helper, now=now)
    helper.terms_version = settings.ONDEMAND_TERMS_VERSION
    helper.terms_agreed_at = now
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
        verification = mobile_code_issue(helper=helper, phone=new_phone, phone_source=phone_source)
    helper.full_clean()
    helper.save()
    return ContactResult(helper=helper, verification=verification)


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
    if not HELPER.apply("register", instance=helper, now=clock.now()):
        raise ValidationError(_("First agree to register."))
    waiting_requests_nudge()
    return helper


@transaction.atomic
def helper_availability_set(*, helper: Helper, is_available: bool) -> Helper:
    """The availability switch. Only a registered helper can switch it on."""
    if is_available and helper.status != Helper.Status.REGISTERED:
        raise ValidationError(_("Finish registering before you make yourself available."))
    now = clock.now()
    Helper.objects.filter(pk=helper.pk).update(is_available=is_available, updated_at=now)
    helper.is_available, helper.updated_at = is_available, now
    if is_available:
        waiting_requests_nudge(now=now)
    return helper


# Responsiveness (ADR 0044) counts the helper's latest answered or expired offers, at most this many and
# no older than this.
RESPONSIVENESS_OFFERS = 20
RESPONSIVENESS_DAYS = 30
RESPONSIVENESS_COUNTED = (
    Offer.Status.ACCEPTED,
    Offer.Status.REJECTED,
    Offer.Status.EXPIRED,
    Offer.Status.ABANDONED,
)


def helper_responsiveness_count(*, helper_id: Any, now: datetime) -> None:
    """Count again the helper's responsiveness after one of their offers was answered or expired: of
    their latest offers (rescinded and pending ones are not theirs to answer, so not counted), how many
    they answered (accepted or rejected) and the median minutes to the answer. Routing's score reads the
    three columns with the helper (`routing.expected_answer_minutes`)."""
    latest = list(
        Offer.objects.filter(
            helper_id=helper_id,
            status__in=RESPONSIVENESS_COUNTED,
            offered_at__gte=now - timedelta(days=RESPONSIVENESS_DAYS),
        )
        .order_by("-offered_at")
        .values_list("status", "offered_at", "responded_at")[:RESPONSIVENESS_OFFERS]
    )
    minutes = [
        (responded - offered).total_seconds() / 60
        for status, offered, responded in latest
        if status in (Offer.Status.ACCEPTED, Offer.Status.REJECTED) and responded is not None
    ]
    Helper.objects.filter(pk=helper_id).update(
        offers_counted=len(latest),
        offers_answered=len(minutes),
        answer_minutes=statistics.median(minutes) if minutes else None,
    )


def waiting_requests_nudge(*, now: datetime | None = None) -> int:
    """A helper became available: requests waiting for one are routed on the worker's next turn."""
    now = now or clock.now()
    return HelpRequest.objects.filter(
        status=HelpRequest.Status.PENDING, route_at__gt=now, clock_starts_at__lte=now
    ).update(route_at=now)


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
