"""The kynect On Demand help-request API, mounted at /api/ondemand/: for the main kynect site and call
centres, with an API token (`Authorization: Bearer`, or the `X-API-Key` header) of a client with the
`ondemand.intake` scope, or of a user. Thin: `help_request_submit` holds the rules.

See docs/reference/endpoints.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema, Status
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from kynect.accounts.api_auth import token_auth
from kynect.accounts.models import ApiScope
from kynect.ondemand.models import HelpRequest, Language, RequestedProgram
from kynect.ondemand.services.help_requests import (
    DuplicateHelpRequestError,
    HelpRequestLimitError,
    help_request_submit,
)

router = Router(tags=["kynect On Demand"], auth=token_auth(scope=ApiScope.ONDEMAND_INTAKE))

ContactMethod = Literal["phone", "text", "email"]
ProgramCode = Literal["qhp", "medicaid_kchip", "not_sure"]
LanguageCode = Literal["en", "es", "ar", "zh", "fr", "ne", "so", "sw", "vi", "ase"]

assert set(ContactMethod.__args__) == set(HelpRequest.ContactMethod.values)  # type: ignore[attr-defined]
assert set(ProgramCode.__args__) == set(RequestedProgram.values)  # type: ignore[attr-defined]
assert set(LanguageCode.__args__) == set(Language.values)  # type: ignore[attr-defined]


class HelpRequestIn(Schema):
    name: str = Field(..., min_length=1, max_length=150, examples=["Maria Lopez"])
    phone: str = Field(
        ...,
        max_length=30,
        description="A 10-digit U.S. number, in any common format.",
        examples=["(502) 555-0123"],
    )
    email: str = Field(
        "",
        max_length=254,
        description="Required when contact_method is email.",
        examples=["maria@example.com"],
    )
    contact_method: ContactMethod = Field(
        ...,
        description="How the requester prefers to be contacted. The confirmation goes by email for "
        "`email`, otherwise by text message.",
    )
    language: LanguageCode = Field("en", description="The language the requester wants help in.")
    message_language: Literal["en", "es"] = Field(
        "en", description="The language of the confirmation message and the requester's pages."
    )
    zip_code: str = Field(..., max_length=10, description="A Kentucky ZIP code.", examples=["40601"])
    program: ProgramCode = Field(
        ...,
        description="`qhp`: Qualified Health Plan with payment assistance; `medicaid_kchip`: Medicaid/KCHIP; "
        "`not_sure`.",
    )
    consent: bool = Field(
        ...,
        description="The requester agreed to be contacted (the wording of ONDEMAND_CONSENT_VERSION). "
        'Must be the JSON boolean true; strings and numbers such as "yes" or 1 are refused.',
    )

    @field_validator("consent", mode="before")
    @classmethod
    def _consent_is_a_json_boolean(cls, value: object) -> object:
        # Pydantic would read "yes", "on" or 1 as true: a record of consent must not rest on a guess.
        if not isinstance(value, bool):
            raise PydanticCustomError(
                "bool_type", "Must be true (a JSON boolean): the requester agreed to be contacted."
            )
        return value


class HelpRequestOut(Schema):
    id: UUID
    status: Literal["pending"]
    submitted_at: datetime
    call_by: datetime = Field(..., description="When the requester should expect a call (UTC).")
    inside_service_hours: bool = Field(
        ...,
        description="False when made outside service hours: its clock starts at the next opening.",
    )


class ErrorOut(Schema):
    detail: str


class DuplicateOut(Schema):
    detail: str
    existing_request_id: UUID


class FieldError(Schema):
    loc: list[str]
    msg: str


class InvalidOut(Schema):
    detail: list[FieldError]


EXAMPLE_IN = {
    "name": "Maria Lopez",
    "phone": "(502) 555-0123",
    "email": "",
    "contact_method": "text",
    "language": "es",
    "message_language": "es",
    "zip_code": "40601",
    "program": "not_sure",
    "consent": True,
}


@router.post(
    "/help-requests",
    url_name="ondemand-help-requests",
    summary="Submit a resident's request for a call back",
    description=(
        "Records the request, sends the requester a confirmation with their secret status and cancel "
        "links by their preferred channel, and routes it to helpers. The requester is called back within "
        "30 minutes, or within 30 minutes of the next opening of service hours. A phone number with an "
        "open request gets 409 with that request's id. Requests per token are limited (429 with "
        "Retry-After) unless the token is exempt. A client token needs the `ondemand.intake` scope "
        "(403 without it); a user's token acts as its user."
    ),
    response={
        201: HelpRequestOut,
        401: ErrorOut,
        403: ErrorOut,
        409: DuplicateOut,
        422: InvalidOut,
        429: ErrorOut,
    },
    openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE_IN}}}},
)
def help_request_create(request: HttpRequest, payload: HelpRequestIn) -> Any:
    api_token = request.auth  # type: ignore[attr-defined]
    try:
        submitted = help_request_submit(**payload.dict(), api_key=api_token)
    except ValidationError as error:
        detail = [
            {"loc": ["body", "payload", field], "msg": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
        return Status(422, {"detail": detail})
    except HelpRequestLimitError as limit:
        response = JsonResponse(
            {"detail": "Too many help requests from this API key. Try again later."}, status=429
        )
        response["Retry-After"] = str(limit.retry_after_seconds)
        return response
    except DuplicateHelpRequestError as duplicate:
        return Status(
            409,
            {
                "detail": "This phone number already has an open help request.",
                "existing_request_id": duplicate.existing.pk,
            },
        )
    help_request = submitted.help_request
    return Status(
        201,
        {
            "id": help_request.pk,
            "status": help_request.status,
            "submitted_at": help_request.submitted_at,
            "call_by": help_request.sla_due_at,
            "inside_service_hours": help_request.clock_starts_at == help_request.submitted_at,
        },
    )
