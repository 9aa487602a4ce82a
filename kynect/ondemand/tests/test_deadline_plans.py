"""PostgreSQL plans of the sweeper's and the routing loop's deadline queries when the planner's statistics
are stale, as they are during a burst: taken when almost nothing was pending, read when thousands are.

With an index on (status, column), the planner counted on the few pending rows its statistics last saw
and read another index of pending rows instead (one pending request per phone, one pending offer per
helper): every pending row, then a sort, for each claim. Routing claims once a decision, which cost
2.5 ms with 3,000 pending and 4.4 ms under load on the On Demand burst. Each deadline's index is partial
on the rows that can be due, and routing's names no status (`route_at` is set only while a request is
pending, a constraint), so no other index can stand in for it.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from kynect.ondemand.deadlines import DEADLINES
from kynect.ondemand.models import HelpRequest, Offer
from kynect.ondemand.tests.factories import ready_helper
from kynect.ondemand.tests.test_eligibility_sql import START, _request

pytestmark = pytest.mark.django_db

# The indexes each deadline's claim may read (its model's Meta). The reminder's and the widening's claims may
# read the pending offers by another index of them, whose rows are the same bar those already reminded: the
# planner weighs them alike when it counts on one row. It runs once a sweep for a batch, not once a
# decision.
DEADLINE_INDEXES = {
    "ondemand.offers_expire": {"offer_expiry_due"},
    "ondemand.offers_remind": {"offer_reminder_due", "offer_expiry_due", "offer_one_pending"},
    "ondemand.offers_widen": {"offer_widen_due", "offer_expiry_due", "offer_one_pending"},
    "ondemand.offers_abandon": {"offer_verify_due"},
    "ondemand.requests_route": {"help_request_route_due"},
    "ondemand.requests_sla": {"help_request_sla_due"},
    "ondemand.requests_dial_remind": {"help_request_dial_remind_due"},
    "ondemand.requests_unserved": {"help_request_unserved_due"},
}


def _indexes_read(plan: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(plan, dict):
        if "Index Name" in plan:
            found.add(plan["Index Name"])
        for value in plan.values():
            found |= _indexes_read(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= _indexes_read(value)
    return found


def test_every_deadline_has_its_index():
    assert set(DEADLINE_INDEXES) == set(DEADLINES)


def test_deadline_claims_read_their_index_when_the_statistics_saw_nothing_pending():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner only (SQLite has no statistics unless analysed)")
    rng = random.Random(3)
    helper = ready_helper(counties=("21073",))
    # What the statistics see: a week of closed requests and answered offers, nothing pending.
    closed = [_request(rng, number) for number in range(300)]
    HelpRequest.objects.filter(pk__in=[r.pk for r in closed]).update(
        status=HelpRequest.Status.CANCELLED, closed_at=START
    )
    Offer.objects.bulk_create(
        Offer(
            help_request=request,
            helper=helper,
            kind=Offer.Kind.MASS,
            round=2,
            status=Offer.Status.REJECTED,
            score=0.0,
            offered_at=START,
            expires_at=START + timedelta(minutes=15),
            token_hash=f"{number:064d}",
        )
        for number, request in enumerate(closed)
    )
    with connection.cursor() as cursor:
        # Earlier tests on this database leave dead entries in the indexes (rolled back rows), more in
        # some than in others, and the planner weighs an index by its size: rebuilt, each holds only
        # this test's rows, so the plans depend on them alone and not on which tests ran before.
        for model in (HelpRequest, Offer):
            cursor.execute(f"REINDEX TABLE {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute("ANALYZE")
    # Then a burst: hundreds pending and due, which the statistics do not know of.
    due = START - timedelta(minutes=1)
    burst = [
        _request(
            rng,
            1000 + number,
            submitted_at=START - timedelta(hours=2),
            clock_starts_at=START - timedelta(hours=2),
            sla_due_at=START - timedelta(hours=1),
            unserved_at=due,
            route_at=due,
        )
        for number in range(400)
    ]
    # Offers pending (due to expire and to be reminded) and accepted by link, not verified (due to be
    # abandoned), one helper each.
    offers = []
    for number, request in enumerate(burst[:60]):
        accepted = number % 2 == 1
        offers.append(
            Offer(
                help_request=request,
                helper=ready_helper(counties=("21073",)),
                kind=Offer.Kind.GENERAL,
                round=1,
                status=Offer.Status.ACCEPTED if accepted else Offer.Status.PENDING,
                accepted_via=Offer.Via.LINK if accepted else "",
                verify_due_at=due if accepted else None,
                score=0.0,
                offered_at=due - timedelta(minutes=15),
                expires_at=due,
                remind_at=due,
                widen_at=None if accepted else due,
                token_hash=f"{2000 + number:064d}",
            )
        )
    Offer.objects.bulk_create(offers)
    for name, deadline in DEADLINES.items():
        query = deadline.due(now=START).values_list("pk", flat=True)[:1]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        assert _indexes_read(plan) & DEADLINE_INDEXES[name], (name, json.dumps(plan, indent=1))
