"""A referral as a FHIR Task (SDOHCC-TaskForReferralManagement, Gravity SDOH Clinical Care IG), and the
Bundle the Referral API answers with: the Task, its ServiceRequest, the Patient and both Organizations.

- `status` is the referral's own status (kynect's statuses are FHIR Task's); `intent` is `order`;
  `code` is task-code `fulfill`; `focus` the ServiceRequest; `for` the Patient; `priority` routine or
  urgent.
- `requester` is the sending organization (kynect resources itself when a resident referred themselves)
  and `owner` the organization that offers the service, as its directory listing.
- `statusReason.text` says why when the referral was rejected, cancelled, put on hold or not provided;
  `businessStatus` carries the reason the resource was not provided (or Expired) as a code of kynect's
  closure-reason code system, with the resources overview's wording.

The resources are written in English (`language: en`), whatever the language of the request.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.utils import translation
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.task import Task

from kynect.core import clock
from kynect.interop.fhir.datatypes import CONTENT_LANGUAGE, KYNECT_SYSTEM, own_phones
from kynect.interop.fhir.organization import (
    kynect_organization_resource,
    organization_resource,
    platform_organization_resource,
)
from kynect.interop.fhir.patient import patient_resource
from kynect.interop.fhir.service_request import SDOHCC, part2_security_labels, service_request_resource
from kynect.referrals.models import ClosureReason, Referral
from kynect.residents.models import Resident

TASK_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement"
TASK_CODES = "http://hl7.org/fhir/CodeSystem/task-code"
CLOSURE_REASON_SYSTEM = f"{KYNECT_SYSTEM}/CodeSystem/closure-reason"
FULFILL = Coding(system=TASK_CODES, code="fulfill", display="Fulfill the focal request")
# The statuses whose reason the profile asks for in statusReason.text.
REASON_STATUSES = (
    Referral.Status.REJECTED,
    Referral.Status.CANCELLED,
    Referral.Status.ON_HOLD,
    Referral.Status.FAILED,
)


def _reference(resource: Resource, kind: str) -> Reference:
    return Reference(reference=f"{kind}/{resource.id}", display=getattr(resource, "name", None) or None)


def _status_reason(referral: Referral) -> CodeableConcept | None:
    if referral.status not in REASON_STATUSES:
        return None
    if referral.not_provided_reason:
        text = str(ClosureReason(referral.not_provided_reason).label)
    else:
        text = referral.status_reason or str(Referral.Status(referral.status).label)
    return CodeableConcept(text=text)


def _business_status(referral: Referral) -> CodeableConcept | None:
    if not referral.not_provided_reason:
        return None
    reason = ClosureReason(referral.not_provided_reason)
    return CodeableConcept(
        coding=[Coding(system=CLOSURE_REASON_SYSTEM, code=reason.value, display=str(reason.label))],
        text=str(reason.label),
    )


def task_resource(
    referral: Referral, *, focus: Reference, patient: Reference, requester: Reference, owner: Reference
) -> Task:
    closed = referral.closed_at
    return Task.model_validate(
        {
            "id": str(referral.pk),
            "meta": Meta(
                profile=[TASK_PROFILE],
                lastUpdated=referral.updated_at,
                security=part2_security_labels() if referral.part2 else None,
            ),
            "language": CONTENT_LANGUAGE,
            "status": referral.status,
            "statusReason": _status_reason(referral),
            "businessStatus": _business_status(referral),
            "intent": "order",
            "priority": referral.urgency,
            "code": CodeableConcept(coding=[FULFILL]),
            "focus": focus,
            "for": patient,
            "authoredOn": referral.created_at,
            "lastModified": referral.updated_at,
            "executionPeriod": Period(start=referral.created_at, end=closed) if closed else None,
            "requester": requester,
            "owner": owner,
        }
    )


def referral_bundle(referral: Referral, *, base_url: str, resident: Resident | None = None) -> Bundle:
    """Needs the referral as `referral_for_fhir` reads it. `base_url` is the FHIR base the entries'
    full URLs start with (their references are relative to it). `resident` is the resident as the caller
    may see them (`referrals.selectors.resident_shown`), the referral's own by default."""
    resident = resident or referral.resident
    with translation.override("en"):
        patient = patient_resource(resident)
        receiving = organization_resource(referral.receiving_listing)
        sending: FhirOrganization = (
            platform_organization_resource(referral.sending_organization)
            if referral.sending_organization is not None
            else kynect_organization_resource()
        )
        requester = _reference(sending, "Organization")
        owner = _reference(receiving, "Organization")
        patient_reference = Reference(
            reference=f"Patient/{patient.id}",
            display=f"{resident.first_name} {resident.last_name}",
        )
        service_request = service_request_resource(
            referral, patient=patient_reference, requester=requester, owner=owner
        )
        focus = Reference(reference=f"ServiceRequest/{service_request.id}", display=referral.service.name)
        task = task_resource(
            referral, focus=focus, patient=patient_reference, requester=requester, owner=owner
        )
    resources: list[tuple[str, Resource]] = [
        ("Task", task),
        ("ServiceRequest", service_request),
        ("Patient", patient),
        ("Organization", sending),
        ("Organization", receiving),
    ]
    entries: dict[str, BundleEntry] = {}
    for kind, resource in resources:
        url = f"{base_url.rstrip('/')}/{kind}/{resource.id}"
        entries.setdefault(url, BundleEntry(fullUrl=url, resource=resource))
    return Bundle(
        id=str(uuid.uuid4()),
        type="collection",
        timestamp=clock.now(),
        entry=list(entries.values()),
    )


def fhir_base_url() -> str:
    return f"{settings.SITE_URL}/api/fhir"


def referral_for_fhir(*, referral_id: Any) -> Referral | None:
    """The referral with everything its bundle shows, in a fixed number of queries."""
    return (
        Referral.objects.select_related(
            "resident",
            "service",
            "receiving_listing__parent_organization",
            "sending_organization__hsds_organization__parent_organization",
        )
        .prefetch_related(
            own_phones("receiving_listing__phones"),
            "receiving_listing__organization_identifiers",
            own_phones("sending_organization__hsds_organization__phones"),
            "sending_organization__hsds_organization__organization_identifiers",
        )
        .filter(pk=referral_id)
        .first()
    )
