"""Every role of `accounts.Role` in every standing with a resident, for every action of the residents' access
table: the expected answer is read from `access.RULES`, the same table the pages and services ask."""

from __future__ import annotations

from datetime import timedelta
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
from kynect.residents.models import Consent, Resident
from kynect.residents.services import consent_grant_pre_consent

pytestmark = pytest.mark.django_db

# Where the user stands, as the test builds it: "part2" is a general consent and a 42 CFR Part 2 consent.
# "consent only" is a consent held by an organization with no referral for the resident.
SITUATIONS = ("stranger", "referral", "consent", "consent only", "part2", "self")


def standings_expected(role: str, situation: str) -> set[Standing]:
    """DESIGN §5.2 spelled out: staff stand by their organization's referral and consent, the resident
    by being themself, state administrators and referral specialists before every resident."""
    if role in (Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST):
        return {Standing.ANY}
    if role == Role.RESIDENT:
        return {Standing.SELF} if situation == "self" else set()
    if role in ORGANIZATION_ROLES:
        return {
            "referral": {Standing.REFERRAL},
            "consent": {Standing.REFERRAL, Standing.CONSENT},
            "consent only": {Standing.CONSENT},
            "part2": {Standing.REFERRAL, Standing.CONSENT, Standing.PART2},
        }.get(situation, set())
    return set()  # On Demand's helpers and agency admins: no standing with kynect resources' residents


def decision_expected(role: str, situation: str, action: Action) -> Decision:
    rule = RULES[action]
    if role not in rule.roles:
        return Decision.FORBIDDEN
    if standings_expected(role, situation) & rule.standings:
        return Decision.ALLOWED
    return Decision.NOT_FOUND


