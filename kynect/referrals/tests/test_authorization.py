"""Every role of `accounts.Role` (all eleven) and anonymous, on every referral page and API endpoint: allowed,
403, or 404 for a referral the user has no part in. The expected answer is worked out here from the one
table the pages and the API read (`access.RULES`: the roles of each action and the side of the referral
they must be on), and the onboarding gate for resident data; the answers come from real requests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kynect.accounts.models import Role, User
from kynect.accounts.selectors import SEE_RESIDENT_DATA_ROLES
from kynect.accounts.tokens import api_token_create
from kynect.referrals.access import RULES, Action, Side
from kynect.referrals.models import Referral
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.models import Resident

pytestmark = pytest.mark.django_db

STATEWIDE = {Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST}
ORGANIZATION_PLACES = ("receiving", "sending", "other")


@dataclass(frozen=True)
class Endpoint:
    name: str
    action: Action
    api: bool
    method: str
    about_referral: bool


ENDPOINTS = [
    Endpoint("Inbox page", Action.BOXES, api=False, method="get", about_referral=False),
    Endpoint("referral page", Action.VIEW, api=False, method="get", about_referral=True),
    Endpoint("close page", Action.CLOSE, api=False, method="get", about_referral=True),
    Endpoint("accept button", Action.ACCEPT, api=False, method="post", about_referral=True),
    Endpoint("cancel button", Action.CANCEL, api=False, method="post", about_referral=True),
    Endpoint("note form", Action.NOTE, api=False, method="post", about_referral=True),
    Endpoint("dashboard", Action.DASHBOARD, api=False, method="get", about_referral=False),
    Endpoint("specialist workspace", Action.WORKSPACE, api=False, method="get", about_referral=False),
    Endpoint("outreach page", Action.OUTREACH, api=False, method="get", about_referral=True),
    Endpoint("expire button", Action.EXPIRE, api=False, method="post", about_referral=False),  # in bulk
    Endpoint("API list", Action.BOXES, api=True, method="get", about_referral=False),
    Endpoint("API referral", Action.VIEW, api=True, method="get", about_referral=True),
    Endpoint("API FHIR bundle", Action.VIEW, api=True, method="get", about_referral=True),
    Endpoint("API accept", Action.ACCEPT, api=True, method="post", about_referral=True),
]


def _people() -> list[tuple[str | None, str]]:
    """(role, where the person stands) for every role: organization roles in the receiving, the
    sending and an unrelated organization; residents as the referral's own and another; statewide roles."""
    people: list[tuple[str | None, str]] = [(None, "anonymous")]
    for role in Role.values:
        if role in STATEWIDE:
            people.append((role, "statewide"))
        elif role == Role.RESIDENT:
            people += [(role, "own"), (role, "other")]
        else:
            people += [(role, place) for place in ORGANIZATION_PLACES]
    return people


def expected(role: str | None, place: str, endpoint: Endpoint) -> str:
    """What the table says: "allowed", "403", "404" or "sign in"."""
    if role is None:
        return "sign in"
    if role not in SEE_RESIDENT_DATA_ROLES and role != Role.RESIDENT:
        return "403"  # onboarding's gate: this role never sees residents' data
    rule = RULES[endpoint.action]
    if not endpoint.about_referral:
        return "allowed" if role in rule.roles else "403"
    party = place in ("receiving", "sending", "own")
    sees_any = role in STATEWIDE and role in RULES[Action.VIEW].roles
    if role not in rule.roles:
        return "403" if party or sees_any else "404"
    if role in STATEWIDE or rule.side == Side.ANYONE:
        return "allowed"
    on_side = {
        Side.RECEIVING: place == "receiving",
        Side.SENDING: place == "sending",
        Side.PARTY: party,
    }[rule.side]
    if on_side:
        return "allowed"
    return "403" if party else "404"


def _answer(response: Any, *, api: bool) -> str:
    code = response.status_code
    if code in (401,) or (code == 302 and "/login/" in response.get("Location", "")):
        return "sign in"
    if code in (403, 404):
        return str(code)
    assert code in (200, 302), (code, response.content[:300])
    return "allowed"


@pytest.fixture
def world() -> dict[str, Any]:
    places = {"receiving": partner(), "sending": partner(), "other": partner()}
    own = member(None, Role.RESIDENT)
    return {"places": places, "own": own}


def _person(world: dict[str, Any], role: str | None, place: str) -> User | None:
    if role is None:
        return None
    if place in ORGANIZATION_PLACES:
        return member(world["places"][place].organization, role)
    if place == "own":
        return world["own"]
    return member(None, role)


def _fresh_referral(world: dict[str, Any]) -> Referral:
    places = world["places"]
    made = referral(places["sending"], places["receiving"], resident=resident_input())
    Resident.objects.filter(pk=made.resident_id).update(user=world["own"])
    return made


def _call(user: User | None, endpoint: Endpoint, made: Referral) -> Any:
    client = Client()
    headers: dict[str, str] = {}
    if endpoint.api:
        if user is not None:
            headers["Authorization"] = f"Bearer {api_token_create(user=user)[1]}"
        base = f"/api/referrals/{made.pk}"
        if endpoint.name == "API list":
            return client.get("/api/referrals", {"box": "inbox"}, headers=headers)
        if endpoint.name == "API FHIR bundle":
            return client.get(f"{base}/fhir", headers=headers)
        if endpoint.method == "get":
            return client.get(base, headers=headers)
        return client.post(
            f"{base}/actions",
            data=json.dumps({"action": endpoint.action.value}),
            content_type="application/json",
            headers=headers,
        )
    if user is not None:
        client.force_login(user)
    if endpoint.action == Action.BOXES:
        return client.get(reverse("referrals:inbox"))
    if endpoint.action == Action.DASHBOARD:
        return client.get(reverse("referrals:dashboard"))
    if endpoint.action == Action.WORKSPACE:
        return client.get(reverse("referrals:specialist"))
    if endpoint.action == Action.OUTREACH:
        return client.get(reverse("referrals:specialist_outreach", args=[made.pk]))
    if endpoint.action == Action.EXPIRE:
        return client.post(reverse("referrals:specialist_expire"), {"referral": [str(made.pk)]})
    if endpoint.name == "referral page":
        return client.get(reverse("referrals:detail", args=[made.pk]))
    if endpoint.name == "close page":
        return client.get(reverse("referrals:close", args=[made.pk]))
    if endpoint.name == "note form":
        return client.post(reverse("referrals:note", args=[made.pk]), {"body": "Called"})
    prefix = endpoint.action.value
    return client.post(
        reverse("referrals:act", args=[made.pk, prefix]),
        {f"{prefix}-seen_status": made.status, f"{prefix}-reason": ""},
    )


def test_the_people_cover_every_role_and_anonymous():
    roles = {role for role, _place in _people()}
    assert roles == {None, *Role.values}
    assert len(Role.values) == 11


@pytest.mark.parametrize(("role", "place"), _people(), ids=lambda value: str(value))
def test_every_page_and_endpoint_answers_as_the_table_says(world, role, place):
    user = _person(world, role, place)
    wrong = []
    for endpoint in ENDPOINTS:
        made = _fresh_referral(world)
        answer = _answer(_call(user, endpoint, made), api=endpoint.api)
        if answer != expected(role, place, endpoint):
            wrong.append(f"{endpoint.name}: got {answer}, the table says {expected(role, place, endpoint)}")
    assert wrong == []
