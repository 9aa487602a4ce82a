"""Reads for the Partner Referral Dashboard (one page per organization): referrals created and received
in a period, the closure rate, the median days to close, the referrals open more than 7 days, the
outcomes and the top reasons a resource was not provided.

A period is whole days on Kentucky's clock (`kynect.core.periods`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q

from kynect.core.periods import Period
from kynect.referrals.models import Referral

OPEN_TOO_LONG = timedelta(days=7)
TOP_REASONS = 5
MAX_PERIOD_DAYS = 366
# Medians are taken in Python over at most this many closed referrals of a period.
MEDIAN_ROW_LIMIT = 50_000


@dataclass(frozen=True)
class DashboardFigures:
    created: int
    received: int
    closed: int
    median_days_to_close: float | None
    open_over_7_days: int
    outcomes: dict[str, int]  # closed statuses of the referrals received, every one (zeros included)
    top_reasons: list[tuple[str, int]]  # ClosureReason codes, most frequent first

    @property
    def closure_rate(self) -> float | None:
        return self.closed / self.received if self.received else None


CLOSED_STATUSES = Referral.BOX_STATUSES[Referral.Box.CLOSED]


def dashboard_figures(*, organization_id: Any, period: Period, now: datetime) -> DashboardFigures:
    """The organization's figures for referrals made in the period (open more than 7 days: now)."""
    in_period = Q(created_at__gte=period.start, created_at__lt=period.end)
    received = Referral.objects.filter(in_period, receiving_organization_id=organization_id)
    totals = Referral.objects.filter(in_period).aggregate(
        created=Count("id", filter=Q(sending_organization_id=organization_id)),
        received=Count("id", filter=Q(receiving_organization_id=organization_id)),
        closed=Count("id", filter=Q(receiving_organization_id=organization_id, status__in=CLOSED_STATUSES)),
    )
    outcomes: dict[str, int] = dict.fromkeys(CLOSED_STATUSES, 0)
    for row in (
        received.filter(status__in=CLOSED_STATUSES).values("status").annotate(n=Count("id")).order_by()
    ):
        outcomes[row["status"]] = row["n"]
    reasons = list(
        received.exclude(not_provided_reason="")
        .values("not_provided_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "not_provided_reason")[:TOP_REASONS]
    )
    durations = list(
        received.filter(closed_at__isnull=False)
        .annotate(took=F("closed_at") - F("created_at"))
        .values_list("took", flat=True)[:MEDIAN_ROW_LIMIT]
    )
    open_too_long = Referral.objects.filter(
        receiving_organization_id=organization_id,
        status__in=Referral.OPEN_STATUSES,
        created_at__lte=now - OPEN_TOO_LONG,
    ).count()
    return DashboardFigures(
        created=totals["created"],
        received=totals["received"],
        closed=totals["closed"],
        median_days_to_close=(
            statistics.median(duration.total_seconds() / 86400 for duration in durations)
            if durations
            else None
        ),
        open_over_7_days=open_too_long,
        outcomes=outcomes,
        top_reasons=[(row["not_provided_reason"], row["n"]) for row in reasons],
    )
