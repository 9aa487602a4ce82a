"""My Plan: a signed-in resident's referrals with their history, their consents with Revoke and Grant,
who looked at their profile; a printable view recorded as a print."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kynect.accounts.models import Role
from kynect.core.models import AccessEvent
from kynect.referrals.tests.factories import member, partner, referral
from kynect.residents.access import View, resident_view
from kynect.residents.models import Consent, Resident
from kynect.residents.services_consent import consent_record, consent_request_send

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def plan() -> dict[str, Any]:
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    user = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=made.resident.pk).update(user=user)
    made.resident.refresh_from_db()
    return {"sender": sender, "receiver": receiver, "referral": made, "resident": made.resident, "user": user}


def test_the_plan_shows_referrals_with_history_consents_and_who_looked(plan):
    receiver, resident = plan["receiver"], plan["resident"]
    consent_record(
        actor=receiver.user,
        resident=resident,
        organization=receiver.organization,
        channel="in_person",
        note="Yes.",
    )
    signed_in(receiver.user).get(reverse("residents:detail", args=[resident.pk]))
    client = signed_in(plan["user"])
    home = client.get("/").content.decode()
    assert reverse("residents:my_plan") in home  # the header links to it
    body = client.get(reverse("residents:my_plan")).content.decode()
    assert plan["referral"].service.name in body
    assert "Referral made" in body  # the referral's history
    assert f"Revoke consent for {receiver.organization.name}" in body
    assert receiver.organization.name in body.split("Who looked at your profile")[1]
    assert AccessEvent.objects.filter(actor=plan["user"], detail="my plan", action="view").exists()


def test_revoke_and_grant_again_from_the_plan(plan):
    receiver, resident = plan["receiver"], plan["resident"]
    consent = consent_record(
        actor=receiver.user,
        resident=resident,
        organization=receiver.organization,
        channel="phone",
        note="Yes.",
    )
    client = signed_in(plan["user"])
    client.post(reverse("residents:my_plan"), {"form": "revoke", "consent": str(consent.pk)})
    consent.refresh_from_db()
    assert consent.status == Consent.Status.INACTIVE
    assert resident_view(user=receiver.user, resident=resident) == View.LIMITED
    client.post(reverse("residents:my_plan"), {"form": "grant", "consent": str(consent.pk)})
    consent.refresh_from_db()
    assert (consent.status, consent.channel) == (Consent.Status.ACTIVE, Consent.Channel.RESIDENT)


def test_a_requested_consent_is_granted_from_the_plan_and_its_link_stops_working(plan):
    receiver, resident = plan["receiver"], plan["resident"]
    request = consent_request_send(
        actor=receiver.user, resident=resident, organization=receiver.organization, channel="email"
    )
    signed_in(plan["user"]).post(
        reverse("residents:my_plan"), {"form": "grant", "consent": str(request.consent.pk)}
    )
    request.refresh_from_db()
    assert request.consent.status == Consent.Status.ACTIVE
    assert request.link_key == ""


def test_nobody_else_changes_a_consent_through_the_plan(plan):
    receiver, resident = plan["receiver"], plan["resident"]
    consent = consent_record(
        actor=receiver.user,
        resident=resident,
        organization=receiver.organization,
        channel="phone",
        note="Yes.",
    )
    stranger = member(None, Role.RESIDENT)
    Resident.objects.create(
        first_name="Other",
        last_name="Person",
        birth_date=resident.birth_date,
        email="other@example.org",
        preferred_contact_method="email",
        match_key="x",
        user=stranger,
    )
    response = signed_in(stranger).post(
        reverse("residents:my_plan"), {"form": "revoke", "consent": str(consent.pk)}
    )
    assert response.status_code == 404
    assert (
        signed_in(stranger)
        .post(reverse("residents:my_plan"), {"form": "revoke", "consent": "nonsense"})
        .status_code
        == 404
    )
    consent.refresh_from_db()
    assert consent.status == Consent.Status.ACTIVE


def test_the_printable_view_is_recorded_as_a_print(plan):
    client = signed_in(plan["user"])
    body = client.get(reverse("residents:my_plan_print")).content.decode()
    assert plan["referral"].service.name in body
    assert "<form" not in body.split('id="main-content"')[1]
    assert AccessEvent.objects.filter(actor=plan["user"], action=AccessEvent.Action.PRINT).exists()


def test_a_resident_without_a_profile_is_told_how_to_get_one():
    body = signed_in(member(None, Role.RESIDENT)).get(reverse("residents:my_plan")).content.decode()
    assert "You have no profile yet" in body
