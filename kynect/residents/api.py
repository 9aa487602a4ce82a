"""The Residents API, mounted at /api/residents: a resident's consents, for partners' own systems, with a
user's API token (`Authorization: Bearer`), which acts exactly as that user does on the pages. Thin:
`services_consent` writes, `access.decide` says who may, `kynect.interop.fhir.consent` maps to FHIR.

See docs/reference/residents.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from fhir.resources.R4B.reference import Reference
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from kynect.accounts.api_auth import api_resident_data_user, user_token_auth
from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.core.api import in_request_language
from kynect.core.audit import audited_denial, audited_read
from kynect.interop.fhir.consent import STATUS, consent_resource
from kynect.residents.access import (
    Action,
    Decision,
    Standing,
    View,
    consent_in_force,
    decide,
    resident_view,
    staff_organization_ids,
    standings,
)
from kynect.residents.models import Consent, Resident
from kynect.residents.sections import resident_api_part
from kynect.residents.services_consent import (
    consent_record,
    consent_request_send,
    consent_revoke,
    part2_terms_check,
)

FHIR_JSON = "application/fhir+json"
# The API's names for how consent is asked or given, and the platform's.
CHANNELS = {
    "sms": Consent.Channel.TEXT,
    "email": Consent.Channel.EMAIL,
    "in_person": Consent.Channel.IN_PERSON,
    "phone": Consent.Channel.PHONE,
}

router = Router(tags=["Residents"], auth=user_token_auth())
router.add_decorator(in_request_language, mode="view")


class ErrorOut(Schema):
    detail: Any


class ConsentIn(Schema):
    channel: Literal["sms", "email", "in_person", "phone"] = Field(
        ...,
        description="`sms` or `email`: send the resident a link to answer; `in_person` or `phone`: record "
        "consent the resident gave, with your `attestation`.",
    )
    attestation: str = Field(
        "", max_length=500, description="How and when the resident agreed (in person, phone)."
    )
    organization_id: UUID | None = Field(
        None, description="Which of your organizations (default: the first by name)."
    )
    kind: Literal["general", "part2"] = Field(
        "general",
        description="`general`: the full profile; `part2`: the separate 42 CFR Part 2 consent for "
        "substance use treatment records, with its `purpose` and `expires_at` (in person only when "
        "recorded: it is signed in writing).",
    )
    purpose: str = Field("", max_length=300, description="Part 2 only: why your organization needs them.")
    expires_at: datetime | None = Field(
        None, description="Part 2 only: when the consent ends by itself (one year from now at most)."
    )


class RevokeIn(Schema):
    note: str = Field(
        "", max_length=500, description="How the resident asked to revoke it (required of an organization)."
    )


class OrganizationOut(Schema):
    id: UUID
    name: str


class ConsentEventOut(Schema):
    transition: str
    status: str
    channel: str
    at: datetime


class ConsentOut(Schema):
    id: UUID
    kind: Literal["general", "part2"]
    status: str = Field(..., description="FHIR Consent status: proposed, active, rejected or inactive.")
    in_force: bool = Field(..., description="Active and, for a Part 2 consent, not past its expiry.")
    organization: OrganizationOut
    channel: str
    purpose: str | None = Field(None, description="Part 2 only.")
    shares: str | None = Field(None, description="Part 2 only: what the consent lets its organization see.")
    expires_at: datetime | None = Field(None, description="Part 2 only.")
    granted_at: datetime | None
    revoked_at: datetime | None
    history: list[ConsentEventOut]


def _out(consent: Consent) -> dict[str, Any]:
    part2 = consent.kind == Consent.Kind.PART2
    return {
        "id": consent.pk,
        "kind": consent.kind,
        "status": STATUS[Consent.Status(consent.status)],
        "in_force": consent.in_force(),
        "organization": {"id": consent.organization.pk, "name": consent.organization.name},
        "channel": consent.channel,
        "purpose": consent.purpose if part2 else None,
        "shares": consent.shares if part2 else None,
        "expires_at": consent.expires_at if part2 else None,
        "granted_at": consent.granted_at,
        "revoked_at": consent.revoked_at,
        "history": [
            {
                "transition": event.transition,
                "status": event.to_status,
                "channel": event.channel,
                "at": event.at,
            }
            for event in consent.events.all()
        ],
    }


def _resident(request: HttpRequest, resident_id: UUID, action: Action) -> Resident:
    """The resident, for a caller whose standing allows `action`: 404 (recorded) for anyone else, 403 for
    a role that may never."""
    user = api_resident_data_user(request)
    resident = Resident.objects.filter(pk=resident_id).first()
    decision = decide(user=user, action=action, resident=resident) if resident else Decision.NOT_FOUND
    if decision == Decision.FORBIDDEN:
        raise HttpError(403, _("You may not do this with residents' data."))
    if decision != Decision.ALLOWED or resident is None:
        audited_denial(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(resident_id),
            detail=f"API: {action}",
        )
        raise HttpError(404, _("There is no resident with this id."))
    return resident


def _visible_consents(user: User, resident: Resident) -> Any:
    """The resident and those who see any resident see every consent; staff, their organizations'."""
    consents = (
        Consent.objects.filter(resident=resident).select_related("organization").prefetch_related("events")
    )
    if standings(user=user, resident=resident) & {Standing.SELF, Standing.ANY}:
        return consents.order_by("created_at")
    return consents.filter(organization_id__in=staff_organization_ids(user=user)).order_by("created_at")


