"""Reads for On Demand oversight (DESIGN §5.4, §5.7): what agency admins and state administrators see of
helpers and open help requests, who a request may be reassigned to, and the state dashboard's figures.

Agency admins see their agencies' helpers, the requests those helpers hold (In Progress) and the Pending
requests offered to them; state administrators see everything. The dashboard counts days on the wall
clock in America/New_York.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from kynect.accounts.models import Organization, Role, User
from kynect.accounts.selectors import is_state_admin, user_organizations
from kynect.core.geo import KENTUCKY_COUNTIES
from kynect.core.periods import KENTUCKY, Period, Window
from kynect.ondemand.models import (
    Deregistration,
    Helper,
    HelperCounty,
    HelperLanguage,
    HelpRequest,
    Language,
    Offer,
)
from kynect.ondemand.selectors import helpers_available_at

# Medians are taken in Python over at most this many requests of a period (a week is a few thousand).
MEDIAN_ROW_LIMIT = 50_000
# Escalated (DESIGN §5.4): no contact logged by `sla_due_at`, and still none.
ESCALATED = Q(escalated_at__isnull=False, first_contact_at__isnull=True)


# --- Who oversees what --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OversightScope:
    """What a user oversees: every agency (a state administrator) or the agencies they administer."""

    is_state: bool
    agencies: tuple[Organization, ...]

    def covers(self, organization_id: Any) -> bool:
        return self.is_state or any(agency.pk == organization_id for agency in self.agencies)


def oversight_scope(*, user: User) -> OversightScope | None:
    """The user's scope, or None when they may not see the oversight pages."""
    if not user.is_authenticated or not user.is_active:
        return None
    if is_state_admin(user=user):
        return OversightScope(is_state=True, agencies=())
    agencies = tuple(user_organizations(user=user, role=Role.AGENCY_ADMIN))
    return OversightScope(is_state=False, agencies=agencies) if agencies else None


def oversight_agency_choices(*, scope: OversightScope) -> list[Organization]:
    """The agencies the user may narrow the page to: theirs, or (state) every agency with helpers."""
    if not scope.is_state:
        return list(scope.agencies)
    return list(
        Organization.objects.filter(Exists(Helper.objects.filter(organization=OuterRef("pk")))).order_by(
            "name"
        )
    )


def _agency_ids(scope: OversightScope, agency: Organization | None) -> list[Any] | None:
    """The agencies to show (None: all of them, for a state administrator with no agency chosen)."""
    if agency is not None:
        return [agency.pk] if scope.covers(agency.pk) else []
    if scope.is_state:
        return None
    return [organization.pk for organization in scope.agencies]


