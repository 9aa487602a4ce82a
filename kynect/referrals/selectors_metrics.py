"""Counts of referrals for the metrics dashboards and the incentive report (DESIGN §5.7). Aggregates only:
no resident's details leave this module.

Every count takes the same narrowing, a `Scope`: the resident's county, the organization's type (the
organization credited: the sender for referrals made, the receiver for referrals closed) and one
organization. A referral is counted when it was made (`created_at`) or closed (`closed_at`); a referral
reopened is no longer closed, and counts again when it closes again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from kynect.core.counting import Scope
from kynect.referrals.models import Referral

CLOSED_STATUSES = Referral.BOX_STATUSES[Referral.Box.CLOSED]
# A closing with an outcome: the receiver closed the loop (what the incentive report pays).
OUTCOME_STATUSES = (Referral.Status.COMPLETED, Referral.Status.FAILED)


def _narrowed(scope: Scope, *, side: str) -> QuerySet[Referral]:
    """Referrals narrowed to the scope; `side` names the organization credited ("sending" or "receiving")."""
    referrals = Referral.objects.all()
    if scope.county_fips:
        referrals = referrals.filter(resident__county_fips=scope.county_fips)
    if scope.organization_type:
        referrals = referrals.filter(**{f"{side}_organization__type": scope.organization_type})
    if scope.organization_id is not None:
        referrals = referrals.filter(**{f"{side}_organization_id": scope.organization_id})
    return referrals


def _between(field: str, since: datetime | None, until: datetime | None) -> Q:
    window = Q()
    if since is not None:
        window &= Q(**{f"{field}__gte": since})
    if until is not None:
        window &= Q(**{f"{field}__lt": until})
    return window


def referrals_created_count(
    *, scope: Scope, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Referrals made in [since, until) (all time without bounds)."""
    return _narrowed(scope, side="sending").filter(_between("created_at", since, until)).count()


def referrals_closed_count(
    *, scope: Scope, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Referrals closed in [since, until), whatever the closing (provided, not provided, rejected, cancelled,
    expired, entered in error)."""
    return (
        _narrowed(scope, side="receiving")
        .filter(_between("closed_at", since, until), status__in=CLOSED_STATUSES)
        .count()
    )


@dataclass(frozen=True)
class Provision:
    provided: int
    not_provided: int
    reasons: list[tuple[str, int]]  # ClosureReason codes, most frequent first


def resource_provision(*, scope: Scope, since: datetime, until: datetime, top: int = 3) -> Provision:
    """Referrals closed with an outcome in [since, until): resource provided or not, and the `top` reasons
    it was not."""
    closed = _narrowed(scope, side="receiving").filter(
        _between("closed_at", since, until), status__in=OUTCOME_STATUSES
    )
    totals = closed.aggregate(
        provided=Count("id", filter=Q(status=Referral.Status.COMPLETED)),
        not_provided=Count("id", filter=Q(status=Referral.Status.FAILED)),
    )
    reasons = (
        closed.filter(status=Referral.Status.FAILED)
        .values("not_provided_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "not_provided_reason")[:top]
    )
    return Provision(
        provided=totals["provided"],
        not_provided=totals["not_provided"],
        reasons=[(row["not_provided_reason"], row["n"]) for row in reasons],
    )


def referrals_created_by_need(*, scope: Scope, since: datetime, until: datetime) -> dict[str, int]:
    """Referrals made in [since, until) by the need they name (an SDoH domain code); needs with none left
    out."""
    rows = (
        _narrowed(scope, side="sending")
        .filter(_between("created_at", since, until))
        .values("need")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["need"]: row["n"] for row in rows}


def top_creators(*, scope: Scope, since: datetime, until: datetime, limit: int) -> list[tuple[Any, int]]:
    """The organizations that made the most referrals in [since, until): (organization id, count), most first
    (ties by id, so the order is stable)."""
    rows = (
        _narrowed(scope, side="sending")
        .filter(_between("created_at", since, until), sending_organization__isnull=False)
        .values("sending_organization_id")
        .annotate(n=Count("id"))
        .order_by("-n", "sending_organization_id")[:limit]
    )
    return [(row["sending_organization_id"], row["n"]) for row in rows]


def top_closers(*, scope: Scope, since: datetime, until: datetime, limit: int) -> list[tuple[Any, int]]:
    """The organizations that closed the most referrals with an outcome in [since, until)."""
    rows = (
        _narrowed(scope, side="receiving")
        .filter(
            _between("closed_at", since, until),
            status__in=OUTCOME_STATUSES,
            receiving_organization__isnull=False,
        )
        .values("receiving_organization_id")
        .annotate(n=Count("id"))
        .order_by("-n", "receiving_organization_id")[:limit]
    )
    return [(row["receiving_organization_id"], row["n"]) for row in rows]


@dataclass(frozen=True)
class Closing:
    """A referral closed with an outcome, as the incentive report pays it."""

    referral_id: Any
    organization_id: Any
    closed_at: datetime


def referral_closings(
    *, organization_ids: Iterable[Any], until: datetime, since: datetime | None = None
) -> list[Closing]:
    """The referrals the organizations hold closed with an outcome now, closed in [since, until)."""
    rows = Referral.objects.filter(
        _between("closed_at", since, until),
        receiving_organization_id__in=list(organization_ids),
        status__in=OUTCOME_STATUSES,
    ).values_list("pk", "receiving_organization_id", "closed_at")
    # A closed referral always has `closed_at` (a constraint): the filter only tells the types.
    return [
        Closing(referral_id=pk, organization_id=organization, closed_at=at)
        for pk, organization, at in rows.iterator()
        if at is not None
    ]