def _invalid(error: ValidationError) -> Status:
    detail = [
        {"loc": ["body", "payload", field], "msg": message}
        for field, messages in error.message_dict.items()
        for message in messages
    ]
    return Status(422, {"detail": detail})


class HouseholdOut(Schema):
    name: str
    age: int
    relationship: str


class ProgramOut(Schema):
    program: str
    label: str
    started_on: date
    renewal_on: date | None


class NoteOut(Schema):
    id: UUID
    subject: str
    body: str
    organization: str
    created_at: datetime
    edited_at: datetime | None


class RiskFactorOut(Schema):
    domain: str
    rating: str
    rated_at: datetime
    source: str


class ResidentOut(Schema):
    id: UUID
    view: Literal["full", "limited"] = Field(
        ..., description="`full` with consent (or the resident themself); `limited` with only a referral."
    )
    first_name: str
    last_name: str
    email: str
    mobile_phone: str
    preferred_contact_method: str
    preferred_language: str
    client_id: str | None = Field(None, description="Full view only.")
    birth_date: date | None = Field(None, description="Full view only.")
    postal_code: str | None = Field(None, description="Full view only.")
    household: list[HouseholdOut] | None = Field(None, description="Full view only.")
    programs: list[ProgramOut] | None = Field(None, description="Full view only.")
    risk_factors: list[RiskFactorOut] | None = Field(
        None,
        description="Full view only: the latest rating per domain (a Substance Abuse rating only with the "
        "resident's 42 CFR Part 2 consent).",
    )
    notes: list[NoteOut] | None = Field(None, description="Full view only.")


def _resident_out(resident: Resident, view: View, user: User) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": resident.pk,
        "view": view.value,
        "first_name": resident.first_name,
        "last_name": resident.last_name,
        "email": resident.email,
        "mobile_phone": resident.mobile_phone,
        "preferred_contact_method": resident.preferred_contact_method,
        "preferred_language": resident.preferred_language,
    }
    if view != View.FULL:
        return out
    return out | {
        "client_id": resident.client_id,
        "birth_date": resident.birth_date,
        "postal_code": resident.postal_code,
        "household": [
            {"name": member.name, "age": member.age, "relationship": member.relationship}
            for member in resident.household.all()
        ],
        "programs": [
            {
                "program": program.program,
                "label": str(program.get_program_display()),
                "started_on": program.started_on,
                "renewal_on": program.renewal_on,
            }
            for program in resident.programs.all()
        ],
        "risk_factors": resident_api_part("risk_factors", resident=resident, user=user, default=[]),
        "notes": [
            {
                "id": note.pk,
                "subject": note.subject,
                "body": note.body,
                "organization": note.organization.name,
                "created_at": note.created_at,
                "edited_at": note.edited_at,
            }
            for note in resident.notes.select_related("organization")
        ],
    }


@router.get(
    "/{resident_id}",
    response={200: ResidentOut, 403: ErrorOut, 404: ErrorOut},
    exclude_none=True,
    summary="A resident: the full profile with consent, the limited view with a referral",
    url_name="resident-detail",
)
def resident_detail(request: HttpRequest, resident_id: UUID) -> Any:
    user = api_resident_data_user(request)
    resident = Resident.objects.filter(pk=resident_id).first()
    view = resident_view(user=user, resident=resident) if resident is not None else View.NONE
    if resident is None or view == View.NONE:
        if (
            resident is not None
            and decide(user=user, action=Action.VIEW_LIMITED, resident=resident) == Decision.FORBIDDEN
            and decide(user=user, action=Action.VIEW_FULL, resident=resident) == Decision.FORBIDDEN
        ):
            raise HttpError(403, _("You may not do this with residents' data."))
        audited_denial(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(resident_id),
            detail="API: resident",
        )
        raise HttpError(404, _("There is no resident with this id."))
    consent = consent_in_force(user=user, resident=resident) if view == View.FULL else None
    return audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: _resident_out(resident, view, user),
        detail=f"resident ({view.value}, API)",
        consent_id=consent.pk if consent else None,
    )


