"""42 CFR Part 2: a Substance Abuse need or a substance use treatment referral is shown beyond its parties
only to organizations holding the resident's separate Part 2 consent (purpose, what is shared, expiry,
revocable), never on a general consent; every page, print and export showing it carries the §2.32 notice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kynect.accounts.models import Role
from kynect.accounts.tokens import api_token_create
from kynect.core import clock
from kynect.directory.models import Attribute
from kynect.directory.taxonomy import category_find
from kynect.notifications.sms import LocmemSmsBackend
from kynect.referrals.models import Referral
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.access import Action, Decision, decide
from kynect.residents.models import Consent, ConsentEvent, Resident
from kynect.residents.part2 import PART2_LONGEST, part2_unlocked
from kynect.residents.retention import consents_expire
from kynect.residents.services import consent_grant_pre_consent
from kynect.residents.services_consent import (
    LinkState,
    Part2Terms,
    consent_grant_by_resident,
    consent_record,
    consent_request_answer,
    consent_request_send,
    consent_revoke,
    part2_terms_check,
)
from kynect.residents.tests.test_consent import link_sent, signed_in

pytestmark = pytest.mark.django_db

NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."


def terms(days: int = 90) -> Part2Terms:
    return Part2Terms(purpose="Coordinate recovery housing", expires_at=clock.now() + timedelta(days=days))


@pytest.fixture
def world() -> dict[str, Any]:
    """A resident referred for food by `food_sender` to `viewer`, who holds their general consent; and a
    Part 2 referral (Substance Abuse) between two organizations `viewer` is not in."""
    food_sender, viewer = partner(), partner()
    resident = referral(food_sender, viewer, resident=resident_input()).resident
    consent_grant_pre_consent(
        resident=resident, organization=viewer.organization, actor=viewer.user, now=clock.now()
    )
    sud_sender, program = partner(), partner()
    sud = referral(sud_sender, program, resident=resident_input(), need="substance_abuse")
    assert sud.resident_id == resident.pk
    assert sud.part2
    return {"resident": resident, "viewer": viewer, "program": program, "sud_sender": sud_sender, "sud": sud}


def _detail(user: Any, resident: Resident) -> str:
    page = signed_in(user).get(reverse("residents:detail", args=[resident.pk]))
    assert page.status_code == 200
    return page.content.decode()


# --- What is Part 2 data -----------------------------------------------------------------------------------


def test_a_substance_abuse_need_or_a_treatment_service_makes_a_referral_part2():
    sender, receiver = partner(), partner()
    assert not referral(sender, receiver).part2
    assert referral(sender, receiver, need="substance_abuse").part2
    # A service filed under a category beneath substance use treatment (detox), for a housing need.
    node = category_find("detox")
    assert node is not None
    Attribute.objects.create(
        link_id=receiver.service.pk, link_entity="service", link_type="category", taxonomy_term_id=node.id
    )
    assert referral(sender, receiver, need="housing").part2


# --- A general consent does not open it ---------------------------------------------------------------------


def test_a_general_consent_does_not_show_part2_data(world):
    viewer, resident = world["viewer"], world["resident"]
    assert not part2_unlocked(user=viewer.user, resident=resident)
    body = _detail(viewer.user, resident)
    # Counts only the food referral; the Substance Abuse rating is withheld; no notice: nothing shown.
    assert "New: <strong>1</strong>" in body
    assert "Shown only with the resident's 42 CFR Part 2 consent" in body
    assert NOTICE not in body


def test_a_part2_consent_shows_it_with_the_notice_until_revoked(world):
    viewer, resident = world["viewer"], world["resident"]
    consent = consent_record(
        actor=viewer.user,
        resident=resident,
        organization=viewer.organization,
        channel=Consent.Channel.IN_PERSON,
        note="Signed form scanned into our records",
        part2=terms(),
    )
    assert consent.kind == Consent.Kind.PART2
    assert consent.status == Consent.Status.ACTIVE
    assert part2_unlocked(user=viewer.user, resident=resident)
    body = _detail(viewer.user, resident)
    assert "New: <strong>2</strong>" in body
    assert NOTICE in body
    assert "Shown only with the resident's 42 CFR Part 2 consent" not in body

    consent_revoke(actor=viewer.user, consent_id=consent.pk, note="Resident called to withdraw it")
    body = _detail(viewer.user, resident)
    assert "New: <strong>1</strong>" in body
    assert NOTICE not in body
    # The general consent is untouched.
    assert Consent.objects.get(resident=resident, organization=viewer.organization, kind="general").in_force()


def test_a_part2_consent_alone_does_not_open_the_full_record(world):
    outsider = partner()
    Consent.objects.create(
        resident=world["resident"],
        organization=outsider.organization,
        kind=Consent.Kind.PART2,
        status=Consent.Status.ACTIVE,
        channel=Consent.Channel.IN_PERSON,
        granted_at=clock.now(),
        purpose="Care coordination",
        expires_at=clock.now() + timedelta(days=30),
    )
    assert (
        decide(user=outsider.user, action=Action.VIEW_FULL, resident=world["resident"]) == Decision.NOT_FOUND
    )
    page = signed_in(outsider.user).get(reverse("residents:detail", args=[world["resident"].pk]))
    assert page.status_code == 404


def test_the_parties_see_their_part2_referral_with_the_notice(world):
    sud = world["sud"]
    for user in (world["program"].user, world["sud_sender"].user):
        page = signed_in(user).get(reverse("referrals:detail", args=[sud.pk]))
        assert page.status_code == 200
        assert NOTICE in page.content.decode()
    inbox = signed_in(world["program"].user).get(reverse("referrals:inbox")).content.decode()
    assert NOTICE in inbox
    # The food referral's page has none.
    food = Referral.objects.get(resident=world["resident"], part2=False)
    page = signed_in(world["viewer"].user).get(reverse("referrals:detail", args=[food.pk]))
    assert NOTICE not in page.content.decode()


def test_my_plan_and_its_print_carry_the_notice(world):
    resident_user = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=world["resident"].pk).update(user=resident_user)
    for name in ("residents:my_plan", "residents:my_plan_print"):
        body = signed_in(resident_user).get(reverse(name)).content.decode()
        assert NOTICE in body, name


# --- Its terms, its link, its expiry ------------------------------------------------------------------------


def test_terms_need_a_purpose_and_an_expiry_within_a_year():
    now = clock.now()
    with pytest.raises(ValidationError) as missing:
        part2_terms_check(purpose=" ", expires_at=None, now=now)
    assert set(missing.value.message_dict) == {"purpose", "expires_at"}
    with pytest.raises(ValidationError) as past:
        part2_terms_check(purpose="Care", expires_at=now - timedelta(minutes=1), now=now)
    assert set(past.value.message_dict) == {"expires_at"}
    with pytest.raises(ValidationError) as long:
        part2_terms_check(purpose="Care", expires_at=now + PART2_LONGEST + timedelta(days=2), now=now)
    assert set(long.value.message_dict) == {"expires_at"}
    assert part2_terms_check(purpose=" Care ", expires_at=now + PART2_LONGEST, now=now).purpose == "Care"


def test_a_part2_consent_is_recorded_in_person_only(world):
    with pytest.raises(ValidationError) as error:
        consent_record(
            actor=world["viewer"].user,
            resident=world["resident"],
            organization=world["viewer"].organization,
            channel=Consent.Channel.PHONE,
            note="Said yes on the phone",
            part2=terms(),
        )
    assert "channel" in error.value.message_dict
    assert not Consent.objects.filter(kind=Consent.Kind.PART2).exists()


def test_a_part2_link_shows_the_terms_and_takes_a_signature(world):
    viewer, resident = world["viewer"], world["resident"]
    request = consent_request_send(
        actor=viewer.user, resident=resident, organization=viewer.organization, channel="text", part2=terms()
    )
    path = link_sent(request)

    # The text names the organization only: nothing about substance use on the resident's phone.
    assert "substance" not in LocmemSmsBackend.outbox[-1].body.lower()
    page = Client().get(path).content.decode()
    # In the resident's language (Spanish here).
    for text in (
        "Coordinate recovery housing",
        viewer.organization.name,
        "42 CFR Parte 2",
        "Firmar y otorgar",
    ):
        assert text in page, text

    # Granting without a signature changes nothing.
    refused = Client().post(path, {"answer": "grant", "signature": "  "})
    assert refused.status_code == 400
    assert "Escriba su nombre completo" in refused.content.decode()
    assert Consent.objects.get(pk=request.consent.pk).status == Consent.Status.PROPOSED

    done = Client().post(path, {"answer": "grant", "signature": "Ana Reyes"})
    assert done.status_code == 200
    consent = Consent.objects.get(pk=request.consent.pk)
    assert (consent.status, consent.signature, consent.kind) == ("active", "Ana Reyes", "part2")
    assert part2_unlocked(user=viewer.user, resident=resident)
    # Used once.
    again = consent_request_answer(
        request_id=request.pk, secret=path.rstrip("/").rsplit("/", 1)[1], answer="grant"
    )
    assert again.state == LinkState.ANSWERED


def test_an_expired_part2_consent_stops_at_once_and_the_night_marks_it(world):
    viewer, resident = world["viewer"], world["resident"]
    consent = consent_record(
        actor=viewer.user,
        resident=resident,
        organization=viewer.organization,
        channel=Consent.Channel.IN_PERSON,
        note="Signed form on file",
        part2=terms(days=3),
    )
    assert part2_unlocked(user=viewer.user, resident=resident)
    with time_machine.travel(clock.now() + timedelta(days=3, minutes=1)):
        assert not part2_unlocked(user=viewer.user, resident=resident)
        assert NOTICE not in _detail(viewer.user, resident)
        assert consents_expire(now=clock.now()) == 1
        consent.refresh_from_db()
        assert consent.status == Consent.Status.INACTIVE
        assert ConsentEvent.objects.filter(consent=consent, transition="expire").count() == 1
        assert consents_expire(now=clock.now()) == 0
        # The general consent is not Part 2's and has no expiry.
        assert resident.consents.get(kind="general").status == Consent.Status.ACTIVE


def test_a_resident_may_grant_an_asked_part2_consent_in_my_plan(world):
    viewer, resident = world["viewer"], world["resident"]
    request = consent_request_send(
        actor=viewer.user, resident=resident, organization=viewer.organization, channel="email", part2=terms()
    )
    resident_user = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=resident_user)
    consent = consent_grant_by_resident(actor=resident_user, consent_id=request.consent.pk)
    assert consent.status == Consent.Status.ACTIVE
    assert consent.signature == "Ana Reyes"


# --- The consent page ---------------------------------------------------------------------------------------


def test_the_consent_page_asks_for_a_part2_consent_with_its_terms(world):
    viewer, resident = world["viewer"], world["resident"]
    client = signed_in(viewer.user)
    url = reverse("residents:consent", args=[resident.pk])
    bad = client.post(
        url,
        {
            "form": "part2_request",
            "part2_request-channel": "text",
            "part2_request-purpose": "",
            "part2_request-expires_at": "",
        },
    )
    assert bad.status_code == 400
    assert not Consent.objects.filter(kind="part2").exists()
    too_far = (clock.now() + timedelta(days=400)).date().isoformat()
    bad = client.post(
        url,
        {
            "form": "part2_request",
            "part2_request-channel": "text",
            "part2_request-purpose": "Recovery housing",
            "part2_request-expires_at": too_far,
        },
    )
    assert bad.status_code == 400
    assert "one year at most" in bad.content.decode()
    ok = client.post(
        url,
        {
            "form": "part2_request",
            "part2_request-channel": "text",
            "part2_request-purpose": "Recovery housing",
            "part2_request-expires_at": (clock.now() + timedelta(days=60)).date().isoformat(),
        },
    )
    assert ok.status_code == 302
    consent = Consent.objects.get(kind="part2", resident=resident)
    assert (consent.status, consent.purpose) == ("proposed", "Recovery housing")
    page = client.get(url).content.decode()
    assert "Recovery housing" in page


# --- Exports ------------------------------------------------------------------------------------------------


def _api(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token_create(user=user)[1]}"}


def test_the_api_and_fhir_label_part2_data(world):
    program, sud = world["program"], world["sud"]
    client = Client()
    detail = client.get(f"/api/referrals/{sud.pk}", headers=_api(program.user)).json()
    assert detail["part2"] is True
    assert detail["redisclosure_notice"] == NOTICE
    bundle = client.get(f"/api/referrals/{sud.pk}/fhir", headers=_api(program.user)).json()
    labelled = [
        entry["resource"]["resourceType"]
        for entry in bundle["entry"]
        if any(
            label["code"] == "42CFRPart2" for label in entry["resource"].get("meta", {}).get("security", [])
        )
    ]
    assert "ServiceRequest" in labelled
    assert "Task" in labelled


def test_the_api_asks_for_and_maps_a_part2_consent(world):
    viewer, resident = world["viewer"], world["resident"]
    client = Client()
    url = f"/api/residents/{resident.pk}/consents"
    refused = client.post(
        url, {"channel": "sms", "kind": "part2"}, content_type="application/json", headers=_api(viewer.user)
    )
    assert refused.status_code == 422
    assert not Consent.objects.filter(kind="part2").exists()
    expires = (clock.now() + timedelta(days=30)).isoformat()
    made = client.post(
        url,
        {
            "channel": "in_person",
            "kind": "part2",
            "purpose": "Recovery",
            "expires_at": expires,
            "attestation": "Form on file",
        },
        content_type="application/json",
        headers=_api(viewer.user),
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["kind"], body["status"], body["in_force"], body["purpose"]) == (
        "part2",
        "active",
        True,
        "Recovery",
    )
    fhir = client.get(f"{url}/{body['id']}/fhir", headers=_api(viewer.user)).json()
    assert fhir["policy"][0]["authority"].endswith("part-2")
    assert fhir["provision"]["securityLabel"][0]["code"] == "42CFRPart2"
    assert fhir["provision"]["period"]["end"]


def test_the_plan_page_leaves_part2_referrals_out_without_a_part2_consent(world):
    viewer, resident, sud = world["viewer"], world["resident"], world["sud"]
    url = reverse("residents:list", args=[resident.pk, "plan"])
    body = signed_in(viewer.user).get(url).content.decode()
    assert sud.service.name not in body
    assert NOTICE not in body
    consent_record(
        actor=viewer.user,
        resident=resident,
        organization=viewer.organization,
        channel=Consent.Channel.IN_PERSON,
        note="Signed form on file",
        part2=terms(),
    )
    body = signed_in(viewer.user).get(url).content.decode()
    assert sud.service.name in body
    assert NOTICE in body
