"""The Referral API, mounted at /api/referrals: closed-loop referrals for partners' own systems, with a
user's API token (`Authorization: Bearer`), which acts exactly as that user does on the pages. Thin:
`services` write, `selectors` read, `access.decide` says who may, `kynect.interop.fhir.task` maps to FHIR.

See docs/reference/referrals_api.md.
"""

from __future__ import annotations

import math
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kynect.accounts.api_auth import api_resident_data_user, user_token_auth
from kynect.accounts.models import Organization
from kynect.core.api import in_request_language
from kynect.core.audit import audited_denial, audited_read
from kynect.core.sdoh import SdohDomain
from kynect.interop.fhir.task import fhir_base_url, referral_bundle, referral_for_fhir
from kynect.referrals import selectors
from kynect.referrals.access import Action, Decision, decide, user_organization_ids
from kynect.referrals.api_schemas import (
    ERRORS,
    ActionIn,
    BoxName,
    ChangedOut,
    CodeOut,
    CreatedOut,
    ErrorOut,
    InvalidOut,
    PageOut,
    ReferralIn,
    ReferralOut,
    TaskStatus,
    detail_out,
    summary_out,
)
from kynect.referrals.models import ClosureReason, Referral
from kynect.referrals.services import (
    ActionNotAllowedError,
    Closure,
    ReferralChangedError,
    ReferralInput,
    referral_act,
    referral_create,
)
from kynect.residents.services import ResidentInput

FHIR_JSON = "application/fhir+json"
MAX_PER_PAGE = 100
RESIDENT_FIELDS = frozenset(ResidentInput.__dataclass_fields__)


router = Router(tags=["Referrals"], auth=user_token_auth())
router.add_decorator(in_request_language, mode="view")

LANG = Query(None, description="`en` or `es`: the language of labels and messages (else Accept-Language).")
BOX = Query("inbox", description="Received (inbox) or sent (outbox).")
STATUS = Query(None, description="Only referrals in this FHIR Task status or this box.")
ORGANIZATION = Query(None, description="Which of your organizations (default: the first by name).")
PAGE = Query(1, ge=1, le=1_000_000, description="Page number, from 1.")
PER_PAGE = Query(50, ge=1, le=MAX_PER_PAGE, description=f"Referrals per page (1 to {MAX_PER_PAGE}).")


def _invalid(error: ValidationError) -> Status:
    detail = [
        {
            "loc": ["body", "payload", *(("resident",) if field in RESIDENT_FIELDS else ()), field],
            "msg": message,
        }
        for field, messages in error.message_dict.items()
        for message in messages
    ]
    return Status(422, {"detail": detail})


def _not_found() -> Status:
    return Status(404, {"detail": _("There is no referral with this id.")})


def _forbidden() -> Status:
    return Status(403, {"detail": _("You may not do this with referrals.")})


def _visible(request: HttpRequest, referral_id: UUID) -> Referral | Status:
    """The referral with its timeline, if the caller may see it; else the 404 or 403 to answer."""
    user = api_resident_data_user(request)
    referral = selectors.referral_with_timeline(referral_id=referral_id)
    decision = decide(user=user, action=Action.VIEW, referral=referral) if referral else Decision.NOT_FOUND
    if referral is None or decision == Decision.NOT_FOUND:
        # As if it did not exist, and recorded: guessing another organization's ids leaves a trace.
        audited_denial(
            request=request, actor=user, subject_type="referral", subject_id=str(referral_id), detail="API"
        )
        return _not_found()
    if decision != Decision.ALLOWED:
        return _forbidden()
    return referral


def _audited_full(request: HttpRequest, referral: Referral, detail: str) -> dict[str, Any]:
    user = api_resident_data_user(request)
    return audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(referral.resident_id),
        read=lambda: detail_out(referral, user=user),
        detail=f"referral {referral.pk} ({detail}, API)",
    )


# --- endpoints ---------------------------------------------------------------------------------------