@router.post(
    "/{resident_id}/consents",
    response={201: ConsentOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Ask for or record a resident's consent",
    url_name="resident-consent-create",
)
def consent_create(request: HttpRequest, resident_id: UUID, payload: ConsentIn) -> Any:
    user = api_resident_data_user(request)
    resident = _resident(request, resident_id, Action.CONSENT_REQUEST)
    mine = Organization.objects.filter(pk__in=staff_organization_ids(user=user)).order_by("name")
    organization = (
        mine.filter(pk=payload.organization_id).first()
        if payload.organization_id is not None
        else mine.first()
    )
    if organization is None:
        return Status(
            422, {"detail": [{"loc": ["body", "payload", "organization_id"], "msg": _("Not one of yours.")}]}
        )
    channel = CHANNELS[payload.channel]
    try:
        terms = (
            part2_terms_check(purpose=payload.purpose, expires_at=payload.expires_at, now=clock.now())
            if payload.kind == Consent.Kind.PART2
            else None
        )
        if channel in (Consent.Channel.TEXT, Consent.Channel.EMAIL):
            consent = consent_request_send(
                actor=user, resident=resident, organization=organization, channel=channel, part2=terms
            ).consent
        else:
            consent = consent_record(
                actor=user,
                resident=resident,
                organization=organization,
                channel=channel,
                note=payload.attestation,
                part2=terms,
            )
    except ValidationError as error:
        if "note" in error.message_dict:
            error = ValidationError({"attestation": error.message_dict["note"]})
        return _invalid(error)
    except PermissionDenied:
        raise HttpError(403, _("You may not do this with residents' data.")) from None
    consent = Consent.objects.select_related("organization").prefetch_related("events").get(pk=consent.pk)
    return Status(201, _out(consent))


@router.get(
    "/{resident_id}/consents",
    response={200: list[ConsentOut], 403: ErrorOut, 404: ErrorOut},
    summary="A resident's consents and their history",
    url_name="resident-consents",
)
def consent_list(request: HttpRequest, resident_id: UUID) -> Any:
    user = api_resident_data_user(request)
    resident = _resident(request, resident_id, Action.CONSENTS)
    return audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: [_out(consent) for consent in _visible_consents(user, resident)],
        detail="consents (API)",
    )


def _consent(request: HttpRequest, resident: Resident, consent_id: UUID) -> Consent:
    user = api_resident_data_user(request)
    consent = _visible_consents(user, resident).filter(pk=consent_id).first()
    if consent is None:
        audited_denial(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(resident.pk),
            detail="API: consent",
        )
        raise HttpError(404, _("There is no consent with this id."))
    return consent


@router.post(
    "/{resident_id}/consents/{consent_id}/revoke",
    response={200: ConsentOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Revoke a consent (the resident, or the organization recording the resident's wish)",
    url_name="resident-consent-revoke",
)
def consent_revoke_endpoint(
    request: HttpRequest, resident_id: UUID, consent_id: UUID, payload: RevokeIn
) -> Any:
    user = api_resident_data_user(request)
    resident = _resident(request, resident_id, Action.CONSENTS)
    consent = _consent(request, resident, consent_id)
    try:
        consent_revoke(actor=user, consent_id=consent.pk, note=payload.note)
    except ValidationError as error:
        return _invalid(error)
    except PermissionDenied:
        raise HttpError(403, _("You may not do this with residents' data.")) from None
    return _out(Consent.objects.select_related("organization").prefetch_related("events").get(pk=consent.pk))


@router.get(
    "/{resident_id}/consents/{consent_id}/fhir",
    response={200: dict[str, Any], 403: ErrorOut, 404: ErrorOut},
    summary="A consent as a FHIR R4B Consent (SDOHCC-Consent)",
    url_name="resident-consent-fhir",
    openapi_extra={"responses": {"200": {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}}},
)
def consent_fhir(request: HttpRequest, resident_id: UUID, consent_id: UUID) -> Any:
    user = api_resident_data_user(request)
    resident = _resident(request, resident_id, Action.CONSENTS)
    consent = _consent(request, resident, consent_id)
    resource = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: consent_resource(
            consent,
            patient=Reference(reference=f"Patient/{resident.pk}"),
            recipient=Reference(
                reference=f"Organization/{consent.organization.pk}", display=consent.organization.name
            ),
        ),
        detail=f"consent {consent.pk} (FHIR, API)",
    )
    return HttpResponse(resource.model_dump_json(), content_type=FHIR_JSON)
