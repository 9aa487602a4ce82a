"""POST /api/ondemand/help-requests: API tokens (Bearer and X-API-Key), every answer checked against the
schema our OpenAPI document declares for its status, the documented examples, and the rules shared with
the web form."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from config.api import api
from kynect.accounts.models import ApiScope, ApiToken
from kynect.accounts.tests.factories import UserFactory
from kynect.accounts.tokens import api_token_create, api_token_revoke
from kynect.core.tests.digits import ARABIC_INDIC, written_in
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import HelpRequest
from kynect.ondemand.tests.conftest import sending

pytestmark = pytest.mark.django_db

URL = "/api/ondemand/help-requests"
OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 Eastern
CLOSED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Tuesday 21:00 Eastern
BODY = {
    "name": "Maria Lopez",
    "phone": "(502) 555-0123",
    "contact_method": "text",
    "language": "es",
    "message_language": "es",
    "zip_code": "40601",
    "program": "not_sure",
    "consent": True,
}


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_API_KEY = 2


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # As served: through JSON, so status codes are strings.
    return json.loads(json.dumps(api.get_openapi_schema()))


INTAKE = [ApiScope.ONDEMAND_INTAKE]
INVALID = {"detail": "The API token is not valid or has been revoked."}


@pytest.fixture
def key() -> str:
    return api_token_create(client="Call centre", scopes=INTAKE)[1]


def call(key: str | None, body: Any = None, at: datetime = OPEN, header: str = "Authorization"):
    """POST with `key` as a Bearer token, or in the `X-API-Key` header."""
    headers = {}
    if key is not None:
        headers = {header: f"Bearer {key}" if header == "Authorization" else key}
    with time_machine.travel(at, tick=False), sending():
        return Client().post(
            URL, data=BODY if body is None else body, content_type="application/json", headers=headers
        )


def assert_documented(document: dict[str, Any], response: Any) -> None:
    """The answer's status is declared for the operation and its body matches the declared schema."""
    operation = document["paths"][URL]["post"]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, f"{response.status_code} is not documented"
    schema = declared["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {**schema, "components": document["components"]}, format_checker=FormatChecker()
    )
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert not errors, errors


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_a_request_is_created(document, key, header):
    response = call(key, header=header)
    assert response.status_code == 201
    assert_documented(document, response)
    body = response.json()
    request = HelpRequest.objects.get()
    assert body == {
        "id": str(request.pk),
        "status": "pending",
        "submitted_at": "2026-11-24T15:00:00Z",
        "call_by": "2026-11-24T15:30:00Z",
        "inside_service_hours": True,
    }
    assert request.source == HelpRequest.Source.API
    assert request.api_key == ApiToken.objects.get()
    assert request.api_key.last_used_at == OPEN
    # The requester, not the caller, gets the secret link: by text message, in Spanish.
    assert f"/es/ondemand/help/{request.pk}/" in LocmemSmsBackend.outbox[-1].body


def test_outside_hours_the_call_by_time_is_after_the_next_opening(document, key):
    response = call(key, at=CLOSED)
    assert response.status_code == 201
    assert response.json()["call_by"] == "2026-11-25T13:30:00Z"
    assert response.json()["inside_service_hours"] is False


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
@pytest.mark.parametrize("value", [None, "", "kod_12345678_nope", "kyt_12345678_nope", "not-a-key"])
def test_a_missing_or_bad_key_is_401(document, header, value):
    response = call(value, header=header)
    assert response.status_code == 401
    assert_documented(document, response)
    # An empty X-API-Key header is no key at all; "Bearer " with nothing after it is a bad token.
    sent = value is not None and (value != "" or header == "Authorization")
    assert response.json() == (INVALID if sent else {"detail": "Unauthorized"})
    assert not HelpRequest.objects.exists()


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_a_revoked_key_is_401(document, key, header):
    api_token_revoke(prefix=ApiToken.objects.get().prefix)
    response = call(key, header=header)
    assert response.status_code == 401
    assert_documented(document, response)
    assert response.json() == INVALID
    assert not HelpRequest.objects.exists()


def test_a_client_token_without_the_intake_scope_is_403(document, key):
    ApiToken.objects.update(scopes=[])
    response = call(key)
    assert response.status_code == 403
    assert_documented(document, response)
    assert response.json() == {"detail": "This API token does not have the ondemand.intake scope."}
    assert not HelpRequest.objects.exists()


def test_a_users_token_submits_as_that_user(document):
    user = UserFactory.create()
    api_token, token = api_token_create(user=user)
    response = call(token)
    assert response.status_code == 201
    assert_documented(document, response)
    request = HelpRequest.objects.get()
    assert request.source == HelpRequest.Source.API
    assert request.api_key == api_token
    assert request.api_key.user == user
    user.is_active = False
    user.save()
    response = call(token, {**BODY, "phone": "5025550111"})
    assert response.status_code == 401
    assert response.json() == INVALID


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"zip_code": "10001"}, "zip_code"),
        ({"phone": "911"}, "phone"),
        ({"consent": False}, "consent"),
        ({"contact_method": "email"}, "email"),
        ({"program": "dental"}, "program"),
        ({"name": ""}, "name"),
        ({"consent": None}, "consent"),
    ],
)
def test_bad_input_is_422_with_field_messages(document, key, changes, field):
    response = call(key, {**BODY, **changes})
    assert response.status_code == 422
    assert_documented(document, response)
    assert any(item["loc"][-1] == field and item["msg"] for item in response.json()["detail"])
    assert not HelpRequest.objects.exists()
    assert not LocmemSmsBackend.outbox


