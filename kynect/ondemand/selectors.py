"""Reads for kynect On Demand: who may register, what stands in the way, and who is available when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import formats
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from kynect.accounts.models import Membership, Role, User
from kynect.accounts.selectors import (
    active_memberships,
    agencies_administered,
    is_state_admin,
    memberships_with_role,
    user_has_role,
)
from kynect.core import clock
from kynect.core.geo import KENTUCKY_COUNTIES
from kynect.core.phones import phone_display
from kynect.ondemand.hours import service_hours
from kynect.ondemand.models import (
    HELP_REQUEST_LINK,
    MINUTES_PER_DAY,
    DoiLicence,
    Helper,
    HelpRequest,
    Language,
    MobileVerification,
    Offer,
    Program,
    ScheduleBreak,
    ScheduleWindow,
    TimeOff,
)

# Accounts roles that make someone a helper, in the order that decides a person with several.
HELPER_ROLES = {
    Role.INSURANCE_AGENT: Helper.Role.AGENT,
    Role.AGENCY_ADMIN: Helper.Role.AGENCY_ADMIN,
    Role.KYNECTOR: Helper.Role.KYNECTOR,
}
AGENCY_ROLES = (Role.KYNECTOR, Role.AGENCY_ADMIN)


def helper_memberships(*, user: User) -> QuerySet[Membership]:
    """The user's active memberships in a helper role (agent, kynector, agency admin)."""
    return active_memberships(user=user, role=HELPER_ROLES).select_related("organization")


def user_is_helper(*, user: User) -> bool:
    """Whether the user sees the kynect On Demand tab."""
    return user_has_role(user=user, role=HELPER_ROLES)


def helper_of(*, user: User) -> Helper | None:
    return Helper.objects.select_related("user", "licence", "organization").filter(user=user).first()


def licence_problems(*, licence: DoiLicence, today: date) -> list[str]:
    """Why this licence does not let an agent register (empty when it does), in the On Demand FAQ's terms."""
    problems = []
    if licence.status != DoiLicence.Status.ACTIVE or (licence.expires_on and licence.expires_on < today):
        problems.append(_("Your licence is not active on the Department of Insurance roster."))
    if not licence.has_health_authority:
        problems.append(_("Your licence has no health line of authority."))
    if licence.certification_completed_on is None:
        problems.append(_("The Department of Insurance has no record of your My Purpose Certification."))
    if not licence.email or not licence.phone:
        problems.append(
            _(
                "The Department of Insurance does not have your email address and phone number. "
                "Agents must have their latest contact information in the DOI."
            )
        )
    return problems


def licence_is_eligible(*, licence: DoiLicence, today: date) -> bool:
    return not licence_problems(licence=licence, today=today)


def helper_problems(*, helper: Helper) -> list[str]:
    """What stops the helper registering, apart from the three steps themselves (empty when nothing)."""
    if helper.role == Helper.Role.AGENT:
        if helper.licence is None:
            return []  # the agent names their licence in the first step
        return licence_problems(licence=helper.licence, today=clock.now().date())
    if not helper.agency_active:
        return [
            _(
                "Only active kynectors and Agency Admins are able to register for kynect On Demand. "
                "Your agency admin or a state administrator has not marked you active yet."
            )
        ]
    return []


@dataclass(frozen=True)
class Steps:
    """Progress through the On Demand FAQ's three registration steps."""

    agreed: bool
    contact: bool
    schedule: bool

    @property
    def next_step(self) -> str | None:
        if not self.agreed:
            return "agree"
        if not self.contact:
            return "contact"
        if not self.schedule:
            return "schedule"
        return None


def helper_steps(*, helper: Helper, terms_version: str) -> Steps:
    return Steps(
        agreed=helper.terms_agreed_at is not None and helper.terms_version == terms_version,
        contact=helper.contact_completed_at is not None and helper.phone_verified_at is not None,
        schedule=helper.schedule_completed_at is not None,
    )


def mobile_verification_open(*, helper: Helper) -> MobileVerification | None:
    """The newest code still waiting to be entered, if any."""
    return (
        MobileVerification.objects.filter(
            helper=helper, verified_at__isnull=True, closed_at__isnull=True, expires_at__gt=clock.now()
        )
        .order_by("-created_at")
        .first()
    )


# --- Availability ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_weekday_minute(*, at: datetime, time_zone: str) -> tuple[int, int]:
    """The weekday (Monday 0) and minute of the day on the wall clock in `time_zone` at the instant `at`."""
    local = at.astimezone(_zone(time_zone))
    return local.weekday(), local.hour * 60 + local.minute


