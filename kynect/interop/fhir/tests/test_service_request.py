"""A referral's request as an SDOHCC ServiceRequest, and the mapping of kynect's 18 needs to SDOH
categories.

The expected values follow the SDOH Clinical Care IG's published example
SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample, field by field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from fhir.resources.R4B.servicerequest import ServiceRequest

from kynect.core.sdoh import SdohDomain
from kynect.interop.fhir.service_request import NEED_CATEGORIES, need_categories
from kynect.interop.fhir.task import referral_bundle, referral_for_fhir
from kynect.referrals.access import Action
from kynect.referrals.models import Referral
from kynect.referrals.services import referral_act
from kynect.referrals.tests.factories import partner, referral

pytestmark = pytest.mark.django_db

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
SDOHCC_CODES = f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
NEEDS = "https://kynect.ky.gov/fhir/CodeSystem/sdoh-domain"
MADE = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def service_request_of(made: Referral) -> dict:
    found = referral_for_fhir(referral_id=made.pk)
    assert found is not None
    bundle = json.loads(referral_bundle(found, base_url="https://kynect.example/api/fhir").model_dump_json())
    [body] = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "ServiceRequest"
    ]
    ServiceRequest.model_validate(body)
    return body


def test_a_food_referral_follows_the_food_pantry_example():
    """Follows SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample field by field."""
    sender, receiver = partner(), partner()
    with time_machine.travel(MADE, tick=False):
        made = referral(sender, receiver, need="food", note="Needs groceries this week.")
    request = service_request_of(made)

    assert request["meta"]["profile"] == [f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest"]
    # status and intent: the example's `active` and `order`.
    assert request["status"] == "active"
    assert request["intent"] == "order"
    # category: as in the example, SNOMED CT 410606002 "Social service procedure", then the SDOH
    # category food-insecurity "Food Insecurity"; kynect adds its own need code after them.
    assert request["category"][0] == {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "410606002", "display": "Social service procedure"}
        ]
    }
    assert request["category"][1] == {
        "coding": [{"system": SDOHCC_CODES, "code": "food-insecurity", "display": "Food Insecurity"}]
    }
    assert request["category"][2] == {
        "coding": [{"system": NEEDS, "code": "food", "display": "Food"}],
        "text": "Food",
    }
    # code: the example names the specific procedure (SNOMED CT 467771000124109); kynect knows only that
    # the resident is referred to a service, so SNOMED CT 306206005 "Referral to service", with the
    # service's name as text.
    assert request["code"] == {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "306206005", "display": "Referral to service"}
        ],
        "text": made.service.name,
    }
    # subject: the Patient with the name as display (the example: Patient/pat-53234, "COLIN ABBAS").
    assert request["subject"] == {"reference": f"Patient/{made.resident_id}", "display": "Ana Reyes"}
    # The example's reasonReference points at a food insecurity Condition; kynect records no Condition
    # with a referral, so there is none.
    assert "reasonReference" not in request
    assert request["authoredOn"] == "2026-12-01T14:30:00Z"
    assert request["requester"]["reference"] == f"Organization/{sender.organization.hsds_organization_id}"
    assert request["performer"] == [
        {"reference": f"Organization/{made.receiving_listing_id}", "display": made.receiving_listing.name},
        {"reference": f"HealthcareService/{made.service_id}", "display": made.service.name},
    ]
    assert request["priority"] == "routine"
    assert request["note"] == [{"text": "Needs groceries this week."}]


@pytest.mark.parametrize(
    ("action", "status"),
    [(Action.ACCEPT, "active"), (Action.REJECT, "revoked"), (Action.CANCEL, "revoked")],
)
def test_the_request_is_active_while_the_task_is_open(action, status):
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    actor = sender.user if action == Action.CANCEL else receiver.user
    referral_act(
        actor=actor, referral_id=made.pk, action=action, reason="Full" if action == Action.REJECT else ""
    )
    assert service_request_of(made)["status"] == status


def test_every_need_has_an_sdoh_category_and_its_own_code():
    assert set(NEED_CATEGORIES) == set(SdohDomain.values)
    for need in SdohDomain:
        sdoh, own = (concept.model_dump() for concept in need_categories(need.value))
        assert sdoh["coding"][0]["system"] == SDOHCC_CODES
        assert own["coding"][0] == {"system": NEEDS, "code": need.value, "display": need.label}


@pytest.mark.parametrize(
    ("need", "category"),
    [
        ("food", "food-insecurity"),
        ("housing", "housing-instability"),
        ("mobility", "transportation-insecurity"),
        ("employment", "employment-status"),
        ("income", "financial-insecurity"),
        ("health_care_coverage", "health-insurance-coverage-status"),
        ("adult_education", "educational-attainment"),
        ("family_social_relations", "social-connection"),
        ("legal", "sdoh-category-unspecified"),
        ("substance_abuse", "sdoh-category-unspecified"),
    ],
)
def test_needs_map_to_the_nearest_sdoh_category(need, category):
    assert need_categories(need)[0].model_dump()["coding"][0]["code"] == category