@pytest.mark.parametrize("consent", ["yes", "true", "on", 1, 1.0, [True], {"value": True}])
def test_consent_must_be_the_json_value_true(document, key, consent):
    response = call(key, {**BODY, "consent": consent})
    assert response.status_code == 422
    assert_documented(document, response)
    assert [item["msg"] for item in response.json()["detail"] if item["loc"][-1] == "consent"] == [
        "Must be true (a JSON boolean): the requester agreed to be contacted."
    ]
    assert not HelpRequest.objects.exists()


@pytest.mark.parametrize("name", ["Maria\x1b[31mLopez", "\N{RIGHT-TO-LEFT OVERRIDE}zepoL airaM"])
def test_a_name_with_hidden_characters_is_refused(document, key, name):
    response = call(key, {**BODY, "name": name})
    assert response.status_code == 422
    assert_documented(document, response)
    (item,) = response.json()["detail"]
    assert item["loc"][-1] == "name"
    assert item["msg"].startswith("The name has a hidden control or text-direction character.")
    assert not HelpRequest.objects.exists()


def test_a_body_that_is_not_json_is_refused(key):
    with sending():
        response = Client().post(
            URL, data="{", content_type="application/json", headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code in (400, 422)
    assert not HelpRequest.objects.exists()


def test_a_duplicate_is_409_with_the_existing_id(document, key):
    first = call(key).json()["id"]
    response = call(key, {**BODY, "phone": "502.555.0123"})
    assert response.status_code == 409
    assert_documented(document, response)
    assert response.json()["existing_request_id"] == first
    assert HelpRequest.objects.count() == 1


def test_the_same_number_in_digits_of_another_script_is_a_duplicate(document):
    _trusted, key = api_token_create(client="kynect.ky.gov", scopes=INTAKE, rate_limited=False)
    first = call(key, {**BODY, "phone": "502-555-3005"}).json()["id"]
    for spelling in [
        f"5{ARABIC_INDIC}2-555-3005",
        f"50{written_in(ARABIC_INDIC, '2')}-555-3005",
        f"502-{written_in(ARABIC_INDIC, '5')}55-3005",
    ]:
        response = call(key, {**BODY, "phone": spelling})
        assert response.status_code == 409
        assert response.json()["existing_request_id"] == first
    assert list(HelpRequest.objects.values_list("phone", flat=True)) == ["+15025553005"]


def test_over_the_limit_is_429_unless_the_key_is_exempt(document, key):
    assert call(key, {**BODY, "phone": "5025550101"}).status_code == 201
    assert call(key, {**BODY, "phone": "5025550102"}).status_code == 201
    response = call(key, {**BODY, "phone": "5025550103"})
    assert response.status_code == 429
    assert_documented(document, response)
    assert int(response["Retry-After"]) > 0
    _trusted, trusted_key = api_token_create(client="kynect.ky.gov", scopes=INTAKE, rate_limited=False)
    for n in range(3):
        assert call(trusted_key, {**BODY, "phone": f"50255502{n:02d}"}).status_code == 201


def test_the_operation_is_documented_with_schemas_examples_and_security(document):
    operation = document["paths"][URL]["post"]
    assert set(operation["responses"]) == {"201", "401", "403", "409", "422", "429"}
    assert operation["requestBody"]["content"]["application/json"]["example"]["zip_code"] == "40601"
    assert operation["security"] == [{"BearerAuth": []}, {"ApiKeyAuth": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["ApiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    request_schema = document["components"]["schemas"]["HelpRequestIn"]
    assert set(request_schema["properties"]["program"]["enum"]) == {"qhp", "medicaid_kchip", "not_sure"}
    # The documented example is itself a valid request.
    validator = Draft202012Validator({**request_schema, "components": document["components"]})
    assert not list(validator.iter_errors(operation["requestBody"]["content"]["application/json"]["example"]))


def test_the_token_command_prints_the_token_once_and_revokes(capsys):
    call_command(
        "api_token", "create", "--client", "Call centre", "--scope", "ondemand.intake", "--no-rate-limit"
    )
    printed = capsys.readouterr().out
    api_token = ApiToken.objects.get()
    key = printed.strip().splitlines()[-1]
    assert key.startswith(f"kyt_{api_token.prefix}_")
    assert key not in api_token.token_hash
    assert api_token.rate_limited is False
    assert call(key).status_code == 201
    call_command("api_token", "list")
    listed = capsys.readouterr().out
    assert api_token.prefix in listed
    assert key not in listed
    call_command("api_token", "revoke", api_token.prefix)
    assert call(key, {**BODY, "phone": "5025550111"}).status_code == 401
