"""The Residents API's consent endpoints (/api/residents/{id}/consents…): user tokens act as their users;
201, 200, 403, 404 (recorded), 422; the FHIR Consent validated by fhir.resources and claiming
SDOHCC-Consent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.consent import Consent as FhirConsent

from config.api import api
from kynect.accounts.models import Role, User
from kynect.accounts.tokens import api_token_create
from kynect.core.models import AccessEvent
from kynect.referrals.tests.factories import Partner, member, partner, referral, resident_input
from kynect.residents.models import Consent, ConsentRequest, Resident

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, user: User) -> None:
        self.headers = {"Authorization": f"Bearer {api_token_create(user=user)[1]}"}
        self.client = Client()

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/residents/{path}", headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"/api/residents/{path}",
            data=json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def sides() -> tuple[Partner, Partner, Resident]:
    sender, receiver = partner(), partner()
    return sender, receiver, referral(sender, receiver).resident


def test_the_endpoints_are_in_the_openapi_document():
    paths = api.get_openapi_schema()["paths"]
    assert set(paths["/api/residents/{resident_id}/consents"]) == {"get", "post"}
    assert set(paths["/api/residents/{resident_id}/consents/{consent_id}/revoke"]) == {"post"}
    assert set(paths["/api/residents/{resident_id}/consents/{consent_id}/fhir"]) == {"get"}


def test_a_partner_asks_by_sms_records_in_person_lists_and_revokes(sides):
    sender, receiver, resident = sides
    asked = Api(receiver.user).post(f"{resident.pk}/consents", {"channel": "sms"})
    assert asked.status_code == 201, asked.content
    assert asked.json()["status"] == "proposed"
    assert ConsentRequest.objects.filter(consent_id=asked.json()["id"], channel="text").exists()

    missing = Api(sender.user).post(f"{resident.pk}/consents", {"channel": "in_person"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"][-1] == "attestation"
    recorded = Api(sender.user).post(
        f"{resident.pk}/consents", {"channel": "in_person", "attestation": "Signed at intake, 9:40."}
    )
    assert recorded.status_code == 201
    assert recorded.json()["status"] == "active"

    # Each organization sees its own consents.
    listed = Api(sender.user).get(f"{resident.pk}/consents")
    assert [c["organization"]["id"] for c in listed.json()] == [str(sender.organization.pk)]
    assert AccessEvent.objects.filter(actor=sender.user, subject_id=str(resident.pk)).exists()

    consent_id = recorded.json()["id"]
    revoked = Api(sender.admin).post(
        f"{resident.pk}/consents/{consent_id}/revoke", {"note": "Called to withdraw."}
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "inactive"
    assert [e["transition"] for e in revoked.json()["history"]] == ["grant", "revoke"]
    again = Api(sender.admin).post(f"{resident.pk}/consents/{consent_id}/revoke", {"note": "Again."})
    assert again.status_code == 422


def test_the_resident_lists_and_revokes_their_own(sides):
    _sender, receiver, resident = sides
    user = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=user)
    made = Api(receiver.user).post(
        f"{resident.pk}/consents", {"channel": "phone", "attestation": "On a call."}
    )
    consent_id = made.json()["id"]
    assert [c["id"] for c in Api(user).get(f"{resident.pk}/consents").json()] == [consent_id]
    revoked = Api(user).post(f"{resident.pk}/consents/{consent_id}/revoke", {})
    assert revoked.json()["status"] == "inactive"
    assert Consent.objects.get().status == Consent.Status.INACTIVE


def test_other_organizations_get_404_recorded_and_other_roles_403(sides):
    _sender, receiver, resident = sides
    outsider = partner()
    made = Api(receiver.user).post(
        f"{resident.pk}/consents", {"channel": "phone", "attestation": "On a call."}
    )
    consent_id = made.json()["id"]
    for path in (f"{resident.pk}/consents", f"{resident.pk}/consents/{consent_id}/fhir"):
        assert Api(outsider.user).get(path).status_code == 404
    assert Api(outsider.user).post(f"{resident.pk}/consents", {"channel": "sms"}).status_code == 404
    assert AccessEvent.objects.filter(actor=outsider.user, action=AccessEvent.Action.DENIED).count() == 3
    agent = member(None, Role.INSURANCE_AGENT)
    assert Api(agent).get(f"{resident.pk}/consents").status_code == 403
    # A consent id of another resident: 404.
    other = referral(
        partner(), receiver, resident=resident_input(first_name="Otra", client_id="O-1")
    ).resident
    assert Api(receiver.user).get(f"{other.pk}/consents/{consent_id}/fhir").status_code == 404


def test_the_fhir_consent_is_valid_and_claims_sdohcc_consent(sides):
    _sender, receiver, resident = sides
    made = Api(receiver.user).post(
        f"{resident.pk}/consents", {"channel": "in_person", "attestation": "Signed."}
    )
    response = Api(receiver.user).get(f"{resident.pk}/consents/{made.json()['id']}/fhir")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    FhirConsent.model_validate(body)  # raises if it is not a valid R4B Consent
    assert body["meta"]["profile"] == [
        "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-Consent"
    ]
    assert body["status"] == "active"
    assert body["scope"]["coding"][0]["code"] == "patient-privacy"
    assert body["category"][0]["coding"][0]["code"] == "IDSCL"
    assert body["patient"]["reference"] == f"Patient/{resident.pk}"
    actor = body["provision"]["actor"][0]
    assert (actor["role"]["coding"][0]["code"], actor["reference"]["reference"]) == (
        "IRCP",
        f"Organization/{receiver.organization.pk}",
    )
    assert body["provision"]["action"][0]["coding"][0]["code"] == "disclose"
    assert body["provision"]["period"]["start"]


def test_a_resident_in_full_with_consent_limited_with_a_referral_and_404_otherwise(sides):
    from datetime import date

    from kynect.residents.models import EnrolledProgram, HouseholdMember

    sender, receiver, resident = sides
    HouseholdMember.objects.create(resident=resident, name="Mateo Reyes", age=9, relationship="son")
    EnrolledProgram.objects.create(resident=resident, program="snap", started_on=date(2025, 3, 1))
    made = Api(receiver.user).post(
        f"{resident.pk}/consents", {"channel": "in_person", "attestation": "Signed."}
    )

    full = Api(receiver.user).get(f"{resident.pk}").json()
    assert full["view"] == "full"
    assert full["household"] == [{"name": "Mateo Reyes", "age": 9, "relationship": "son"}]
    assert full["programs"][0]["program"] == "snap"
    assert (full["risk_factors"], full["notes"]) == ([], [])
    event = AccessEvent.objects.filter(actor=receiver.user, detail="resident (full, API)").get()
    assert str(event.consent_id) == made.json()["id"]

    limited = Api(sender.user).get(f"{resident.pk}").json()
    assert limited["view"] == "limited"
    assert {"household", "programs", "risk_factors", "notes", "birth_date"}.isdisjoint(limited)
    assert limited["email"] == resident.email

    assert Api(partner().user).get(f"{resident.pk}").status_code == 404
    assert Api(member(None, Role.INSURANCE_AGENT)).get(f"{resident.pk}").status_code == 403
    paths = api.get_openapi_schema()["paths"]
    assert set(paths["/api/residents/{resident_id}"]) == {"get"}
