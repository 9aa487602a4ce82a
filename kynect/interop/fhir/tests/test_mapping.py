"""The directory's records mapped to FHIR R4B resources in the Human Services Directory shape, each one
validated by fhir.resources."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization
from pydantic import ValidationError

from kynect.directory import models
from kynect.directory.hours import opening_windows_rebuild
from kynect.directory.taxonomy import taxonomy_id
from kynect.directory.tests.factories import AddressFactory, DirectoryOrganizationFactory, listed_service
from kynect.interop.fhir.healthcare_service import healthcare_service_read
from kynect.interop.fhir.location import location_read
from kynect.interop.fhir.organization import organization_read

pytestmark = pytest.mark.django_db

IMPORTED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
HSD = "http://hl7.org/fhir/us/hsds/StructureDefinition/hsds-"


def round_trip(resource, model):
    """What a client reads: the JSON, validated again by fhir.resources."""
    body = json.loads(resource.model_dump_json())
    assert model.model_validate(body) == resource
    return body


def pantry(**fields) -> models.ServiceAtLocation:
    organization = DirectoryOrganizationFactory.create(name="Franklin County Food Bank", imported_at=IMPORTED)
    link = listed_service(
        name="Food pantry",
        organization=organization,
        description="Free groceries to take home, once a week.",
        category_slugs=["food-pantries"],
        situation_slugs=[],
        language_codes=["en", "es"],
        hours=[("MO,TU,WE,TH,FR", time(8), time(16, 30))],
        email="pantry@example.org",
        url="https://pantry.example.org",
        eligibility_description="Residents of Franklin County",
        last_modified=IMPORTED,
        **fields,
    )
    models.Phone.objects.create(service=link.service, number="(502) 555-0142", type="voice")
    return link


def test_a_service_maps_to_an_hsd_healthcare_service():
    link = pantry()
    service = link.service
    with time_machine.travel(NOW, tick=False):
        resource = healthcare_service_read(service_id=service.pk)
    assert resource is not None
    body = round_trip(resource, HealthcareService)

    assert body["resourceType"] == "HealthcareService"
    assert body["id"] == str(service.pk)
    assert body["meta"] == {
        "profile": [f"{HSD}HealthcareService"],
        "lastUpdated": "2026-11-30T12:00:00Z",
    }
    assert body["language"] == "en"
    assert body["active"] is True
    assert body["providedBy"] == {
        "reference": f"Organization/{service.organization_id}",
        "display": "Franklin County Food Bank",
    }
    [category] = body["category"]
    term = models.TaxonomyTerm.objects.get(pk=taxonomy_id("food-pantries"))
    assert category["coding"] == [
        {
            "system": "https://kynect.ky.gov/taxonomy/kynect-categories",
            "code": term.code,
            "display": term.name,
        }
    ]
    assert "characteristic" not in body
    assert body["name"] == "Food pantry"
    assert body["extraDetails"] == "Free groceries to take home, once a week."
    assert body["telecom"] == [
        {"system": "phone", "value": "(502) 555-0142", "use": "work"},
        {"system": "email", "value": "pantry@example.org", "use": "work"},
        {"system": "url", "value": "https://pantry.example.org", "use": "work"},
    ]
    assert body["eligibility"] == [{"comment": "Residents of Franklin County"}]
    assert [concept["coding"][0]["code"] for concept in body["communication"]] == ["en", "es"]
    assert {concept["coding"][0]["system"] for concept in body["communication"]} == {"urn:ietf:bcp:47"}
    assert body["location"] == [{"reference": f"Location/{link.location_id}", "display": link.location.name}]
    # The hours are the location's: the service keeps none of its own.
    assert "availableTime" not in body


def test_life_situations_are_characteristics_and_a_program_is_named():
    link = pantry()
    models.Attribute.objects.create(
        link_id=link.service_id,
        link_entity="service",
        link_type="life_situation",
        taxonomy_term_id=models.TaxonomyTerm.objects.filter(
            taxonomy_detail_id=taxonomy_id("kynect-life-situations")
        )
        .values_list("pk", flat=True)
        .first(),
    )
    program = models.Program.objects.create(
        organization=link.service.organization, name="Senior nutrition", description="Meals for seniors."
    )
    models.Service.objects.filter(pk=link.service_id).update(program=program)
    body = round_trip(healthcare_service_read(service_id=link.service_id), HealthcareService)
    [characteristic] = body["characteristic"]
    assert characteristic["coding"][0]["system"] == "https://kynect.ky.gov/taxonomy/kynect-life-situations"
    assert body["program"] == [{"text": "Senior nutrition"}]


@pytest.mark.parametrize(
    ("status", "active"),
    [
        (models.Service.Status.ACTIVE, True),
        (models.Service.Status.INACTIVE, False),
        (models.Service.Status.TEMPORARILY_CLOSED, False),
    ],
)
def test_a_listed_service_that_is_not_active_is_published_as_inactive(status, active):
    link = pantry(status=status)
    resource = healthcare_service_read(service_id=link.service_id)
    assert resource is not None
    assert resource.active is active


def test_a_defunct_service_is_not_found_as_the_directory_hides_it():
    link = pantry(status=models.Service.Status.DEFUNCT)
    assert healthcare_service_read(service_id=link.service_id) is None


def test_a_service_with_its_own_hours_publishes_them_days_with_the_same_hours_together():
    link = pantry()
    models.Schedule.objects.create(
        service=link.service,
        location=link.location,
        freq="WEEKLY",
        byday="MO,WE",
        opens_at=time(9),
        closes_at=time(12),
    )
    models.Schedule.objects.create(
        service=link.service,
        location=link.location,
        freq="WEEKLY",
        byday="SA",
        opens_at=time(0),
        closes_at=time(0),
    )
    opening_windows_rebuild(location_ids=[link.location_id])
    with time_machine.travel(NOW, tick=False):
        body = round_trip(healthcare_service_read(service_id=link.service_id), HealthcareService)
    assert body["availableTime"] == [
        {"daysOfWeek": ["mon", "wed"], "availableStartTime": "09:00:00", "availableEndTime": "12:00:00"},
        {"daysOfWeek": ["sat"], "allDay": True},
    ]


def test_no_personal_data_a_contact_and_the_contacts_number_stay_out():
    link = pantry()
    contact = models.Contact.objects.create(
        service=link.service, name="Jane Doe", email="jane.doe@example.org"
    )
    models.Phone.objects.create(service=link.service, contact=contact, number="(502) 555-0199", type="voice")
    resource = healthcare_service_read(service_id=link.service_id)
    assert resource is not None
    text = resource.model_dump_json()
    assert "Jane" not in text
    assert "jane.doe" not in text
    assert "555-0199" not in text
    assert "555-0142" in text


def test_an_organization_maps_to_an_hsd_organization():
    parent = DirectoryOrganizationFactory.create(name="Kentucky Food Banks")
    organization = DirectoryOrganizationFactory.create(
        name="Franklin County Food Bank",
        alternate_name="FCFB",
        email="info@fcfb.example.org",
        website="https://fcfb.example.org",
        parent_organization=parent,
        imported_at=IMPORTED,
    )
    models.OrganizationIdentifier.objects.create(
        organization=organization, identifier_type="EIN", identifier="61-0000000"
    )
    models.Phone.objects.create(organization=organization, number="(502) 555-0100", type="voice")
    models.Phone.objects.create(organization=organization, number="(502) 555-0101", type="fax")
    contact = models.Contact.objects.create(organization=organization, name="John Roe")
    models.Phone.objects.create(
        organization=organization, contact=contact, number="(502) 555-0177", type="voice"
    )

    body = round_trip(organization_read(organization_id=organization.pk), Organization)
    assert body["meta"] == {"profile": [f"{HSD}Organization"], "lastUpdated": "2026-11-30T12:00:00Z"}
    assert (body["id"], body["active"], body["name"], body["alias"]) == (
        str(organization.pk),
        True,
        "Franklin County Food Bank",
        ["FCFB"],
    )
    assert body["identifier"] == [{"type": {"text": "EIN"}, "value": "61-0000000"}]
    assert body["telecom"] == [
        {"system": "phone", "value": "(502) 555-0100", "use": "work"},
        {"system": "fax", "value": "(502) 555-0101", "use": "work"},
        {"system": "email", "value": "info@fcfb.example.org", "use": "work"},
        {"system": "url", "value": "https://fcfb.example.org", "use": "work"},
    ]
    assert body["partOf"] == {"reference": f"Organization/{parent.pk}", "display": "Kentucky Food Banks"}
    assert organization_read(organization_id=contact.pk) is None


def test_a_location_maps_to_an_hsd_location_with_its_weekly_hours():
    link = pantry()
    location = link.location
    models.Location.objects.filter(pk=location.pk).update(imported_at=IMPORTED, alternate_name="Pantry door")
    models.Schedule.objects.create(
        location=location, freq="WEEKLY", byday="SA", opens_at=time(9), closes_at=time(12)
    )
    opening_windows_rebuild(location_ids=[location.pk])
    with time_machine.travel(NOW, tick=False):
        body = round_trip(location_read(location_id=location.pk), Location)
    assert body["meta"] == {"profile": [f"{HSD}Location"], "lastUpdated": "2026-11-30T12:00:00Z"}
    assert (body["status"], body["mode"], body["name"], body["alias"]) == (
        "active",
        "instance",
        location.name,
        ["Pantry door"],
    )
    assert body["address"] == {
        "use": "work",
        "type": "physical",
        "line": ["100 Main St"],
        "city": "Frankfort",
        "state": "KY",
        "postalCode": "40601",
        "country": "US",
    }
    assert body["position"] == {"longitude": -84.8733, "latitude": 38.2009}
    resource = location_read(location_id=location.pk)
    assert resource is not None
    assert resource.position is not None
    assert resource.position.latitude == Decimal("38.2009")
    assert body["managingOrganization"]["reference"] == f"Organization/{location.organization_id}"
    assert body["telecom"] == [{"system": "phone", "value": "(502) 555-0100", "use": "work"}]
    assert body["hoursOfOperation"] == [
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri"],
            "openingTime": "08:00:00",
            "closingTime": "16:30:00",
        },
        {"daysOfWeek": ["sat"], "openingTime": "09:00:00", "closingTime": "12:00:00"},
    ]


def test_hours_out_of_season_are_left_out_and_a_virtual_address_is_no_address():
    link = pantry()
    location = link.location
    models.Address.objects.filter(location=location).delete()
    AddressFactory.create(location=location, address_type=models.Address.AddressType.VIRTUAL)
    models.Schedule.objects.create(
        location=location,
        freq="WEEKLY",
        byday="SU",
        opens_at=time(10),
        closes_at=time(14),
        valid_from=date(2027, 6, 1),
        valid_to=date(2027, 8, 31),
    )
    opening_windows_rebuild(location_ids=[location.pk])
    with time_machine.travel(NOW, tick=False):
        resource = location_read(location_id=location.pk)
    assert resource is not None
    assert resource.address is None
    assert [hours.daysOfWeek for hours in resource.hoursOfOperation or []] == [
        ["mon", "tue", "wed", "thu", "fri"]
    ]


def test_fhir_resources_refuses_what_the_shape_does_not_allow():
    """The models do validate: the mapping cannot publish, say, a flag or a position that is not one."""
    with pytest.raises(ValidationError):
        HealthcareService.model_validate({"resourceType": "HealthcareService", "active": "perhaps"})
    with pytest.raises(ValidationError):
        Location.model_validate(
            {"resourceType": "Location", "position": {"latitude": "north", "longitude": 0}}
        )
