"""The referral specialists' workspace: its lists, outreach, outcomes and expiry, by role."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from kynect.accounts.models import Role
from kynect.core import clock
from kynect.core.models import AccessEvent
from kynect.referrals.access import Action
from kynect.referrals.models import OutreachAttempt, Referral
from kynect.referrals.services import (
    Closure,
    referral_act,
    referrals_expiry_sweep,
    referrals_outreach_sweep,
)
from kynect.referrals.tests.factories import member, partner, referral, resident_input

pytestmark = pytest.mark.django_db

WORKSPACE = "/referrals/specialist/"


@pytest.fixture
def world() -> dict:
    """Referrals of every kind the workspace lists, 15 days old, after the worker's sweeps; and one
    made today to the organization that has not onboarded."""
    sender, onboarded, outsider = partner(), partner(), partner(onboarded=False)
    start = clock.now() - timedelta(days=15)
    with time_machine.travel(start, tick=False):
        late = referral(sender, onboarded, resident=resident_input(first_name="Lena", last_name="Late"))
        old_outsider = referral(sender, outsider, resident=resident_input(first_name="Olga", last_name="Old"))
        second_outsider = referral(
            sender, outsider, resident=resident_input(first_name="Sara", last_name="Second")
        )
        closed = referral(sender, onboarded, resident=resident_input(first_name="Cora", last_name="Closed"))
    referrals_outreach_sweep(now=clock.now())
    referrals_expiry_sweep(now=clock.now())
    referral_act(
        actor=onboarded.user,
        referral_id=closed.pk,
        action=Action.CLOSE,
        closure=Closure(experience="up", resource_provided=False, reason="unreachable"),
    )
    new_outsider = referral(sender, outsider, resident=resident_input(first_name="Nina", last_name="New"))
    return {
        "sender": sender,
        "onboarded": onboarded,
        "outsider": outsider,
        "late": late,
        "old_outsider": old_outsider,
        "second_outsider": second_outsider,
        "closed": closed,
        "new_outsider": new_outsider,
        "specialist": member(None, Role.REFERRAL_SPECIALIST),
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_people_are_sent_to_sign_in() -> None:
    response = Client().get(WORKSPACE)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_partners_and_state_administrators_may_not_open_the_workspace(world: dict) -> None:
    assert _client(world["sender"].user).get(WORKSPACE).status_code == 403
    assert _client(member(None, Role.STATE_ADMIN)).get(WORKSPACE).status_code == 403
    outreach = f"{WORKSPACE}{world['late'].pk}/"
    assert _client(world["onboarded"].admin).get(outreach).status_code == 403
    response = _client(world["sender"].user).post(
        f"{WORKSPACE}expire/", {"referral": [str(world["old_outsider"].pk)]}
    )
    assert response.status_code == 403
    world["old_outsider"].refresh_from_db()
    assert world["old_outsider"].status == Referral.Status.REQUESTED


def test_the_three_lists_hold_what_needs_outreach_and_each_view_is_recorded(world: dict) -> None:
    client = _client(world["specialist"])
    partner_list = client.get(WORKSPACE).content.decode()
    assert "Lena Late" in partner_list
    assert "(502) 555-0199" in partner_list  # the contact details outreach needs
    assert world["late"].resident.email in partner_list
    assert "Olga Old" not in partner_list
    assert "Cora Closed" not in partner_list

    outsiders = client.get(WORKSPACE, {"list": "not_onboarded"}).content.decode()
    for name in ("Olga Old", "Sara Second", "Nina New"):
        assert name in outsiders
    assert "Lena Late" not in outsiders
    assert outsiders.count('name="referral" value=') == 2  # only the 14-day-old ones can be ticked
    assert "Not yet 14 days old" in outsiders

    outcomes = client.get(WORKSPACE, {"list": "outcome"}).content.decode()
    assert "Cora Closed" in outcomes
    assert "Unable to reach client" in outcomes
    assert "Lena Late" not in outcomes

    events = AccessEvent.objects.filter(actor=world["specialist"], subject_type="referrals.workspace")
    assert sorted(events.values_list("subject_id", flat=True)) == ["not_onboarded", "outcome", "partner"]
    assert all(event.detail.startswith("page 1:") for event in events)


def test_a_specialist_expires_the_eligible_referrals_in_bulk_and_the_others_stay(world: dict) -> None:
    client = _client(world["specialist"])
    chosen = [world["old_outsider"], world["second_outsider"], world["new_outsider"], world["late"]]
    response = client.post(f"{WORKSPACE}expire/", {"referral": [str(r.pk) for r in chosen]}, follow=True)
    text = response.content.decode()
    assert "Closed 2 referrals as expired." in text
    assert "2 referrals were not closed" in text
    for made in chosen:
        made.refresh_from_db()
    assert world["old_outsider"].status == world["second_outsider"].status == Referral.Status.CANCELLED
    assert world["old_outsider"].not_provided_reason == "expired"
    assert world["old_outsider"].closed_by == world["specialist"]
    assert world["new_outsider"].status == Referral.Status.REQUESTED
    assert world["late"].status == Referral.Status.REQUESTED


def test_one_referral_is_expired_from_its_outreach_page(world: dict) -> None:
    client = _client(world["specialist"])
    page = client.get(f"{WORKSPACE}{world['old_outsider'].pk}/").content.decode()
    assert "Close this referral as expired" in page
    assert (
        "Close this referral as expired"
        not in client.get(f"{WORKSPACE}{world['new_outsider'].pk}/").content.decode()
    )
    response = client.post(f"{WORKSPACE}expire/", {"referral": str(world["old_outsider"].pk)}, follow=True)
    assert "Closed 1 referral as expired." in response.content.decode()
    world["old_outsider"].refresh_from_db()
    assert world["old_outsider"].status == Referral.Status.CANCELLED


@pytest.mark.parametrize("posted", [{}, {"referral": "not-a-uuid"}])
def test_expiring_nothing_or_nonsense_says_so_and_closes_nothing(world: dict, posted: dict) -> None:
    response = _client(world["specialist"]).post(f"{WORKSPACE}expire/", posted, follow=True)
    assert "Choose at least one referral to close." in response.content.decode()
    assert not Referral.objects.filter(status=Referral.Status.CANCELLED).exists()


def test_an_outreach_attempt_is_logged_and_shown(world: dict) -> None:
    client = _client(world["specialist"])
    url = f"{WORKSPACE}{world['late'].pk}/"
    response = client.post(
        url, {"target": "partner", "channel": "phone", "result": "left_message", "note": " Call back Monday "}
    )
    assert response.status_code == 302
    attempt = OutreachAttempt.objects.get()
    assert (attempt.target, attempt.channel, attempt.result, attempt.note) == (
        "partner",
        "phone",
        "left_message",
        "Call back Monday",
    )
    assert attempt.specialist == world["specialist"]
    page = client.get(url).content.decode()
    assert "Left a message" in page
    assert "Call back Monday" in page
    assert world["late"].events.filter(transition="outreach").count() == 1
    assert AccessEvent.objects.filter(
        actor=world["specialist"], subject_type="resident", subject_id=str(world["late"].resident_id)
    ).exists()


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"channel": "phone", "result": "reached"}, "This field is required."),
        ({"target": "mayor", "channel": "phone", "result": "reached"}, "Select a valid choice."),
        ({"target": "partner", "channel": "pigeon", "result": "reached"}, "Select a valid choice."),
        ({"target": "partner", "channel": "phone", "result": "reached", "note": "x" * 5000}, "at most 4000"),
    ],
)
def test_a_bad_outreach_attempt_is_refused_with_nothing_saved(
    world: dict, posted: dict, message: str
) -> None:
    response = _client(world["specialist"]).post(f"{WORKSPACE}{world['late'].pk}/", posted)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not OutreachAttempt.objects.exists()


def test_a_specialist_confirms_an_outcome_and_it_leaves_the_list(world: dict) -> None:
    client = _client(world["specialist"])
    response = client.post(f"{WORKSPACE}{world['closed'].pk}/outcome/", follow=True)
    assert "The outcome is confirmed with the resident." in response.content.decode()
    world["closed"].refresh_from_db()
    assert world["closed"].outcome_confirmed_at is not None
    assert "Cora Closed" not in client.get(WORKSPACE, {"list": "outcome"}).content.decode()
    # An open referral has no outcome to confirm.
    response = client.post(f"{WORKSPACE}{world['late'].pk}/outcome/", follow=True)
    assert "Only a closed referral" in response.content.decode()


def test_an_unknown_referral_is_404(world: dict) -> None:
    client = _client(world["specialist"])
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"{WORKSPACE}{missing}/").status_code == 404
    assert client.post(f"{WORKSPACE}{missing}/outcome/").status_code == 404


def test_the_workspace_is_in_spanish(world: dict) -> None:
    client = _client(world["specialist"])
    text = client.get("/es" + WORKSPACE, {"list": "not_onboarded"}).content.decode()
    assert "Espacio de trabajo" in text
    assert "Organizaciones que no han completado" in text
    outreach = client.get(f"/es{WORKSPACE}{world['late'].pk}/").content.decode()
    assert "Registrar un intento de contacto" in outreach


def test_long_lists_are_counted_up_to_a_limit(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from kynect.referrals import selectors_specialist, views_specialist

    monkeypatch.setattr(selectors_specialist, "WORKSPACE_COUNT_LIMIT", 2)
    monkeypatch.setattr(views_specialist, "WORKSPACE_COUNT_LIMIT", 2)
    assert selectors_specialist.workspace_counts() == {"partner": 1, "not_onboarded": 3, "outcome": 1}
    text = _client(world["specialist"]).get(WORKSPACE).content.decode()
    assert "Organizations not onboarded (2 or more)" in text
    assert "Open more than 7 days (1)" in text
