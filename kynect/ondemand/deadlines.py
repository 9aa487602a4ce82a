"""The deadlines of On Demand that the sweeper applies (DESIGN §5.6): for each, the rows that can be due
and the column that says when. The sweeps (`services/sweeps.py`) claim the due rows; the operational
metrics report how late the oldest one is, from the same definitions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from kynect.ondemand.models import HelpRequest, Offer


@dataclass(frozen=True)
class Deadline:
    rows: Callable[[], QuerySet[Any]]
    column: str

    def due(self, *, now: datetime) -> QuerySet[Any]:
        """The rows whose deadline has come, oldest first."""
        return self.rows().filter(**{f"{self.column}__lte": now}).order_by(self.column)


DEADLINES = {
    "ondemand.offers_expire": Deadline(
        lambda: Offer.objects.filter(status=Offer.Status.PENDING), "expires_at"
    ),
    "ondemand.offers_remind": Deadline(
        lambda: Offer.objects.filter(status=Offer.Status.PENDING, reminded_at__isnull=True), "remind_at"
    ),
    "ondemand.offers_widen": Deadline(
        lambda: Offer.objects.filter(status=Offer.Status.PENDING, widened_at__isnull=True), "widen_at"
    ),
    "ondemand.offers_abandon": Deadline(
        lambda: Offer.objects.filter(status=Offer.Status.ACCEPTED, verified_at__isnull=True), "verify_due_at"
    ),
    # `route_at` is set only while a request is pending (a constraint), so the claim names no status.
    "ondemand.requests_route": Deadline(
        lambda: HelpRequest.objects.filter(route_at__isnull=False), "route_at"
    ),
    "ondemand.requests_sla": Deadline(
        lambda: HelpRequest.objects.filter(
            status__in=HelpRequest.OPEN_STATUSES, first_contact_at__isnull=True, escalated_at__isnull=True
        ),
        "sla_due_at",
    ),
    # Names no status, as routing's: the sweep drops the reminder of a request no longer in progress.
    "ondemand.requests_dial_remind": Deadline(
        lambda: HelpRequest.objects.filter(first_contact_at__isnull=True, dial_reminded_at__isnull=True),
        "dial_remind_at",
    ),
    "ondemand.requests_unserved": Deadline(
        lambda: HelpRequest.objects.filter(status=HelpRequest.Status.PENDING), "unserved_at"
    ),
}


def deadlines_oldest_due(*, now: datetime) -> dict[str, datetime | None]:
    """For each deadline, when its oldest due row fell due (None when none is due)."""
    return {
        name: deadline.due(now=now).values_list(deadline.column, flat=True).first()
        for name, deadline in DEADLINES.items()
    }