@router.get(
    "/closure-reasons",
    response={200: list[CodeOut], 401: ErrorOut, 403: ErrorOut},
    summary="The 16 reasons a resource was not provided",
    url_name="referrals-closure-reasons",
)
def closure_reasons(request: HttpRequest, lang: str | None = LANG) -> Any:
    if decide(user=api_resident_data_user(request), action=Action.VIEW) != Decision.ALLOWED:
        return _forbidden()
    return [{"code": reason.value, "label": str(reason.label)} for reason in ClosureReason]


@router.get(
    "/needs",
    response={200: list[CodeOut], 401: ErrorOut, 403: ErrorOut},
    summary="The 18 needs (social drivers of health) a referral is for",
    url_name="referrals-needs",
)
def needs(request: HttpRequest, lang: str | None = LANG) -> Any:
    if decide(user=api_resident_data_user(request), action=Action.VIEW) != Decision.ALLOWED:
        return _forbidden()
    return [{"code": need.value, "label": str(need.label)} for need in SdohDomain]


@router.post(
    "",
    response={201: CreatedOut, **ERRORS},
    summary="Refer a resident to a service",
    description=(
        "Finds the resident by the duplicate check (or makes them), refers them from your organization "
        "to the organization offering the service and emails it. 422 names each bad field; nothing is "
        "saved."
    ),
    url_name="referrals",
)
def referral_make(request: HttpRequest, payload: ReferralIn, lang: str | None = LANG) -> Any:
    user = api_resident_data_user(request)
    organization = None
    if payload.sending_organization_id is not None:
        organization = Organization.objects.filter(pk=payload.sending_organization_id).first()
        if organization is None:
            return _invalid(
                ValidationError({"sending_organization_id": [_("There is no such organization.")]})
            )
    data = ReferralInput(
        service_id=payload.service_id,
        need=payload.need,
        note=payload.note,
        urgency=payload.urgency,
        pre_consent=payload.pre_consent,
        resident=ResidentInput(**payload.resident.dict()) if payload.resident is not None else None,
        resident_id=payload.resident_id,
    )
    try:
        created = referral_create(actor=user, data=data, organization=organization)
    except ValidationError as error:
        return _invalid(error)
    except PermissionDenied:
        return _forbidden()
    referral = selectors.referral_with_timeline(referral_id=created.referral.pk)
    assert referral is not None
    return Status(
        201,
        {
            **detail_out(referral, user=user),
            "resident_matched": created.resident_matched,
            "receiver_not_onboarded": created.receiver_not_onboarded,
        },
    )


@router.get(
    "",
    response={200: PageOut, **ERRORS},
    summary="Your organization's Inbox or Outbox",
    description="Newest first, a page at a time. `status` is a FHIR Task status or a box (new, "
    "in_progress, closed).",
    url_name="referrals-list",
)
def referral_list(
    request: HttpRequest,
    box: Literal["inbox", "outbox"] = BOX,
    status: TaskStatus | BoxName | None = STATUS,
    organization_id: UUID | None = ORGANIZATION,
    page: int = PAGE,
    per_page: int = PER_PAGE,
    lang: str | None = LANG,
) -> Any:
    user = api_resident_data_user(request)
    if decide(user=user, action=Action.BOXES) != Decision.ALLOWED:
        return _forbidden()
    mine = user_organization_ids(user=user)
    if organization_id is not None and organization_id not in mine:
        return _forbidden()
    organization = (
        Organization.objects.filter(pk__in=[organization_id] if organization_id else mine)
        .order_by("name")
        .first()
    )
    if organization is None:
        return _forbidden()
    referrals = selectors.referrals_box(
        organization_id=organization.pk,
        outbox=box == "outbox",
        filters=selectors.BoxFilters(box=status if status in Referral.Box.values else ""),
    )
    if status in Referral.Status.values:
        referrals = referrals.filter(status=status)

    def read() -> dict[str, Any]:
        total = referrals.count()
        start = (page - 1) * per_page
        rows = (
            [summary_out(referral) for referral in referrals[start : start + per_page]]
            if start < total
            else []
        )
        total_pages = math.ceil(total / per_page)
        return {
            "total_items": total,
            "total_pages": total_pages,
            "page_number": page,
            "size": len(rows),
            "first_page": page == 1,
            "last_page": page >= total_pages,
            "empty": not rows,
            "contents": rows,
        }

    return audited_read(
        request=request,
        actor=user,
        subject_type="referrals.box",
        subject_id=str(organization.pk),
        read=read,
        detail=lambda shown: f"{box} page {page}: {shown['size']} referrals (API)",
    )


