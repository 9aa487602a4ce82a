"""The migration that gives onboarding its states: organizations already onboarded become approved,
keeping the time they were onboarded as the decision's; the others stay applied."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kynect.accounts.models import Organization

BEFORE = [("accounts", "0005_user_notify_by")]
ONBOARDED = datetime(2025, 6, 1, 14, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)  # migrations run outside a test's transaction
def test_onboarded_organizations_become_approved_and_the_others_stay_applied():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("accounts", "Organization")
        onboarded = old.objects.create(name="Onboarded", type="not_for_profit", onboarded_at=ONBOARDED)
        waiting = old.objects.create(name="Waiting", type="hospital")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    approved = Organization.objects.get(pk=onboarded.pk)
    applied = Organization.objects.get(pk=waiting.pk)
    assert (approved.status, approved.onboarded_at, approved.decided_at) == ("approved", ONBOARDED, ONBOARDED)
    assert (applied.status, applied.onboarded_at, applied.decided_at) == ("applied", None, None)
