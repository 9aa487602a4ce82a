"""Reads for the referral specialists' workspace (DESIGN §5.1): the three lists of referrals that need
outreach, with the contact details outreach needs and nothing more (DESIGN §5.2).

The lists rely on the worker's deadlines (DESIGN §5.6): `outreach_flagged_at` is set 7 days after a
referral was made and `expirable_at` 14 days after one to an organization that has not onboarded, so a
list is right whenever it is read, whether or not anyone looked the day before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from kynect.referrals.models import Referral

WORKSPACE_PAGE_SIZE = 25
# Lists are counted up to this many ("1,000 or more"): counting every row of a long list costs more than
# the page itself, and nobody works through more than this in a day.
WORKSPACE_COUNT_LIMIT = 1000


class Queue:
    """The workspace's lists, by the `list` parameter of its address."""

    PARTNER = "partner"  # open more than 7 days, to an onboarded partner
    NOT_ONBOARDED = "not_onboarded"  # to an organization that has not onboarded
    OUTCOME = "outcome"  # closed; the outcome to confirm with the resident

    ALL = (PARTNER, NOT_ONBOARDED, OUTCOME)


# Each list's rows, as a condition the workspace's partial indexes (migration 0002) match.
QUEUE_CONDITIONS: dict[str, Q] = {
    Queue.PARTNER: Q(
        status__in=Referral.OPEN_STATUSES, receiver_onboarded=True, outreach_flagged_at__isnull=False
    ),
    Queue.NOT_ONBOARDED: Q(status__in=Referral.OPEN_STATUSES, receiver_onboarded=False),
    Queue.OUTCOME: Q(
        status__in=(Referral.Status.COMPLETED, Referral.Status.FAILED), outcome_confirmed_at__isnull=True
    ),
}

_ROW_RELATED = ("resident", "service", "receiving_listing", "receiving_organization", "sending_organization")


def workspace_referrals(*, queue: str) -> QuerySet[Referral]:
    """One list of the workspace, oldest first (the longest waiting come first)."""
    return (
        Referral.objects.filter(QUEUE_CONDITIONS[queue])
        .select_related(*_ROW_RELATED)
        .order_by("created_at", "id")
    )


def workspace_counts() -> dict[str, int]:
    """How many referrals each list holds, up to WORKSPACE_COUNT_LIMIT + 1 (more than the limit: "the
    limit or more"); one query per list, each on its own partial index."""
    return {
        queue: Referral.objects.filter(QUEUE_CONDITIONS[queue])[: WORKSPACE_COUNT_LIMIT + 1].count()
        for queue in Queue.ALL
    }


@dataclass(frozen=True)
class WorkspacePage:
    queue: str
    counts: dict[str, int]
    rows: list[Referral]
    page: int
    has_next: bool


def workspace_page(*, queue: str, page: int = 1) -> WorkspacePage:
    """A page of one list, with every list's count."""
    queue = queue if queue in Queue.ALL else Queue.PARTNER
    page = max(page, 1)
    start = (page - 1) * WORKSPACE_PAGE_SIZE
    rows = list(workspace_referrals(queue=queue)[start : start + WORKSPACE_PAGE_SIZE + 1])
    return WorkspacePage(
        queue=queue,
        counts=workspace_counts(),
        rows=rows[:WORKSPACE_PAGE_SIZE],
        page=page,
        has_next=len(rows) > WORKSPACE_PAGE_SIZE,
    )


def referral_is_expirable(referral: Referral) -> bool:
    """May a specialist close it as Expired (what `referrals_expire` will close)?"""
    return (
        referral.status in Referral.OPEN_STATUSES
        and not referral.receiver_onboarded
        and referral.expirable_at is not None
    )


def referral_for_outreach(*, referral_id: Any) -> Referral | None:
    """One referral with its outreach attempts, for the outreach form."""
    return (
        Referral.objects.select_related(*_ROW_RELATED)
        .prefetch_related("outreach__specialist")
        .filter(pk=referral_id)
        .first()
    )
