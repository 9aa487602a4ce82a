"""The metrics' counts, read from the monthly summary where it holds and counted live elsewhere (ADR 0043).

Every count is a measure of one app's counting selectors (`referrals.selectors_metrics.referral_counts`,
`assessments.selectors.assessment_counts_by` and `rating_counts_by`) over a window of time:

    created, closed, provided, not_provided   referrals (keyed: the need; the reason not provided)
    assessed                                  completed assessments (keyed: the instrument)
    rated                                     ratings given (keyed: "domain:rating")

Every night the recurring job `reporting.metrics_recount` counts every whole month before the current one
with those same selectors into `MonthlyCount`, cut three ways: by organization, by organization type and key,
by county and key. A page's window is split into the whole months the summary may answer and the rest
(the current month, the days at either end of a chosen period, a month marked stale), which is counted
live. The figures are therefore the same as counting everything live, at every moment:

- a referral reopened marks the month it had been closed in stale (`StaleMonth`, in the reopening's
  transaction), and that month is counted live until the next counting;
- the by-type cut holds each organization's type as it was; while any type differs now, figures narrowed to
  a type are counted live by key (the by-organization cut joins today's types, so totals stay exact);
- nothing else changes a month once it is over: referrals are made and closed now, assessments are
  completed now and never undone, ratings are recorded once. A resident who moves counts in the new county
  for past months from the next night's counting.

One organization's keyed figures (the Partner Referral Dashboard), organizations within a county, and a
county and a type at once are always counted live: the indexes make those small.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum

from kynect.accounts.selectors import organization_ids_of_type, organization_types
from kynect.assessments.selectors import assessment_counts_by, assessments_first_at, rating_counts_by
from kynect.core import clock, recurring
from kynect.core.counting import Scope
from kynect.core.periods import KENTUCKY, KENTUCKY_CLOCK_NAME, kentucky_midnight, kentucky_today, month_before
from kynect.referrals.selectors_metrics import referral_counts, referrals_first_at
from kynect.reporting.models import CountCut, CountedType, CountRun, MonthlyCount, StaleMonth

Counter = Callable[..., list[dict[str, Any]]]


def _referrals(measure: str) -> Counter:
    def count(**kwargs: Any) -> list[dict[str, Any]]:
        return referral_counts(measure=measure, **kwargs)

    return count


COUNTERS: dict[str, Counter] = {
    "created": _referrals("created"),
    "closed": _referrals("closed"),
    "provided": _referrals("provided"),
    "not_provided": _referrals("not_provided"),
    "assessed": assessment_counts_by,
    "rated": rating_counts_by,
}
# The measures with a key (the others' key is always "").
KEYED = {"created", "not_provided", "assessed", "rated"}
# What each cut holds: the measures, and what their rows are grouped by besides the month.
CUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    CountCut.ORGANIZATION: (
        ("created", "closed", "provided", "not_provided", "assessed"),
        ("organization", "organization_type"),
    ),
    CountCut.TYPE: (tuple(COUNTERS), ("organization_type", "key")),
    CountCut.COUNTY: (tuple(COUNTERS), ("county", "key")),
}
# A reopening's transaction is short: one that marked its month this long before the counting began has
# committed, and the counting saw it.
STALE_MARGIN = timedelta(minutes=5)


def month_of(moment: datetime) -> date:
    return moment.astimezone(KENTUCKY).date().replace(day=1)


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


# --- Counting the months --------------------------------------------------------------------------------


def metrics_recount(*, now: datetime) -> CountRun:
    """Count every whole month before the current one (Kentucky's clock) into the summary, in one
    transaction: readers see the old counts or the new, never half. A month marked stale before the counting
    began (with a margin for a reopening still committing) is clean again; one marked since stays stale."""
    started = clock.now()
    current = kentucky_today(now).replace(day=1)
    firsts = [at for at in (referrals_first_at(), assessments_first_at()) if at is not None]
    first = min((month_of(at) for at in firsts), default=current)
    until = kentucky_midnight(current)
    rows: list[MonthlyCount] = []
    for cut, (measures, groups) in CUTS.items():
        for measure in measures:
            by = ("month", *(group for group in groups if group != "key" or measure in KEYED))
            for row in COUNTERS[measure](scope=Scope(), since=kentucky_midnight(first), until=until, by=by):
                rows.append(
                    MonthlyCount(
                        cut=cut,
                        month=month_of(row["month"]),
                        measure=measure,
                        key=row.get("key") or "",
                        organization_id=row.get("organization"),
                        organization_type=row.get("organization_type") or "",
                        county_fips=row.get("county") or "",
                        n=row["n"],
                    )
                )
    with transaction.atomic():
        MonthlyCount.objects.all().delete()
        MonthlyCount.objects.bulk_create(rows, batch_size=5000)
        CountedType.objects.all().delete()
        CountedType.objects.bulk_create(
            [CountedType(organization_id=pk, type=kind) for pk, kind in organization_types().items()],
            batch_size=5000,
        )
        StaleMonth.objects.filter(marked_at__lte=started - STALE_MARGIN).delete()
        CountRun.objects.all().delete()
        whole = first < current
        return CountRun.objects.create(
            started_at=now,
            first_month=first if whole else None,
            last_month=month_before(current) if whole else None,
        )


@recurring.register(
    "reporting.metrics_recount",
    schedule=recurring.daily(at=time(1, 30)),
    time_zone=KENTUCKY_CLOCK_NAME,
)
def metrics_recount_nightly(*, period: date, due_at: datetime) -> None:
    metrics_recount(now=clock.now())


def month_stale_mark(*, closed_at: datetime | None, now: datetime, **_kwargs: Any) -> None:
    """A referral closed at `closed_at` was reopened: its month's counts changed."""
    if closed_at is not None:
        StaleMonth.objects.create(month=month_of(closed_at), marked_at=now)


# --- Reading ------------------------------------------------------------------------------------------


@dataclass
class Counts:
    """The counts of one page: one scope, the summary's state read once."""

    scope: Scope
    _run: CountRun | None = None
    _stale: set[date] = field(default_factory=set)
    _types_same: bool | None = None
    _type_ids: list[Any] | None = None
    # Live counts already made for this page: the current month's days are asked for more than once.
    _live: dict[tuple[str, datetime | None, datetime, str], list[dict[str, Any]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self._run = CountRun.objects.order_by("-started_at").first()
        if self._run is not None and self._run.last_month is not None:
            self._stale = set(StaleMonth.objects.values_list("month", flat=True))

    # Which rows of the summary answer a measure for the scope, grouped `by`, or None: count live.
    def _cut(self, measure: str, by: str) -> tuple[str, Q] | None:
        scope = self.scope
        if self._run is None or self._run.last_month is None:
            return None
        if scope.organization_id is not None:
            # One organization's totals from the by-organization cut; its keyed counts are few, counted live.
            if by or scope.county_fips or scope.organization_type:
                return None
            return CountCut.ORGANIZATION, Q(organization_id=scope.organization_id)
        if scope.county_fips:
            # The by-county cut has no organizations; a county and a type at once are counted live.
            if by == "organization" or scope.organization_type:
                return None
            return CountCut.COUNTY, Q(county_fips=scope.county_fips)
        if by != "organization":
            # Totals and keyed counts from the by-type cut, while the types are those counted.
            if not scope.organization_type:
                return CountCut.TYPE, Q()
            if self._types_unchanged():
                return CountCut.TYPE, Q(organization_type=scope.organization_type)
            if by == "key":
                return None
        # By organization, or totals for a type whose organizations changed: today's types.
        if scope.organization_type:
            if self._types_unchanged():
                return CountCut.ORGANIZATION, Q(organization_type=scope.organization_type)
            if self._type_ids is None:
                self._type_ids = organization_ids_of_type(organization_type=scope.organization_type)
            return CountCut.ORGANIZATION, Q(organization_id__in=self._type_ids)
        return CountCut.ORGANIZATION, Q()

    def _types_unchanged(self) -> bool:
        if self._types_same is None:
            counted = dict(CountedType.objects.values_list("organization_id", "type"))
            now = organization_types(organization_ids=counted)
            self._types_same = all(now.get(pk) == kind for pk, kind in counted.items())
        return self._types_same

    def _split(
        self, since: datetime | None, until: datetime
    ) -> tuple[list[date], list[tuple[datetime | None, datetime]]]:
        """The whole months of [since, until) the summary answers, and the windows to count live."""
        run = self._run
        assert run is not None
        assert run.first_month is not None
        assert run.last_month is not None
        months: list[date] = []
        live: list[tuple[datetime | None, datetime]] = []

        def add_live(start: datetime | None, end: datetime) -> None:
            if live and live[-1][1] == start:
                live[-1] = (live[-1][0], end)
            elif start is None or start < end:
                live.append((start, end))

        month = run.first_month if since is None else month_of(since)
        if since is None:
            add_live(None, kentucky_midnight(month))
        elif month < run.first_month:
            add_live(since, min(until, kentucky_midnight(run.first_month)))
            month = run.first_month
        while kentucky_midnight(month) < until:
            start, end = kentucky_midnight(month), kentucky_midnight(month_after(month))
            whole = (since is None or since <= start) and end <= until
            if whole and run.first_month <= month <= run.last_month and month not in self._stale:
                months.append(month)
            else:
                add_live(start if since is None else max(since, start), min(until, end))
            month = month_after(month)
        return months, live

    def rows(self, measure: str, *, since: datetime | None, until: datetime, by: str = "") -> dict[Any, int]:
        """The measure's count in [since, until): {"": n}, or by "key" or by "organization"."""
        cut = self._cut(measure, by)
        totals: dict[Any, int] = defaultdict(int)
        live: Iterable[tuple[datetime | None, datetime]] = [(since, until)]
        if cut is not None:
            months, live = self._split(since, until)
            if months:
                group = {"key": "key", "organization": "organization_id"}.get(by)
                summary = MonthlyCount.objects.filter(cut[1], cut=cut[0], measure=measure, month__in=months)
                if group is None:
                    totals[""] += summary.aggregate(total=Sum("n"))["total"] or 0
                else:
                    for row in summary.values(group).annotate(total=Sum("n")).order_by():
                        totals[row[group]] += row["total"]
        for start, end in live:
            for row in self._count_live(measure, start, end, by):
                totals[row.get(by, "") if by else ""] += row["n"]
        return {group: n for group, n in totals.items() if n or not by}

    def _count_live(
        self, measure: str, since: datetime | None, until: datetime, by: str
    ) -> list[dict[str, Any]]:
        key = (measure, since, until, by)
        if key not in self._live:
            self._live[key] = COUNTERS[measure](
                scope=self.scope, since=since, until=until, by=(by,) if by else ()
            )
        return self._live[key]

    def total(self, measure: str, *, since: datetime | None, until: datetime) -> int:
        return self.rows(measure, since=since, until=until).get("", 0)