def helper_is_available_at(*, helper: Helper, at: datetime | None = None) -> bool:
    """Whether the helper takes referrals at `at` (default now) by their switch and their schedule.

    Available means: the switch is on; the wall clock in the helper's time zone falls inside one of
    their weekly windows (start included, end excluded) and not inside one of its breaks; and no time
    off covers the instant. Registration is not checked here: routing filters on it separately.
    Across daylight-saving changes windows follow the wall clock: a 1:00-2:00 window lasts two hours on
    the night clocks fall back and does not happen on the night they spring forward.
    """
    if not helper.is_available:
        return False
    moment = at or clock.now()
    weekday, minute = local_weekday_minute(at=moment, time_zone=helper.time_zone)
    on_break = ScheduleBreak.objects.filter(
        window=OuterRef("pk"), start_minute__lte=minute, end_minute__gt=minute
    )
    in_window = (
        ScheduleWindow.objects.filter(
            helper=helper, weekday=weekday, start_minute__lte=minute, end_minute__gt=minute
        )
        .exclude(Exists(on_break))
        .exists()
    )
    if not in_window:
        return False
    return not TimeOff.objects.filter(helper=helper, starts_at__lte=moment, ends_at__gt=moment).exists()


def helpers_available_at(
    *, at: datetime | None = None, helpers: QuerySet[Helper] | None = None
) -> QuerySet[Helper]:
    """The helpers (of `helpers`, default all) for whom `helper_is_available_at` holds, in one query.

    Helpers in each time zone are matched against that zone's wall clock; there are only a few zones.
    """
    moment = at or clock.now()
    base = helpers if helpers is not None else Helper.objects.all()
    # The zones of all helpers, not of `base`: asking `base` would run its filters twice (routing's
    # are the costly part), and a zone nobody in `base` has matches nobody.
    zones = list(Helper.objects.values_list("time_zone", flat=True).distinct().order_by("time_zone"))
    if not zones:
        return base.none()
    # Zones whose wall clocks agree at this moment (New York and Kentucky's own Eastern zones) share one
    # test: fewer subqueries to build and to run.
    clocks: dict[tuple[int, int], list[str]] = {}
    for zone in zones:
        clocks.setdefault(local_weekday_minute(at=moment, time_zone=zone), []).append(zone)
    in_window = Q()
    for (weekday, minute), same_clock in clocks.items():
        on_break = ScheduleBreak.objects.filter(
            window=OuterRef("pk"), start_minute__lte=minute, end_minute__gt=minute
        )
        working = Exists(
            ScheduleWindow.objects.filter(
                helper=OuterRef("pk"), weekday=weekday, start_minute__lte=minute, end_minute__gt=minute
            ).exclude(Exists(on_break))
        )
        in_window |= Q(time_zone__in=same_clock) & Q(working)
    away = TimeOff.objects.filter(helper=OuterRef("pk"), starts_at__lte=moment, ends_at__gt=moment)
    return base.filter(in_window, ~Exists(away), is_available=True)


# --- Managing the active flag: On Demand's policy, asking roles of accounts selectors ------------------


def can_manage_helpers(*, user: User) -> bool:
    return is_state_admin(user=user) or agencies_administered(user=user).exists()


def can_set_agency_active(*, actor: User, membership: Membership) -> bool:
    """A state administrator, or an agency admin of the person's agency; nobody for themselves."""
    if membership.role not in AGENCY_ROLES or membership.user_id == actor.pk or not membership.is_active:
        return False
    if is_state_admin(user=actor):
        return True
    return membership.organization_id is not None and user_has_role(
        user=actor, role=Role.AGENCY_ADMIN, organization=membership.organization_id
    )


def agency_memberships_managed_by(*, user: User) -> QuerySet[Membership]:
    """The kynector and agency-admin memberships whose active flag the user may see and set."""
    agencies = None if is_state_admin(user=user) else agencies_administered(user=user)
    return (
        memberships_with_role(role=AGENCY_ROLES, organizations=agencies)
        .select_related("user", "organization", "user__helper")
        .order_by("organization__name", "user__last_name", "user__first_name", "pk")
    )


# --- My Information: Additional Preferences -----------------------------------------------------------


