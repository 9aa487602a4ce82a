"""The Referral API's shapes (what it reads and answers, as its OpenAPI document declares them) and how a
referral becomes an answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict

from kynect.accounts.models import User
from kynect.core.sdoh import SdohDomain
from kynect.referrals.models import NOTE_MAX_LENGTH, ClosureReason, Referral
from kynect.referrals.services import referral_allowed_actions
from kynect.residents.part2 import REDISCLOSURE_STATEMENT

NeedCode = Literal[
    "adult_education",
    "community_involvement",
    "food",
    "housing",
    "life_skills",
    "mental_health",
    "mobility",
    "disabilities",
    "employment",
    "health_care_coverage",
    "income",
    "legal",
    "childcare",
    "childrens_education",
    "parenting_skills",
    "safety",
    "substance_abuse",
    "family_social_relations",
]
TaskStatus = Literal[
    "requested",
    "accepted",
    "in-progress",
    "on-hold",
    "completed",
    "failed",
    "rejected",
    "cancelled",
    "entered-in-error",
]
BoxName = Literal["new", "in_progress", "closed"]
ActionName = Literal["accept", "start", "hold", "resume", "reject", "cancel", "close", "reopen"]

assert list(NeedCode.__args__) == SdohDomain.values  # type: ignore[attr-defined]
assert list(TaskStatus.__args__) == Referral.Status.values  # type: ignore[attr-defined]
assert list(BoxName.__args__) == Referral.Box.values  # type: ignore[attr-defined]


# --- shapes ------------------------------------------------------------------------------------------


class _Input(Schema):
    model_config = ConfigDict(extra="forbid")


class CodeOut(Schema):
    code: str
    label: str


class ResidentIn(_Input):
    first_name: str = Field(..., max_length=100, examples=["Ana"])
    last_name: str = Field(..., max_length=100, examples=["Reyes"])
    birth_date: date = Field(..., examples=["1990-05-17"])
    mobile_phone: str = Field("", max_length=30, description="A U.S. mobile number, any common format.")
    email: str = Field("", max_length=254)
    preferred_language: Literal["en", "es"] = "en"
    postal_code: str = Field("", max_length=10, description="A ZIP code.")


class ReferralIn(_Input):
    service_id: UUID = Field(..., description="The HSDS id of the service (GET /api/hsds/services).")
    resident: ResidentIn | None = Field(
        None,
        description="A resident to find (by the duplicate check) or make. Give this or `resident_id`.",
    )
    resident_id: UUID | None = Field(
        None, description="A resident your organization already referred, received or has consent for."
    )
    need: NeedCode = Field(..., description="One of GET /api/referrals/needs.")
    note: str = Field("", max_length=NOTE_MAX_LENGTH)
    urgency: Literal["routine", "urgent"] = "routine"
    pre_consent: bool = Field(
        False, description="The resident agreed that the receiving organization may see their profile."
    )
    sending_organization_id: UUID | None = Field(
        None, description="Which of your organizations refers (default: the first by name)."
    )


class ActionIn(_Input):
    action: ActionName
    reason: str = Field(
        "",
        max_length=500,
        description="`hold`, `reject` and `reopen`: why (required); `cancel`: why (optional); `close` with "
        "`resource_provided` false: a code of GET /api/referrals/closure-reasons (required).",
    )
    experience: Literal["up", "down"] | None = Field(None, description="`close` only: thumbs up or down.")
    resource_provided: bool | None = Field(None, description="`close` only: was the resource provided?")
    seen_status: TaskStatus | None = Field(
        None,
        description="The status you last saw: if the referral has moved on since, 409 and nothing is done.",
    )


class OrganizationOut(Schema):
    id: UUID | None = Field(..., description="The platform organization; null when not on kynect.")
    name: str
    directory_id: UUID | None = Field(..., description="Its HSDS organization id, if listed.")


class EventOut(Schema):
    transition: str
    from_status: str
    to_status: str
    at: datetime
    organization: str | None
    detail: str


class ReferralSummaryOut(Schema):
    id: UUID
    status: TaskStatus = Field(..., description="FHIR Task status.")
    status_label: str
    box: BoxName
    resident_id: UUID
    service_id: UUID
    service_name: str
    need: NeedCode
    need_label: str
    urgency: Literal["routine", "urgent"]
    receiving_organization: OrganizationOut
    sending_organization: OrganizationOut | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    part2: bool = Field(
        ...,
        description="Holds 42 CFR Part 2 data (a Substance Abuse need, or a substance use treatment "
        "service): `redisclosure_notice` then says what the recipient may not do with it.",
    )
    redisclosure_notice: str | None = Field(None, description="The 42 CFR §2.32 notice, when `part2`.")


class ReferralOut(ReferralSummaryOut):
    note: str
    status_reason: str
    experience: Literal["up", "down", ""]
    resource_provided: bool | None
    reason: str = Field(..., description="The closure reason code, or empty.")
    reason_label: str
    allowed_actions: list[ActionName] = Field(..., description="What you may do now.")
    timeline: list[EventOut]


class CreatedOut(ReferralOut):
    resident_matched: bool = Field(..., description="The resident already had a record.")
    receiver_not_onboarded: bool = Field(
        ..., description="The receiving organization has not completed onboarding: a specialist follows up."
    )


class PageOut(Schema):
    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[ReferralSummaryOut]


class ErrorOut(Schema):
    detail: str


class ChangedOut(Schema):
    detail: str
    status: TaskStatus = Field(..., description="The referral's status now.")


class FieldError(Schema):
    loc: list[str]
    msg: str


class InvalidOut(Schema):
    detail: list[FieldError]


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidOut}

# --- mapping -----------------------------------------------------------------------------------------


def _receiving(referral: Referral) -> dict[str, Any]:
    organization = referral.receiving_organization
    return {
        "id": organization.pk if organization else None,
        "name": organization.name if organization else referral.receiving_listing.name,
        "directory_id": referral.receiving_listing_id,
    }


def _sending(referral: Referral) -> dict[str, Any] | None:
    organization = referral.sending_organization
    if organization is None:
        return None
    return {
        "id": organization.pk,
        "name": organization.name,
        "directory_id": organization.hsds_organization_id,
    }


def summary_out(referral: Referral) -> dict[str, Any]:
    return {
        "id": referral.pk,
        "status": referral.status,
        "status_label": str(referral.get_status_display()),
        "box": referral.box,
        "resident_id": referral.resident_id,
        "service_id": referral.service_id,
        "service_name": referral.service.name,
        "need": referral.need,
        "need_label": str(referral.get_need_display()),
        "urgency": referral.urgency,
        "receiving_organization": _receiving(referral),
        "sending_organization": _sending(referral),
        "created_at": referral.created_at,
        "updated_at": referral.updated_at,
        "closed_at": referral.closed_at,
        "part2": referral.part2,
        "redisclosure_notice": str(REDISCLOSURE_STATEMENT) if referral.part2 else None,
    }


def detail_out(referral: Referral, *, user: User) -> dict[str, Any]:
    reason = referral.not_provided_reason
    return {
        **summary_out(referral),
        "note": referral.note,
        "status_reason": referral.status_reason,
        "experience": referral.experience,
        "resource_provided": referral.resource_provided,
        "reason": reason,
        "reason_label": str(ClosureReason(reason).label) if reason else "",
        "allowed_actions": [str(action) for action in referral_allowed_actions(user=user, referral=referral)],
        "timeline": [
            {
                "transition": event.transition,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "at": event.at,
                "organization": event.organization.name if event.organization else None,
                "detail": event.detail_display(),
            }
            for event in referral.events.all()
        ],
    }