def world(role: str, situation: str) -> tuple[Any, Resident]:
    """The user in `situation` with a resident who also has a Part 2 referral between two organizations
    the user is not in (a Substance Abuse need)."""
    sender, receiver = partner(), partner()
    resident = referral(sender, receiver, resident=resident_input()).resident
    referral(partner(), partner(), resident=resident_input(), need="substance_abuse")
    holds = situation in ("referral", "consent", "part2")
    elsewhere = partner()  # an organization with no referral for the resident
    if role == Role.RESIDENT or role in (Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST, Role.INSURANCE_AGENT):
        user = member(None, role)
    else:
        user = member(receiver.organization if holds else elsewhere.organization, role)
    if situation in ("consent", "part2"):
        consent_grant_pre_consent(
            resident=resident, organization=receiver.organization, actor=user, now=clock.now()
        )
    if situation == "consent only":
        consent_grant_pre_consent(
            resident=resident, organization=elsewhere.organization, actor=user, now=clock.now()
        )
    if situation == "part2":
        Consent.objects.create(
            resident=resident,
            organization=receiver.organization,
            kind=Consent.Kind.PART2,
            status=Consent.Status.ACTIVE,
            channel=Consent.Channel.IN_PERSON,
            granted_at=clock.now(),
            purpose="Care coordination",
            expires_at=clock.now() + timedelta(days=30),
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


# --- Every resident-data page and API endpoint, for every role in every standing -------------------------

# Roles that pass onboarding's gate for resident data (trained, in an onboarded organization or a statewide
# role, or a resident seeing their own): the others are refused (403) before any resident is looked at.
GATED_OUT = {Role.INSURANCE_AGENT, Role.AGENCY_ADMIN}


def view_expected(role: str, situation: str) -> str:
    if decision_expected(role, situation, Action.VIEW_FULL) == Decision.ALLOWED:
        return "full"
    if decision_expected(role, situation, Action.VIEW_LIMITED) == Decision.ALLOWED:
        return "limited"
    forbidden = all(
        decision_expected(role, situation, action) == Decision.FORBIDDEN
        for action in (Action.VIEW_FULL, Action.VIEW_LIMITED)
    )
    return "403" if forbidden else "404"


def answer_expected(role: str, situation: str, endpoint: str) -> str:
    """What each page and endpoint answers, from the table: allowed (full or limited where it has both),
    403 or 404."""
    if role in GATED_OUT:
        return "403"
    if endpoint in ("detail page", "resident API"):
        return view_expected(role, situation)
    if endpoint in ("notes page", "plan page"):
        # The Resident Detail Screen's "View All" pages: the full view's only.
        view = view_expected(role, situation)
        return "allowed" if view == "full" else ("403" if view == "403" else "404")
    if endpoint == "part2 data":
        # Another organizations' Part 2 referral: counted, with the §2.32 notice, only on the full view of
        # a user the table lets see Part 2 data.
        view = view_expected(role, situation)
        if view in ("403", "404"):
            return view
        allowed = decision_expected(role, situation, Action.VIEW_PART2) == Decision.ALLOWED
        return "shown" if view == "full" and allowed else "withheld"
    action = {
        "consent page": Action.CONSENTS,
        "consents API": Action.CONSENTS,
        "access log": Action.ACCESS_LOG,
    }[endpoint]
    decision = decision_expected(role, situation, action)
    if decision == Decision.FORBIDDEN:
        return "403"
    if decision == Decision.NOT_FOUND:
        return "404"
    # The consent page is an organization's: someone allowed to read consents without being its staff
    # (the resident, a state administrator) reads them through the API and My Plan instead.
    if endpoint == "consent page" and role not in ORGANIZATION_ROLES:
        return "403"
    return "allowed"


def answer(user: Any, resident: Resident, endpoint: str) -> str:
    from django.test import Client

    from kynect.accounts.tokens import api_token_create

    client = Client()
    client.force_login(user)
    api = {"Authorization": f"Bearer {api_token_create(user=user)[1]}"}
    response = {
        "detail page": lambda: client.get(f"/residents/{resident.pk}/"),
        "part2 data": lambda: client.get(f"/residents/{resident.pk}/"),
        "notes page": lambda: client.get(f"/residents/{resident.pk}/notes/"),
        "plan page": lambda: client.get(f"/residents/{resident.pk}/plan/"),
        "consent page": lambda: client.get(f"/residents/{resident.pk}/consent/"),
        "access log": lambda: client.get(f"/residents/{resident.pk}/access-log/"),
        "resident API": lambda: client.get(f"/api/residents/{resident.pk}", headers=api),
        "consents API": lambda: client.get(f"/api/residents/{resident.pk}/consents", headers=api),
    }[endpoint]()
    if response.status_code in (403, 404):
        return str(response.status_code)
    assert response.status_code == 200, (endpoint, response.status_code)
    if endpoint == "detail page":
        return "full" if "risk-heading" in response.content.decode() else "limited"
    if endpoint == "part2 data":
        return "shown" if "data-part2-notice" in response.content.decode() else "withheld"
    if endpoint == "resident API":
        return str(response.json()["view"])
    return "allowed"


ENDPOINTS = (
    "detail page",
    "part2 data",
    "notes page",
    "plan page",
    "consent page",
    "access log",
    "resident API",
    "consents API",
)


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("role", Role.values)
def test_every_page_and_endpoint_answers_as_the_table_says(role, situation):
    user, resident = world(role, situation)
    answers = {endpoint: answer(user, resident, endpoint) for endpoint in ENDPOINTS}
    assert answers == {endpoint: answer_expected(role, situation, endpoint) for endpoint in ENDPOINTS}


def test_anonymous_visitors_are_sent_to_sign_in_or_refused():
    from django.test import Client

    resident = referral(partner(), partner(), resident=resident_input()).resident
    client = Client()
    for path in (
        f"/residents/{resident.pk}/",
        f"/residents/{resident.pk}/consent/",
        f"/residents/{resident.pk}/access-log/",
    ):
        assert client.get(path).status_code == 302
    for path in (f"/api/residents/{resident.pk}", f"/api/residents/{resident.pk}/consents"):
        assert client.get(path).status_code == 401
