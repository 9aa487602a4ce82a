"""The Assessments API, mounted at /api/assessments, with a user's API token acting as its user (as the
Residents API): a resident's assessments as a FHIR R4B Bundle (`kynect.interop.fhir.sdoh_bundle`), for
those who see the resident's full record; 42 CFR Part 2 data only for those the resident gave a Part 2
consent. Every export is an audited read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError

from kynect.accounts.api_auth import api_resident_data_user, user_token_auth
from kynect.assessments.models import Assessment
from kynect.core.api import in_request_language
from kynect.core.audit import audited_denial, audited_read
from kynect.core.models import AccessEvent
from kynect.interop.fhir.sdoh_bundle import assessment_bundle
from kynect.residents.access import View, consent_in_force, resident_view
from kynect.residents.models import Resident
from kynect.residents.part2 import part2_unlocked

FHIR_JSON = "application/fhir+json"

router = Router(tags=["Assessments"], auth=user_token_auth())
router.add_decorator(in_request_language, mode="view")


@router.get(
    "/residents/{resident_id}/fhir",
    response={200: dict[str, Any], 403: dict[str, Any], 404: dict[str, Any]},
    summary="A resident's completed assessments as a FHIR R4B Bundle (SDOH Clinical Care)",
    url_name="assessments-resident-fhir",
    openapi_extra={"responses": {"200": {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}}},
)
def resident_assessments_fhir(request: HttpRequest, resident_id: UUID, assessment: UUID | None = None) -> Any:
    """Every completed assessment of the resident, or with `assessment` that one only."""
    user = api_resident_data_user(request)
    resident = Resident.objects.filter(pk=resident_id).first()
    if resident is None or resident_view(user=user, resident=resident) != View.FULL:
        audited_denial(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(resident_id),
            detail="API: SDOH",
        )
        raise HttpError(404, _("There is no resident with this id."))
    consent = consent_in_force(user=user, resident=resident)
    part2 = part2_unlocked(user=user, resident=resident)
    bundle = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: assessment_bundle(
            resident=resident,
            assessments=list(
                Assessment.objects.filter(resident=resident, status=Assessment.Status.COMPLETED)
                .filter(**({"pk": assessment} if assessment else {}))
                .select_related("instrument")
                .order_by("completed_at")
            ),
            part2=part2,
        ),
        detail="assessments (FHIR, API)",
        action=AccessEvent.Action.EXPORT,
        consent_id=consent.pk if consent else None,
    )
    return HttpResponse(bundle.model_dump_json(exclude_none=True), content_type=FHIR_JSON)