def minutes_display(minute: int) -> str:
    """Minutes since midnight as a time of day in the active language; 1440 is midnight."""
    if minute >= MINUTES_PER_DAY:
        return _("midnight")
    return formats.time_format(time(minute // 60, minute % 60))


@dataclass(frozen=True)
class ScheduleDay:
    day: str
    hours: list[str]


@dataclass(frozen=True)
class Preferences:
    """What the Additional Preferences tile of My Information shows a helper about themselves."""

    helper: Helper
    phone: str
    email: str
    days: list[ScheduleDay]
    languages: list[str]
    programs: list[str]
    counties: list[str]
    home_county: str
    time_off_count: int


def helper_preferences(*, helper: Helper) -> Preferences:
    windows = list(helper.windows.prefetch_related("breaks"))
    days = []
    for weekday, name in WEEKDAYS.items():
        hours = []
        for window in (window for window in windows if window.weekday == weekday):
            text = _("%(start)s to %(end)s") % {
                "start": minutes_display(window.start_minute),
                "end": minutes_display(window.end_minute),
            }
            for pause in window.breaks.all():
                text += "; " + _("break %(start)s to %(end)s") % {
                    "start": minutes_display(pause.start_minute),
                    "end": minutes_display(pause.end_minute),
                }
            hours.append(text)
        days.append(ScheduleDay(day=str(name), hours=hours))
    county_codes = set(helper.counties.values_list("county_fips", flat=True))
    home_county = helper.home_county
    return Preferences(
        helper=helper,
        phone=phone_display(helper.phone) if helper.phone else "",
        email=helper.contact_email,
        days=days,
        languages=[str(Language(code).label) for code in helper.languages.values_list("language", flat=True)],
        programs=[str(Program(code).label) for code in helper.programs.values_list("program", flat=True)],
        counties=[county.label for county in KENTUCKY_COUNTIES if county.fips in county_codes],
        home_county=home_county.label if home_county else "",
        time_off_count=TimeOff.objects.filter(helper=helper, ends_at__gt=clock.now()).count(),
    )


# --- Help requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallBy:
    """When a request's 30-minute clock starts and when the requester should expect a call."""

    clock_starts_at: datetime
    call_by: datetime
    inside_hours: bool


def service_clock_start(*, at: datetime) -> tuple[datetime, bool]:
    """`at` itself when service hours are open then, else the next opening; and whether they were open."""
    hours = service_hours()
    local_day = at.astimezone(hours.zone).date()
    for offset in range(8):
        window = hours.opening_and_closing(local_day + timedelta(days=offset))
        if window is None:
            continue
        opening, closing = window
        if opening <= at < closing:
            return at, True
        if at < opening:
            return opening, False
    raise AssertionError("service hours open at least one weekday")  # guaranteed by service_hours_parse


def help_request_call_by(*, at: datetime) -> CallBy:
    """For a request made at `at`: now + the callback minutes inside service hours, otherwise the next
    opening + the callback minutes."""
    starts, inside = service_clock_start(at=at)
    starts = starts.astimezone(UTC)
    return CallBy(
        clock_starts_at=starts,
        call_by=starts + timedelta(minutes=settings.ONDEMAND_CALLBACK_MINUTES),
        inside_hours=inside,
    )


def service_hours_table() -> list[tuple[str, str]]:
    """(weekday, hours) rows in the active language, like ('Monday', '8 a.m. to 8 p.m.')."""
    hours = service_hours()
    rows = []
    for index, day in enumerate(hours.days):
        if day is None:
            rows.append((str(WEEKDAYS[index]), _("Closed")))
            continue
        start = time(day.start_minute // 60, day.start_minute % 60)
        end = time(day.end_minute // 60 % 24, day.end_minute % 60)
        rows.append(
            (
                str(WEEKDAYS[index]),
                _("%(start)s to %(end)s")
                % {"start": formats.time_format(start), "end": formats.time_format(end)},
            )
        )
    return rows


def help_request_open_for_phone(*, phone: str, now: datetime) -> HelpRequest | None:
    """The request that makes a new one from `phone` a duplicate: any Pending one, or one In Progress
    made in the last ONDEMAND_DUPLICATE_HOURS hours."""
    since = now - timedelta(hours=settings.ONDEMAND_DUPLICATE_HOURS)
    return (
        HelpRequest.objects.filter(phone=phone)
        .filter(
            Q(status=HelpRequest.Status.PENDING)
            | Q(status=HelpRequest.Status.IN_PROGRESS, submitted_at__gte=since)
        )
        .order_by("-submitted_at")
        .first()
    )


def help_request_by_link(*, request_id: str, token: str) -> HelpRequest | None:
    """The request this secret link opens, or None. The token is compared in constant time."""
    help_request = HelpRequest.objects.select_related("accepted_helper__user").filter(pk=request_id).first()
    if help_request is None or not HELP_REQUEST_LINK.matches(
        row_id=help_request.pk, secret=token, stored_hash=help_request.token_hash
    ):
        return None
    return help_request


@dataclass(frozen=True)
class Caller:
    """Who will call a requester, and from which number: the accepted helper's preferred contact."""

    name: str
    phone: str


def help_request_caller(*, help_request: HelpRequest) -> Caller | None:
    helper = help_request.accepted_helper
    if help_request.status != HelpRequest.Status.IN_PROGRESS or helper is None:
        return None
    if Offer.objects.filter(
        help_request=help_request,
        helper=helper,
        status=Offer.Status.ACCEPTED,
        accepted_via=Offer.Via.LINK,
        verified_at__isnull=True,
    ).exists():
        return None  # accepted from a link, passcode not yet entered: it may still go to someone else
    user = helper.user
    name = " ".join(
        part for part in (user.first_name, user.last_name[:1] + "." if user.last_name else "") if part
    )
    return Caller(
        name=name or helper.get_role_display(), phone=phone_display(helper.phone) if helper.phone else ""
    )
