"""A referral as an SDOHCC Task for referral management, inside the Bundle the Referral API answers with.

The expected values follow the SDOH Clinical Care IG's published example Tasks, field by field:
SDOHCC-TaskReferralManagementOrderFulfillmentAcceptedExample (an accepted referral) and
SDOHCC-TaskReferralManagementOrderFulfillmentCompletedExample (a completed one). Where kynect differs
from the examples, the test says how and why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import translation
from fhir.resources.R4B.bundle import Bundle

from kynect.accounts.models import Role
from kynect.interop.fhir.task import referral_bundle, referral_for_fhir
from kynect.referrals.access import Action
from kynect.referrals.models import Referral
from kynect.referrals.services import Closure, ReferralInput, referral_act, referral_create, referrals_expire
from kynect.referrals.tests.factories import Partner, member, partner, referral
from kynect.residents.models import Resident

pytestmark = pytest.mark.django_db

BASE = "https://kynect.example/api/fhir"
MADE = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
TASK_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement"
CLOSURE = "https://kynect.ky.gov/fhir/CodeSystem/closure-reason"


def bundle_of(made: Referral) -> dict:
    """The bundle as a client reads it: JSON, validated again by fhir.resources."""
    found = referral_for_fhir(referral_id=made.pk)
    assert found is not None
    bundle = referral_bundle(found, base_url=BASE)
    body = json.loads(bundle.model_dump_json())
    assert Bundle.model_validate(body) == bundle
    return body


def resources(body: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in body["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def made_referral(**fields) -> tuple[Referral, Partner, Partner]:
    sender, receiver = partner(), partner()
    with time_machine.travel(MADE, tick=False):
        made = referral(sender, receiver, **fields)
    return made, sender, receiver


def task_of(made: Referral) -> dict:
    [task] = resources(bundle_of(made))["Task"]
    return task


def test_an_accepted_referral_follows_the_accepted_example():
    """Follows SDOHCC-TaskReferralManagementOrderFulfillmentAcceptedExample field by field."""
    made, sender, receiver = made_referral()
    with time_machine.travel(LATER, tick=False):
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.ACCEPT)
    task = task_of(made)
    resident = made.resident

    assert task["meta"]["profile"] == [TASK_PROFILE]
    # status: the example's `accepted`; kynect's status is the Task's status.
    assert task["status"] == "accepted"
    # intent: `order`, fixed by the profile, as in the example.
    assert task["intent"] == "order"
    # code: task-code#fulfill "Fulfill the focal request", as in the example.
    assert task["code"] == {
        "coding": [
            {
                "system": "http://hl7.org/fhir/CodeSystem/task-code",
                "code": "fulfill",
                "display": "Fulfill the focal request",
            }
        ]
    }
    # focus: the ServiceRequest (the example's is the food pantry application assistance request).
    assert task["focus"] == {"reference": f"ServiceRequest/{made.pk}", "display": made.service.name}
    # for: the Patient, with the name as display (the example: Patient/pat-53234, "COLIN ABBAS").
    assert task["for"] == {"reference": f"Patient/{resident.pk}", "display": "Ana Reyes"}
    # authoredOn: when the referral was made.
    assert task["authoredOn"] == "2026-12-01T14:30:00Z"
    # requester: the example names a PractitionerRole; the profile also allows an Organization, which is
    # what kynect knows: the sending organization.
    sending = sender.organization.hsds_organization
    assert sending is not None
    assert task["requester"] == {"reference": f"Organization/{sending.pk}", "display": sending.name}
    # owner: an Organization, as in the example (the coordination platform there; here the organization
    # that offers the service, as its directory listing).
    assert task["owner"] == {
        "reference": f"Organization/{made.receiving_listing_id}",
        "display": made.receiving_listing.name,
    }
    # The example has no statusReason, businessStatus or output for an accepted Task; neither has kynect.
    assert "statusReason" not in task
    assert "businessStatus" not in task
    assert "output" not in task
    assert task["priority"] == "routine"
    assert task["lastModified"] == "2026-12-02T09:00:00Z"


def test_a_completed_referral_follows_the_completed_example():
    """Follows SDOHCC-TaskReferralManagementOrderFulfillmentCompletedExample."""
    made, _sender, receiver = made_referral(urgency="urgent")
    with time_machine.travel(LATER, tick=False):
        referral_act(
            actor=receiver.user,
            referral_id=made.pk,
            action=Action.CLOSE,
            closure=Closure(experience="up", resource_provided=True),
        )
    task = task_of(made)
    assert task["status"] == "completed"
    assert task["intent"] == "order"
    assert task["code"]["coding"][0]["code"] == "fulfill"
    assert task["focus"]["reference"] == f"ServiceRequest/{made.pk}"
    assert task["for"]["reference"] == f"Patient/{made.resident_id}"
    # The example's output points at the Procedure that was done; kynect records only that the resource
    # was provided, so there is no Procedure to point at and no output.
    assert "output" not in task
    assert "statusReason" not in task
    assert "businessStatus" not in task
    assert task["priority"] == "urgent"
    assert task["executionPeriod"] == {"start": "2026-12-01T14:30:00Z", "end": "2026-12-02T09:00:00Z"}


def test_a_referral_not_provided_carries_its_reason_in_status_reason_and_business_status():
    made, _sender, receiver = made_referral()
    referral_act(
        actor=receiver.user,
        referral_id=made.pk,
        action=Action.CLOSE,
        closure=Closure(experience="down", resource_provided=False, reason="unreachable"),
    )
    task = task_of(made)
    assert task["status"] == "failed"
    # The profile: "If the Task.status is rejected, cancelled, on-hold, or failed, then
    # Task.statusReason.text should be included."
    assert task["statusReason"] == {"text": "Unable to reach client"}
    assert task["businessStatus"] == {
        "coding": [{"system": CLOSURE, "code": "unreachable", "display": "Unable to reach client"}],
        "text": "Unable to reach client",
    }


@pytest.mark.parametrize(
    ("action", "reason", "status"),
    [
        (Action.REJECT, "We are full until January", "rejected"),
        (Action.HOLD, "Waiting for documents", "on-hold"),
        (Action.CANCEL, "The resident moved away", "cancelled"),
    ],
)
def test_rejected_on_hold_and_cancelled_say_why(action, reason, status):
    made, sender, receiver = made_referral()
    if action == Action.HOLD:
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.START)
    actor = sender.user if action == Action.CANCEL else receiver.user
    referral_act(actor=actor, referral_id=made.pk, action=action, reason=reason)
    task = task_of(made)
    assert task["status"] == status
    assert task["statusReason"] == {"text": reason}
    assert "businessStatus" not in task


def test_a_cancellation_without_a_reason_names_the_status_and_an_expiry_names_expired():
    made, sender, _receiver = made_referral()
    referral_act(actor=sender.user, referral_id=made.pk, action=Action.CANCEL)
    assert task_of(made)["statusReason"] == {"text": "Cancelled"}

    expired, _sender, _receiver = made_referral()
    specialist = member(None, Role.REFERRAL_SPECIALIST)
    Referral.objects.filter(pk=expired.pk).update(receiver_onboarded=False, expirable_at=MADE)
    assert referrals_expire(actor=specialist, referral_ids=[expired.pk]) == 1
    task = task_of(expired)
    assert task["status"] == "cancelled"
    assert task["statusReason"] == {"text": "Expired"}
    assert task["businessStatus"]["coding"] == [{"system": CLOSURE, "code": "expired", "display": "Expired"}]


def test_the_bundle_holds_the_task_its_request_the_patient_and_both_organizations():
    made, sender, _receiver = made_referral()
    body = bundle_of(made)
    assert body["resourceType"] == "Bundle"
    assert body["type"] == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in body["entry"]]
    assert kinds == ["Task", "ServiceRequest", "Patient", "Organization", "Organization"]
    urls = [entry["fullUrl"] for entry in body["entry"]]
    assert urls == [
        f"{BASE}/Task/{made.pk}",
        f"{BASE}/ServiceRequest/{made.pk}",
        f"{BASE}/Patient/{made.resident_id}",
        f"{BASE}/Organization/{sender.organization.hsds_organization_id}",
        f"{BASE}/Organization/{made.receiving_listing_id}",
    ]
    # Every reference of the Task resolves inside the bundle.
    task = body["entry"][0]["resource"]
    inside = {url.removeprefix(f"{BASE}/") for url in urls}
    for element in ("focus", "for", "requester", "owner"):
        assert task[element]["reference"] in inside


def test_the_bundle_is_in_english_whatever_the_language_of_the_request():
    made, _sender, receiver = made_referral()
    referral_act(
        actor=receiver.user,
        referral_id=made.pk,
        action=Action.CLOSE,
        closure=Closure(experience="down", resource_provided=False, reason="too_far"),
    )
    with translation.override("es"):
        task = task_of(made)
    assert task["language"] == "en"
    assert task["statusReason"]["text"] == "No, the organization was too far away"


def test_a_resident_who_referred_themselves_is_requested_through_kynect():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    resident_user = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=made.resident_id).update(user=resident_user)
    own = referral_create(
        actor=resident_user,
        data=ReferralInput(service_id=receiver.service.pk, need="housing", resident_id=made.resident_id),
    ).referral
    body = bundle_of(own)
    task = resources(body)["Task"][0]
    assert task["requester"] == {"reference": "Organization/kynect", "display": "kynect resources"}
    assert "Organization/kynect" in {entry["fullUrl"].removeprefix(f"{BASE}/") for entry in body["entry"]}


def test_the_bundle_is_read_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    made, _sender, _receiver = made_referral()
    with django_assert_max_num_queries(7):
        found = referral_for_fhir(referral_id=made.pk)
        assert found is not None
        referral_bundle(found, base_url=BASE)
