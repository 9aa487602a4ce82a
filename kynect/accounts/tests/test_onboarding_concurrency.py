"""Deciding an application under real concurrency (PostgreSQL): administrators approving and declining
the same application at the same moment leave exactly one decision, and the applicant one email."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kynect.accounts.models import Organization, Role, User
from kynect.accounts.services import organization_approve, organization_decline
from kynect.accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from kynect.core.tests.concurrency import in_threads, postgresql_only
from kynect.notifications.models import OutboundMessage

pytestmark = [postgresql_only, pytest.mark.django_db(transaction=True)]


def test_of_parallel_decisions_exactly_one_wins():
    applicant = UserFactory.create()
    organization = OrganizationFactory.create(applied_by=applicant)
    admins = [MembershipFactory.create(role=Role.STATE_ADMIN).user for _ in range(8)]

    def decide(i: int) -> str:
        try:
            admin = User.objects.get(pk=admins[i].pk)
            application = Organization.objects.get(pk=organization.pk)
            if i % 2:
                organization_decline(actor=admin, organization=application, reason=f"Reason {i}")
            else:
                organization_approve(actor=admin, organization=application)
            return "won"
        except ValidationError:
            return "lost"

    outcomes = in_threads(8, decide)

    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    organization.refresh_from_db()
    assert organization.status in {"approved", "declined"}
    assert (organization.status == "approved") == (organization.onboarded_at is not None)
    assert OutboundMessage.objects.filter(recipient=applicant.email).count() == 1
