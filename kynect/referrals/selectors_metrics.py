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

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import TruncMonth

from kynect.core.counting import Scope
from kynect.core.periods import KENTUCKY
from kynect.referrals.models import Referral

CLOSED_STATUSES = Referral.BOX_STATUSES[Referral.Box.CLOSED]
# A closing with an outcome: the receiver closed the loop (what the incentive report pays).
OUTCOME_STATUSES = (Referral.Status.COMPLETED, Referral.Status.FAILED)


def _narrowed(scope: Scope, *, side: str) -> QuerySet[Referral]:
    """Referrals narrowed to the scope; `side` names the organization credited ("sending" or "receiving")."""
    referrals = Referral.objects.all()
    if scope.county_fips:
        referrals = referrals.filter(county_fips=scope.county_fips)
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


@dataclass(frozen=True)
class Measure:
    """What a referral count counts: the time that places a referral in a period, which referrals, the side
    credited (its organization and that organization's type), and the field a keyed count is keyed by."""

    time: str
    only: Q
    side: str
    key: str = ""


MEASURES = {
    # Referrals made, by the need they name.
    "created": Measure("created_at", Q(), "sending", key="need"),
    # Referrals closed, whatever the closing.
    "closed": Measure("closed_at", Q(status__in=CLOSED_STATUSES), "receiving"),
    # Closings with an outcome: the resource provided, or not (by the reason it was not).
    "provided": Measure("closed_at", Q(status=Referral.Status.COMPLETED), "receiving"),
    "not_provided": Measure(
        "closed_at", Q(status=Referral.Status.FAILED), "receiving", key="not_provided_reason"
    ),
}
GROUPS = ("organization", "organization_type", "county", "key", "month")


def referral_counts(
    *,
    measure: str,
    scope: Scope,
    since: datetime | None = None,
    until: datetime | None = None,
    by: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Referrals of `measure` placed in [since, until) (all time without bounds), narrowed to the scope and
    grouped `by` any of "organization" (the credited organization's id, None for a resident's own),
    "organization_type", "county" (the resident's when referred), "key" (the measure's key) and "month"
    (the first instant of the month on Kentucky's clock): each row holds the groups asked for and `n`."""
    counted = MEASURES[measure]
    fields = {
        "organization": F(f"{counted.side}_organization_id"),
        "organization_type": F(f"{counted.side}_organization__type"),
        "county": F("county_fips"),
        "key": F(counted.key) if counted.key else Value(""),
        "month": TruncMonth(counted.time, tzinfo=KENTUCKY),
    }
    groups = list(by)
    rows = _narrowed(scope, side=counted.side).filter(_between(counted.time, since, until), counted.only)
    if not groups:
        return [{"n": rows.count()}]
    grouped = (
        rows.values(**{f"group_{name}": fields[name] for name in groups}).annotate(n=Count("*")).order_by()
    )
    return [{**{name: row[f"group_{name}"] for name in groups}, "n": row["n"]} for row in grouped]


def referral_closings(
    *, organization_ids: Iterable[Any], until: datetime, since: datetime | None = None
) -> list[tuple[Any, Any, datetime]]:
    """The referrals the organizations hold closed with an outcome now, closed in [since, until), as the
    incentive report pays them: (referral id, receiving organization id, closed at). Read in one go: the
    report reads years of them, and a server-side cursor's round trips cost more than the memory."""
    rows = Referral.objects.filter(
        _between("closed_at", since, until),
        receiving_organization_id__in=list(organization_ids),
        status__in=OUTCOME_STATUSES,
    ).values_list("pk", "receiving_organization_id", "closed_at")
    # A closed referral always has `closed_at` (a constraint): the filter only tells the types.
    return [(pk, organization, at) for pk, organization, at in rows if at is not None]


def referrals_first_at() -> datetime | None:
    """When the first referral was made: where counting starts."""
    return Referral.objects.order_by("created_at").values_list("created_at", flat=True).first()