@router.get(
    "/{referral_id}",
    response={200: ReferralOut, **ERRORS},
    summary="A referral with its timeline",
    description="A referral neither sent nor received by your organization is 404, as if it did not exist.",
    url_name="referral",
)
def referral_detail(request: HttpRequest, referral_id: UUID, lang: str | None = LANG) -> Any:
    referral = _visible(request, referral_id)
    if isinstance(referral, Status):
        return referral
    return _audited_full(request, referral, "viewed")


@router.post(
    "/{referral_id}/actions",
    response={200: ReferralOut, 409: ChangedOut | ErrorOut, **ERRORS},
    summary="Accept, start, hold, resume, reject, cancel, close or reopen a referral",
    description="409 when the referral's state does not allow the action, or when it changed since "
    "`seen_status`; 422 for a missing or unknown field. Nothing is changed then.",
    url_name="referral-actions",
)
def referral_action(
    request: HttpRequest, referral_id: UUID, payload: ActionIn, lang: str | None = LANG
) -> Any:
    user = api_resident_data_user(request)
    action = Action(payload.action)
    closing = action == Action.CLOSE
    if not closing and (payload.experience is not None or payload.resource_provided is not None):
        field = "experience" if payload.experience is not None else "resource_provided"
        return _invalid(ValidationError({field: [_("Only for closing a referral.")]}))
    try:
        referral = referral_act(
            actor=user,
            referral_id=referral_id,
            action=action,
            seen_status=payload.seen_status,
            reason="" if closing else payload.reason,
            closure=Closure(
                experience=payload.experience or "",
                resource_provided=payload.resource_provided,
                reason=payload.reason.strip(),
            )
            if closing
            else None,
        )
    except Referral.DoesNotExist:
        return _not_found()
    except PermissionDenied:
        return _forbidden()
    except ValidationError as error:
        return _invalid(error)
    except ActionNotAllowedError as refused:
        return Status(409, {"detail": refused.message})
    except ReferralChangedError as changed:
        return Status(409, {"detail": str(changed), "status": changed.referral.status})
    shown = selectors.referral_with_timeline(referral_id=referral.pk)
    assert shown is not None
    return _audited_full(request, shown, action.value)


@router.get(
    "/{referral_id}/fhir",
    response={401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut},
    summary="A referral as a FHIR R4B Bundle (SDOHCC Task, ServiceRequest, Patient, Organizations)",
    url_name="referral-fhir",
    openapi_extra={
        "responses": {
            200: {
                "description": "A Bundle of type collection",
                "content": {
                    FHIR_JSON: {
                        "schema": {
                            "type": "object",
                            "required": ["resourceType", "type", "entry"],
                            "properties": {
                                "resourceType": {"const": "Bundle"},
                                "type": {"const": "collection"},
                                "entry": {"type": "array"},
                            },
                        }
                    }
                },
            }
        }
    },
)
def referral_fhir(request: HttpRequest, referral_id: UUID, lang: str | None = LANG) -> Any:
    visible = _visible(request, referral_id)
    if isinstance(visible, Status):
        return visible
    referral = referral_for_fhir(referral_id=visible.pk)
    if referral is None:
        return _not_found()
    bundle = audited_read(
        request=request,
        actor=api_resident_data_user(request),
        subject_type="resident",
        subject_id=str(referral.resident_id),
        read=lambda: referral_bundle(
            referral,
            base_url=fhir_base_url(),
            resident=selectors.resident_shown(referral=referral, user=api_resident_data_user(request)),
        ),
        detail=f"referral {referral.pk} (FHIR, API)",
    )
    return HttpResponse(bundle.model_dump_json(), content_type=FHIR_JSON)