def _count_of(queryset: QuerySet[Any], field: str) -> Coalesce:
    """How many rows of `queryset` point at the outer helper through `field`: a correlated count."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def helpers_overseen(*, scope: OversightScope, agency: Organization | None = None) -> QuerySet[Helper]:
    """The helpers of the scope (narrowed to `agency`), each with `open_requests` (In Progress requests
    they hold) and `pending_offers`, by agency and name."""
    helpers = Helper.objects.select_related("user", "organization")
    agency_ids = _agency_ids(scope, agency)
    if agency_ids is not None:
        helpers = helpers.filter(organization_id__in=agency_ids)
    return helpers.annotate(
        open_requests=_count_of(
            HelpRequest.objects.filter(status=HelpRequest.Status.IN_PROGRESS), "accepted_helper"
        ),
        pending_offers=_count_of(Offer.objects.filter(status=Offer.Status.PENDING), "helper"),
    ).order_by("organization__name", "user__last_name", "user__first_name", "pk")


def helper_ids_available_now(*, helper_ids: list[Any], at: datetime) -> set[Any]:
    """Which of these helpers are available at `at` by their switch and schedule (one query)."""
    if not helper_ids:
        return set()
    return set(
        helpers_available_at(at=at, helpers=Helper.objects.filter(pk__in=helper_ids)).values_list(
            "pk", flat=True
        )
    )


def help_requests_overseen(
    *, scope: OversightScope, agency: Organization | None = None
) -> QuerySet[HelpRequest]:
    """Open requests of the scope: for an agency, those its helpers hold (In Progress) and the Pending
    ones offered to its helpers right now. Each has `is_escalated` (escalated, no contact logged) and
    `pending_offers`; escalated first, then by call-back due time."""
    requests = HelpRequest.objects.filter(status__in=HelpRequest.OPEN_STATUSES).select_related(
        "accepted_helper__user", "accepted_helper__organization"
    )
    agency_ids = _agency_ids(scope, agency)
    if agency_ids is not None:
        offered = Offer.objects.filter(
            help_request=OuterRef("pk"), status=Offer.Status.PENDING, helper__organization_id__in=agency_ids
        )
        requests = requests.filter(
            Q(status=HelpRequest.Status.IN_PROGRESS, accepted_helper__organization_id__in=agency_ids)
            | Q(Q(status=HelpRequest.Status.PENDING) & Exists(offered))
        )
    pending = (
        Offer.objects.filter(help_request=OuterRef("pk"), status=Offer.Status.PENDING)
        .order_by()
        .values("help_request")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return requests.annotate(
        is_escalated=Case(
            When(ESCALATED, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        pending_offers=Coalesce(Subquery(pending, output_field=IntegerField()), Value(0)),
    ).order_by("-is_escalated", "sla_due_at", "pk")


def help_request_for_reassign(*, help_request_id: Any) -> HelpRequest | None:
    return (
        HelpRequest.objects.select_related("accepted_helper__user", "accepted_helper__organization")
        .filter(pk=help_request_id)
        .first()
    )


def reassign_candidates(
    *, scope: OversightScope, help_request: HelpRequest, at: datetime, every_county: bool = False
) -> QuerySet[Helper]:
    """Registered helpers the request could go to: the accepted helper's agency for an agency admin; for
    a state administrator, any agency's helpers who serve the request's county (or all, `every_county`).
    Each has `available_now` and `open_requests`; those available now come first."""
    helpers = Helper.objects.filter(status=Helper.Status.REGISTERED).select_related("user", "organization")
    if help_request.accepted_helper_id is not None:
        helpers = helpers.exclude(pk=help_request.accepted_helper_id)
    if not scope.is_state:
        organization_id = (
            help_request.accepted_helper.organization_id if help_request.accepted_helper else None
        )
        helpers = helpers.filter(organization_id=organization_id) if organization_id else helpers.none()
    elif not every_county:
        helpers = helpers.filter(
            Exists(HelperCounty.objects.filter(helper=OuterRef("pk"), county_fips=help_request.county_fips))
        )
    available = helpers_available_at(at=at, helpers=Helper.objects.filter(status=Helper.Status.REGISTERED))
    return helpers.annotate(
        available_now=Case(
            When(pk__in=available.values("pk"), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        open_requests=_count_of(
            HelpRequest.objects.filter(status=HelpRequest.Status.IN_PROGRESS), "accepted_helper"
        ),
    ).order_by("-available_now", "open_requests", "organization__name", "user__last_name", "pk")


# --- The state dashboard ---------------------------------------------------------------------------


def requests_by_status(*, period: Period) -> dict[str, int]:
    """Requests submitted in the period, by status (every status, zeros included)."""
    counts = dict(
        HelpRequest.objects.filter(submitted_at__gte=period.start, submitted_at__lt=period.end)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in HelpRequest.Status.values}


@dataclass(frozen=True)
class CallBacks:
    """Requests whose 30-minute clock started in the period and that are due (or already called):
    called back by `sla_due_at`, called later, and not called."""

    on_time: int
    late: int
    not_called: int

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.not_called

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None


def call_backs(*, period: Period | Window, now: datetime) -> CallBacks:
    """Among requests whose clock started in the period and whose `sla_due_at` has passed or that have a
    first contact, how many were called back by `sla_due_at`. Requests the requester cancelled before
    their due time with no call are left out: nobody could still call them."""
    counted = (
        HelpRequest.objects.filter(clock_starts_at__gte=period.start, clock_starts_at__lt=period.end)
        .filter(Q(first_contact_at__isnull=False) | Q(sla_due_at__lte=now))
        .exclude(
            status=HelpRequest.Status.CANCELLED,
            first_contact_at__isnull=True,
            closed_at__lt=F("sla_due_at"),
        )
    )
    figures = counted.aggregate(
        on_time=Count("pk", filter=Q(first_contact_at__lte=F("sla_due_at"))),
        late=Count("pk", filter=Q(first_contact_at__gt=F("sla_due_at"))),
        not_called=Count("pk", filter=Q(first_contact_at__isnull=True)),
    )
    return CallBacks(on_time=figures["on_time"], late=figures["late"], not_called=figures["not_called"])


@dataclass(frozen=True)
class Median:
    minutes: float | None
    count: int
    p90: float | None = None  # minutes within which 9 in 10 were (nearest rank)


@dataclass(frozen=True)
class Medians:
    to_accept: Median
    to_first_contact: Median


def _median_minutes(durations: list[timedelta]) -> Median:
    if not durations:
        return Median(minutes=None, count=0)
    seconds = sorted(max(duration.total_seconds(), 0.0) for duration in durations)
    p90 = seconds[max(math.ceil(0.9 * len(seconds)) - 1, 0)]
    return Median(minutes=statistics.median(seconds) / 60, count=len(seconds), p90=p90 / 60)


def median_times(*, period: Period) -> Medians:
    """Median minutes from the clock start (submission, or the next opening of service hours) to the
    accept and to the first contact, over requests whose clock started in the period. The accept is the
    accepted offer's answer (a reassignment later does not move it); an accept before the clock started
    counts as zero."""
    accepted_offer_at = Subquery(
        Offer.objects.filter(help_request=OuterRef("pk"), status=Offer.Status.ACCEPTED)
        .order_by("responded_at")
        .values("responded_at")[:1]
    )
    rows = list(
        HelpRequest.objects.filter(clock_starts_at__gte=period.start, clock_starts_at__lt=period.end)
        .filter(Q(accepted_at__isnull=False) | Q(first_contact_at__isnull=False))
        .annotate(accepted=Coalesce(accepted_offer_at, F("accepted_at")))
        .order_by("clock_starts_at")
        .values_list("clock_starts_at", "accepted", "first_contact_at")[:MEDIAN_ROW_LIMIT]
    )
    return Medians(
        to_accept=_median_minutes([accepted - starts for starts, accepted, _ in rows if accepted]),
        to_first_contact=_median_minutes([contact - starts for starts, _, contact in rows if contact]),
    )


@dataclass(frozen=True)
class MissedOffers:
    """Offers made in the period and no longer pending: misses (General offers not answered in time, and
    link accepts whose passcode was never entered) over the offers that could be missed (closed General
    offers, and Mass offers that were missed)."""

    general_closed: int
    mass_missed: int
    missed: int

    @property
    def could_miss(self) -> int:
        return self.general_closed + self.mass_missed

    @property
    def rate(self) -> float | None:
        return self.missed / self.could_miss if self.could_miss else None


def missed_offers(*, period: Period) -> MissedOffers:
    figures = (
        Offer.objects.filter(offered_at__gte=period.start, offered_at__lt=period.end)
        .exclude(status=Offer.Status.PENDING)
        .aggregate(
            general_closed=Count("pk", filter=Q(kind=Offer.Kind.GENERAL)),
            mass_missed=Count("pk", filter=Q(kind=Offer.Kind.MASS, counted_miss=True)),
            missed=Count("pk", filter=Q(counted_miss=True)),
        )
    )
    return MissedOffers(**figures)


def deregistrations_by_day(*, period: Period) -> dict[date, int]:
    """De-registrations for missing three referrals in a row, by day, from the record of each one (a
    helper who has registered again since is still counted for the day they were de-registered)."""
    counts = dict(
        Deregistration.objects.filter(
            reason=Helper.DeregistrationReason.MISSED_REFERRALS, at__gte=period.start, at__lt=period.end
        )
        .annotate(day=TruncDate("at", tzinfo=KENTUCKY))
        .order_by()
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return {day: counts.get(day, 0) for day in period.days}


@dataclass(frozen=True)
class AvailableNow:
    total: int
    by_language: dict[str, int]  # every language, zeros included
    by_county: dict[str, int]  # every Kentucky county by FIPS code, zeros included


def helpers_available_now(*, at: datetime) -> AvailableNow:
    """Registered helpers available at `at` by switch and schedule: in all, by language they help in
    and by county they serve (a helper counts once in each of theirs)."""
    available = helpers_available_at(at=at, helpers=Helper.objects.filter(status=Helper.Status.REGISTERED))
    available_ids = available.values("pk")
    languages = dict(
        HelperLanguage.objects.filter(helper_id__in=available_ids)
        .order_by()
        .values_list("language")
        .annotate(n=Count("helper_id", distinct=True))
        .values_list("language", "n")
    )
    counties = dict(
        HelperCounty.objects.filter(helper_id__in=available_ids)
        .order_by()
        .values_list("county_fips")
        .annotate(n=Count("helper_id", distinct=True))
        .values_list("county_fips", "n")
    )
    return AvailableNow(
        total=available.count(),
        by_language={code: languages.get(code, 0) for code in Language.values},
        by_county={county.fips: counties.get(county.fips, 0) for county in KENTUCKY_COUNTIES},
    )
