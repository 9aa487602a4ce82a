"""What KHIE calls, mounted at /api/fhir: a system client's token with the `khie` scope, not a user's.

- `GET /api/fhir/Observation?subject:identifier=<system>|<value>&category=sdoh`: a resident's SDOH
  Observations (their ratings, as SDOHCC-ObservationAssessment), for a resident who shares with KHIE
  (their choice in My Plan, or the state's policy); an empty searchset for anyone else, so that the
  answer tells nothing of who is a kynect resident. 42 CFR Part 2 data are never sent: KHIE holds no
  resident's Part 2 consent.
- `POST /api/fhir/Bundle`: a Bundle of SDOH Observations, imported as risk factors with source KHIE
  (as `manage.py import_khie_bundle`); 422 with an OperationOutcome naming each problem, nothing stored.

See docs/reference/fhir-sdoh.md."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.reference import Reference
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from kynect.accounts.api_auth import token_auth
from kynect.accounts.models import ApiScope
from kynect.assessments.models import RiskRating
from kynect.assessments.selectors import resident_by_identifier
from kynect.assessments.services_import import khie_bundle_import
from kynect.core import clock
from kynect.core.audit import audited_read
from kynect.core.models import AccessEvent
from kynect.interop.fhir.observation import assessment_observation
from kynect.interop.fhir.operation_outcome import operation_outcome_invalid
from kynect.residents.models import Resident
from kynect.residents.part2 import PART2_DOMAINS

FHIR_JSON = "application/fhir+json"
MAX_BUNDLE_BYTES = 20 * 1024 * 1024

router = Router(tags=["KHIE (FHIR SDOH)"], auth=token_auth(scope=ApiScope.KHIE))


def _client_only(request: HttpRequest) -> None:
    token = getattr(request, "auth", None)
    if token is None or token.user_id is not None:
        raise HttpError(403, "This API is KHIE's: use its client token with the khie scope.")


class ObservationSearch(Schema):
    subject_identifier: str = Field(..., alias="subject:identifier", description="`<system>|<value>`")
    category: str = Field("sdoh", description="Only `sdoh`.")


def _resident(identifier: str) -> Resident | None:
    system, _bar, value = identifier.partition("|")
    return resident_by_identifier(system=system, value=value)


def _searchset(resident: Resident | None) -> Bundle:
    entries = []
    if resident is not None:
        subject = Reference(reference=f"Patient/{resident.pk}")
        for rating in (
            RiskRating.objects.filter(resident=resident)
            .exclude(domain__in=PART2_DOMAINS)
            .order_by("rated_at", "created_at")
        ):
            observation = assessment_observation(
                domain=rating.domain,
                rating=rating.rating,
                id=str(rating.pk),
                subject=subject,
                when=rating.rated_at,
                derived_from=[],
            )
            entries.append(BundleEntry(fullUrl=f"urn:uuid:{rating.pk}", resource=observation))
    return Bundle(type="searchset", total=len(entries), timestamp=clock.now(), entry=entries or None)


@router.get(
    "/Observation",
    response={200: dict[str, Any], 403: dict[str, Any]},
    summary="KHIE: a resident's SDOH Observations (searchset Bundle)",
    url_name="fhir-observation-search",
    openapi_extra={"responses": {"200": {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}}},
)
def observation_search(request: HttpRequest, query: Query[ObservationSearch]) -> Any:
    _client_only(request)
    resident = _resident(query.subject_identifier) if query.category == "sdoh" else None
    if resident is not None and not resident.shares_with_khie():
        resident = None
    if resident is None:
        return HttpResponse(_searchset(None).model_dump_json(exclude_none=True), content_type=FHIR_JSON)
    bundle = audited_read(
        request=request,
        actor=None,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: _searchset(resident),
        detail="SDOH Observations to KHIE",
        action=AccessEvent.Action.EXPORT,
    )
    return HttpResponse(bundle.model_dump_json(exclude_none=True), content_type=FHIR_JSON)


@router.post(
    "/Bundle",
    response={200: dict[str, Any], 403: dict[str, Any], 413: dict[str, Any], 422: dict[str, Any]},
    summary="KHIE: send a Bundle of SDOH Observations",
    url_name="fhir-bundle-import",
)
def bundle_import(request: HttpRequest) -> Any:
    _client_only(request)
    if len(request.body) > MAX_BUNDLE_BYTES:
        raise HttpError(413, "The Bundle is larger than 20 MB: send it in parts.")
    summary = khie_bundle_import(data=request.body)
    if summary.problems:
        outcome = operation_outcome_invalid(problems=[(p.path, p.reason) for p in summary.problems])
        return HttpResponse(outcome.model_dump_json(exclude_none=True), content_type=FHIR_JSON, status=422)
    return {
        "stored": summary.stored,
        "unchanged": summary.unchanged,
        "unmatched": summary.unmatched,
        "skipped": summary.skipped,
    }
