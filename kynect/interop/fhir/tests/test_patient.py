"""A resident as a FHIR Patient (US Core Patient, the subject SDOHCC's Task and ServiceRequest name), and
a platform organization as a FHIR Organization."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient

from kynect.accounts.tests.factories import OrganizationFactory
from kynect.interop.fhir.organization import platform_organization_resource
from kynect.interop.fhir.patient import patient_resource
from kynect.residents.models import Resident

pytestmark = pytest.mark.django_db


def resident(**fields) -> Resident:
    values = {
        "first_name": "Ana",
        "last_name": "Reyes",
        "birth_date": date(1990, 5, 17),
        "mobile_phone": "+15025550199",
        "email": "ana@example.org",
        "preferred_contact_method": "text",
        "preferred_language": "es",
        "postal_code": "40601",
        "city": "Frankfort",
    }
    values.update(fields)
    return Resident.objects.create(**values)


def test_a_resident_maps_to_a_us_core_patient():
    person = resident(client_id="KY-123")
    body = json.loads(patient_resource(person).model_dump_json())
    Patient.model_validate(body)
    assert body["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]
    assert body["id"] == str(person.pk)
    assert body["identifier"] == [
        {"system": "https://kynect.ky.gov/fhir/NamingSystem/resident", "value": str(person.pk)},
        {"system": "https://kynect.ky.gov/fhir/NamingSystem/client-id", "value": "KY-123"},
    ]
    assert body["name"] == [{"use": "official", "family": "Reyes", "given": ["Ana"], "text": "Ana Reyes"}]
    assert body["birthDate"] == "1990-05-17"
    assert body["gender"] == "unknown"
    assert body["telecom"] == [
        {"system": "sms", "value": "+15025550199", "use": "mobile", "rank": 1},
        {"system": "email", "value": "ana@example.org", "use": "home", "rank": 2},
    ]
    assert body["address"] == [
        {"use": "home", "city": "Frankfort", "state": "KY", "postalCode": "40601", "country": "US"}
    ]
    assert body["communication"] == [
        {
            "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es", "display": "Spanish"}]},
            "preferred": True,
        }
    ]


@pytest.mark.parametrize(
    ("gender", "fhir"),
    [("female", "female"), ("male", "male"), ("another", "other"), ("not_said", "unknown")],
)
def test_genders(gender, fhir):
    assert patient_resource(resident(gender=gender)).gender == fhir


def test_a_resident_reached_by_email_only():
    body = json.loads(
        patient_resource(
            resident(mobile_phone="", preferred_contact_method="email", postal_code="", city="")
        ).model_dump_json()
    )
    assert body["telecom"] == [{"system": "email", "value": "ana@example.org", "use": "home", "rank": 1}]
    assert "address" not in body


def test_a_platform_organization_without_a_listing_maps_from_its_own_record():
    organization = OrganizationFactory.create(
        name="Bluegrass Clinic", type="hospital", address_1="1 Main St", city="Lexington", postal_code="40507"
    )
    body = json.loads(platform_organization_resource(organization).model_dump_json())
    Organization.model_validate(body)
    assert body["id"] == str(organization.pk)
    assert body["name"] == "Bluegrass Clinic"
    assert body["active"] is True
    assert body["identifier"] == [
        {"system": "https://kynect.ky.gov/fhir/NamingSystem/organization", "value": str(organization.pk)}
    ]
    assert body["type"] == [{"text": "Hospital"}]
    assert body["address"] == [
        {"use": "work", "line": ["1 Main St"], "city": "Lexington", "state": "KY", "postalCode": "40507"}
    ]
