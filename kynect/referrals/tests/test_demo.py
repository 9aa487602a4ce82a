"""The demo referrals: listings for the demo partners, referrals in every state, and idempotence."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kynect.accounts.models import Organization
from kynect.assessments.models import RiskRating
from kynect.directory.models import SearchEntry, Service
from kynect.referrals.models import OutreachAttempt, Referral, ReferralEvent
from kynect.residents.models import EnrolledProgram, HouseholdMember, Resident

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo_referrals", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Referral,
            ReferralEvent,
            Resident,
            HouseholdMember,
            EnrolledProgram,
            Service,
            SearchEntry,
            Organization,
            OutreachAttempt,
            RiskRating,
        )
    )


def test_it_is_refused_outside_the_demo_environment() -> None:
    with pytest.raises(CommandError, match="DJANGO_ENV=demo"):
        call_command("seed_demo_referrals", stdout=StringIO())
    assert not Referral.objects.exists()


def test_the_demo_has_referrals_in_every_state_and_seeding_twice_changes_nothing(settings) -> None:
    settings.DJANGO_ENV = "demo"
    assert "13 made" in _seed()

    statuses = set(Referral.objects.values_list("status", flat=True))
    assert statuses == {s for s in Referral.Status.values if s != Referral.Status.ENTERED_IN_ERROR}
    assert Referral.objects.filter(not_provided_reason="expired").count() == 1
    # The worker's deadlines are applied: the workspace has something on each list.
    assert Referral.objects.filter(
        status__in=Referral.OPEN_STATUSES, receiver_onboarded=True, outreach_flagged_at__isnull=False
    ).exists()
    assert (
        Referral.objects.filter(
            status__in=Referral.OPEN_STATUSES, receiver_onboarded=False, expirable_at__isnull=False
        ).count()
        == 2
    )
    not_onboarded = Organization.objects.filter(onboarded_at__isnull=True, hsds_organization__isnull=False)
    assert not_onboarded.count() == 1
    assert (
        Organization.objects.filter(onboarded_at__isnull=False, hsds_organization__isnull=False).count() == 3
    )
    assert SearchEntry.objects.count() == 4  # every demo listing can be found
    assert Resident.objects.count() == 4
    assert all(resident.programs.exists() for resident in Resident.objects.all())
    assert HouseholdMember.objects.count() == 4
    # Three demo residents have risk factors from their Medicaid application.
    assert RiskRating.objects.filter(source="medicaid").values("resident").distinct().count() == 3
    assert RiskRating.objects.count() == 10

    before = _counts()
    assert "0 made" in _seed()
    assert _counts() == before
