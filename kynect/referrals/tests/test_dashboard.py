"""The Partner Referral Dashboard: who sees which organization's page, and its figures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from kynect.accounts.models import Role
from kynect.core import clock
from kynect.core.periods import period_between
from kynect.referrals.access import Action
from kynect.referrals.selectors_dashboard import dashboard_figures
from kynect.referrals.services import Closure, referral_act
from kynect.referrals.tests.factories import member, partner, referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict:
    """Sender refers four residents to receiver: 10 days ago (one closed after 2 days, not provided;
    one left open), 3 days ago (closed after 1 day, provided), and one 60 days ago (outside the
    default period); the receiver also refers one back."""
    sender, receiver = partner(), partner()
    now = clock.now()
    made = {}
    for key, days_ago in (("unreachable", 10), ("open", 10), ("provided", 3), ("old", 60)):
        with time_machine.travel(now - timedelta(days=days_ago), tick=False):
            made[key] = referral(sender, receiver)
    with time_machine.travel(now - timedelta(days=8), tick=False):
        referral_act(
            actor=receiver.user,
            referral_id=made["unreachable"].pk,
            action=Action.CLOSE,
            closure=Closure(experience="down", resource_provided=False, reason="unreachable"),
        )
    with time_machine.travel(now - timedelta(days=2), tick=False):
        referral_act(
            actor=receiver.user,
            referral_id=made["provided"].pk,
            action=Action.CLOSE,
            closure=Closure(experience="up", resource_provided=True),
        )
    referral(receiver, sender)
    return {"sender": sender, "receiver": receiver, "made": made, "now": now}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_figures_of_a_period(world: dict) -> None:
    today = timezone.localdate(world["now"])
    period = period_between(first=today - timedelta(days=29), last=today)
    figures = dashboard_figures(
        organization_id=world["receiver"].organization.pk, period=period, now=world["now"]
    )
    assert (figures.created, figures.received, figures.closed) == (1, 3, 2)
    assert figures.closure_rate == pytest.approx(2 / 3)
    assert figures.median_days_to_close == pytest.approx(1.5)
    assert figures.open_over_7_days == 2  # the open one and the one 60 days old, whatever the period
    assert figures.outcomes["completed"] == 1
    assert figures.outcomes["failed"] == 1
    assert figures.top_reasons == [("unreachable", 1)]

    sent = dashboard_figures(organization_id=world["sender"].organization.pk, period=period, now=world["now"])
    assert (sent.created, sent.received, sent.closed) == (3, 1, 0)
    assert sent.closure_rate == 0
    assert sent.median_days_to_close is None


def test_a_member_sees_their_organization_and_not_another(world: dict) -> None:
    receiver = world["receiver"]
    client = _client(receiver.user)
    response = client.get("/referrals/dashboard/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/referrals/dashboard/{receiver.organization.pk}/")
    page = client.get(response["Location"]).content.decode()
    assert "Referrals created and received" in page
    assert "Unable to reach client" in page
    assert 'role="img"' in page  # the chart, with its table
    assert client.get(f"/referrals/dashboard/{world['sender'].organization.pk}/").status_code == 403


def test_state_administrators_see_any_and_others_do_not(world: dict) -> None:
    admin = _client(member(None, Role.STATE_ADMIN))
    choose = admin.get("/referrals/dashboard/")
    assert choose.status_code == 200
    assert world["receiver"].organization.name in choose.content.decode()
    assert admin.get(f"/referrals/dashboard/{world['receiver'].organization.pk}/").status_code == 200
    specialist = _client(member(None, Role.REFERRAL_SPECIALIST))
    assert specialist.get("/referrals/dashboard/").status_code == 403
    assert specialist.get(f"/referrals/dashboard/{world['receiver'].organization.pk}/").status_code == 403
    anonymous = Client().get("/referrals/dashboard/")
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]


def test_a_chosen_period_and_a_bad_one(world: dict) -> None:
    client = _client(world["receiver"].user)
    url = f"/referrals/dashboard/{world['receiver'].organization.pk}/"
    today = timezone.localdate(world["now"])
    first = (today - timedelta(days=90)).isoformat()
    page = client.get(url, {"start": first, "end": today.isoformat()})
    assert page.status_code == 200
    assert page.context["figures"].received == 4
    bad = client.get(url, {"start": today.isoformat(), "end": first})
    assert bad.status_code == 400
    assert "The end of the period must not be before its start." in bad.content.decode()
    too_long = client.get(url, {"start": "2020-01-01", "end": today.isoformat()})
    assert "Choose a period of at most 366 days." in too_long.content.decode()


def test_the_figures_download_as_csv(world: dict) -> None:
    response = _client(world["receiver"].user).get(
        f"/referrals/dashboard/{world['receiver'].organization.pk}/figures.csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["Referrals received", "3"] in rows
    assert ["Reason not provided: Unable to reach client", "1"] in rows
    assert (
        _client(world["sender"].user)
        .get(f"/referrals/dashboard/{world['receiver'].organization.pk}/figures.csv")
        .status_code
        == 403
    )


def test_the_dashboard_is_in_spanish(world: dict) -> None:
    page = (
        _client(world["receiver"].user)
        .get(f"/es/referrals/dashboard/{world['receiver'].organization.pk}/")
        .content.decode()
    )
    assert "Panel de referencias" in page
    assert "Referencias creadas y recibidas" in page
