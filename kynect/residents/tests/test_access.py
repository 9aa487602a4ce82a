"""Every role of `accounts.Role` in every standing with a resident, for every action of the residents' access
table: the expected answer is read from `access.RULES`, the same table the pages and services ask."""

from __future__ import annotations

from typing import Any

import pytest

from kynect.accounts.models import Role
from kynect.core import clock
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.access import (
    ORGANIZATION_ROLES,
    RULES,
    Action,
    Decision,
    Standing,
    View,
    decide,
    resident_view,
)
from kynect.residents.models import Resident
from kynect.residents.services import consent_grant_pre_consent

pytestmark = pytest.mark.django_db

# Where the user stands, as the test builds it.
SITUATIONS = ("stranger", "referral", "consent", "self")


def standings_expected(role: str, situation: str) -> set[Standing]:
    """DESIGN §5.2 spelled out: staff stand by their organization's referral and consent, the resident
    by being themself, state administrators and referral specialists before every resident."""
    if role in (Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST):
        return {Standing.ANY}
    if role == Role.RESIDENT:
        return {Standing.SELF} if situation == "self" else set()
    if role in ORGANIZATION_ROLES:
        return {"referral": {Standing.REFERRAL}, "consent": {Standing.REFERRAL, Standing.CONSENT}}.get(
            situation, set()
        )
    return set()  # On Demand's helpers and agency admins: no standing with kynect resources' residents


def decision_expected(role: str, situation: str, action: Action) -> Decision:
    rule = RULES[action]
    if role not in rule.roles:
        return Decision.FORBIDDEN
    if standings_expected(role, situation) & rule.standings:
        return Decision.ALLOWED
    return Decision.NOT_FOUND


def world(role: str, situation: str) -> tuple[Any, Resident]:
    sender, receiver = partner(), partner()
    resident = referral(sender, receiver, resident=resident_input()).resident
    holds = situation in ("referral", "consent")
    if role == Role.RESIDENT or role in (Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST, Role.INSURANCE_AGENT):
        user = member(None, role)
    else:
        user = member(receiver.organization if holds else partner().organization, role)
    if situation == "consent":
        consent_grant_pre_consent(
            resident=resident, organization=receiver.organization, actor=user, now=clock.now()
        )
    if situation == "self":
        Resident.objects.filter(pk=resident.pk).update(user=user)
        resident.refresh_from_db()
    return user, resident


def test_every_action_has_a_rule():
    assert set(RULES) == set(Action)


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("role", Role.values)
def test_every_role_in_every_standing_is_answered_as_the_table_says(role, situation):
    user, resident = world(role, situation)
    answers = {action: decide(user=user, action=action, resident=resident) for action in Action}
    assert answers == {action: decision_expected(role, situation, action) for action in Action}
    view = resident_view(user=user, resident=resident)
    if answers[Action.VIEW_FULL] == Decision.ALLOWED:
        assert view == View.FULL
    elif answers[Action.VIEW_LIMITED] == Decision.ALLOWED:
        assert view == View.LIMITED
    else:
        assert view == View.NONE
