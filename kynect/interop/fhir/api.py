"""The read-only FHIR R4B API, mounted at /api/fhir/: the directory's services, organizations and
locations in the shape of the FHIR Human Services Directory IG (ADR 0025). Thin: the resource modules
query and map."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from fhir.resources.R4B.resource import Resource
from ninja import Router

from kynect.interop.fhir.code_system import code_system_resource
from kynect.interop.fhir.healthcare_service import healthcare_service_read
from kynect.interop.fhir.location import location_read
from kynect.interop.fhir.operation_outcome import operation_outcome_not_found
from kynect.interop.fhir.organization import organization_read

FHIR_JSON = "application/fhir+json"

router = Router(tags=["FHIR R4B"])


def _declared(kind: str) -> dict[str, Any]:
    def body(resource_type: str, description: str) -> dict[str, Any]:
        schema = {
            "type": "object",
            "required": ["resourceType"],
            "properties": {"resourceType": {"const": resource_type}, "id": {"type": "string"}},
        }
        return {"description": description, "content": {FHIR_JSON: {"schema": schema}}}

    return {
        "responses": {
            200: body(kind, f"The {kind} resource"),
            404: body("OperationOutcome", "No such id (unknown or malformed): an OperationOutcome"),
        }
    }


def _answer(kind: str, raw_id: str, read: Callable[[uuid.UUID], Resource | None]) -> HttpResponse:
    try:
        pk = uuid.UUID(raw_id)
    except ValueError:
        resource = None
    else:
        resource = read(pk)
    if resource is None:
        outcome = operation_outcome_not_found(kind=kind)
        return HttpResponse(outcome.model_dump_json(), status=404, content_type=FHIR_JSON)
    return HttpResponse(resource.model_dump_json(), content_type=FHIR_JSON)


@router.get(
    "/HealthcareService/{id}",
    summary="A directory service as a FHIR HealthcareService",
    url_name="fhir-healthcare-service",
    openapi_extra=_declared("HealthcareService"),
)
def healthcare_service(request: HttpRequest, id: str) -> HttpResponse:
    return _answer("HealthcareService", id, lambda pk: healthcare_service_read(service_id=pk))


@router.get(
    "/Organization/{id}",
    summary="A directory organization as a FHIR Organization",
    url_name="fhir-organization",
    openapi_extra=_declared("Organization"),
)
def organization(request: HttpRequest, id: str) -> HttpResponse:
    return _answer("Organization", id, lambda pk: organization_read(organization_id=pk))


@router.get(
    "/Location/{id}",
    summary="A directory location as a FHIR Location",
    url_name="fhir-location",
    openapi_extra=_declared("Location"),
)
def location(request: HttpRequest, id: str) -> HttpResponse:
    return _answer("Location", id, lambda pk: location_read(location_id=pk))


@router.get(
    "/CodeSystem/{id}",
    summary="One of kynect's code systems (sdoh-domain, sdoh-rating)",
    url_name="fhir-code-system",
    openapi_extra=_declared("CodeSystem"),
)
def code_system(request: HttpRequest, id: str) -> HttpResponse:
    resource = code_system_resource(id)
    if resource is None:
        outcome = operation_outcome_not_found(kind="CodeSystem")
        return HttpResponse(outcome.model_dump_json(), status=404, content_type=FHIR_JSON)
    return HttpResponse(resource.model_dump_json(), content_type=FHIR_JSON)
