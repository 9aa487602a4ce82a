"""The Referral API (/api/referrals): user tokens, every endpoint's answers (201, 200, 401, 403, 404, 409,
422), labels in the request's language, pagination, the AccessEvent of every read, and the OpenAPI
document."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from config.api import api
from kynect.accounts.models import ApiScope, Role, User
from kynect.accounts.services import training_attest
from kynect.accounts.tests.factories import UserFactory
from kynect.accounts.tokens import api_token_create
from kynect.core.models import AccessEvent
from kynect.core.sdoh import SdohDomain
from kynect.referrals.access import Action
from kynect.referrals.models import ClosureReason, Referral, ReferralEvent
from kynect.referrals.services import referral_act
from kynect.referrals.tests.factories import Partner, member, partner, referral, resident_input
from kynect.residents.models import Resident

pytestmark = pytest.mark.django_db

URL = "/api/referrals"
RESIDENT = {
    "first_name": "Ana",
    "last_name": "Reyes",
    "birth_date": "1990-05-17",
    "mobile_phone": "(502) 555-0199",
    "email": "ana@example.org",
    "preferred_language": "es",
    "postal_code": "40601",
}


def token(user: User) -> str:
    return api_token_create(user=user)[1]


class Api:
    """A client that calls as one user, with their API token."""

    def __init__(self, user: User | None = None, *, raw: str | None = None) -> None:
        secret = raw if raw is not None else token(user) if user is not None else None
        self.headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
        self.client = Client()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(f"{URL}{path}", headers={**self.headers, **(headers or {})})

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"{URL}{path}", data=json.dumps(body), content_type="application/json", headers=self.headers
        )


@pytest.fixture
def sides() -> tuple[Partner, Partner]:
    return partner(), partner()


def body(receiver: Partner, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_id": str(receiver.service.pk),
        "resident": dict(RESIDENT),
        "need": "food",
        "note": "Needs groceries this week.",
        "urgency": "urgent",
        "pre_consent": False,
    }
    values.update(fields)
    return values


def messages(response: Any) -> dict[str, str]:
    return {"/".join(error["loc"][2:]): error["msg"] for error in response.json()["detail"]}


# --- the document and the tokens ---------------------------------------------------------------------


def test_the_openapi_document_has_every_referral_endpoint():
    document = Client().get("/api/openapi.json").json()
    paths = document["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[f"{URL}/closure-reasons"]) == {"get"}
    assert set(paths[f"{URL}/needs"]) == {"get"}
    assert set(paths[URL + "/{referral_id}"]) == {"get"}
    assert set(paths[URL + "/{referral_id}/actions"]) == {"post"}
    assert set(paths[URL + "/{referral_id}/fhir"]) == {"get"}
    assert {"201", "403", "422"} <= set(paths[URL]["post"]["responses"])
    assert {"200", "404", "409", "422"} <= set(paths[URL + "/{referral_id}/actions"]["post"]["responses"])
    assert "application/fhir+json" in paths[URL + "/{referral_id}/fhir"]["get"]["responses"]["200"]["content"]
    assert paths[URL]["post"]["security"] == [{"BearerAuth": []}, {"ApiKeyAuth": []}]


def test_no_token_is_401_and_a_client_token_is_403():
    assert Api().get("/needs").status_code == 401
    assert Api(raw="kyt_nonsense_token").get("/needs").status_code == 401
    client_token = api_token_create(client="A directory mirror", scopes=[ApiScope.HSDS_READ])[1]
    refused = Api(raw=client_token).get("/needs")
    assert refused.status_code == 403
    assert "user's API token" in refused.json()["detail"]
    nobody = Api(UserFactory.create()).get("/needs")  # signed up, no role: no referral page either
    assert nobody.status_code == 403


# --- codes, in the request's language ----------------------------------------------------------------


def test_closure_reasons_and_needs_in_english_and_spanish(sides):
    api = Api(sides[0].user)
    reasons = api.get("/closure-reasons").json()
    assert len(reasons) == 16
    assert reasons[0] == {"code": "eligibility", "label": "Didn't meet eligibility criteria"}
    assert [reason["code"] for reason in reasons] == ClosureReason.values
    needs = api.get("/needs").json()
    assert len(needs) == 18
    assert [need["code"] for need in needs] == SdohDomain.values
    assert needs[2] == {"code": "food", "label": "Food"}

    by_header = api.get("/needs", {"Accept-Language": "es"}).json()
    by_query = api.get("/needs?lang=es", {"Accept-Language": "en"}).json()
    assert by_header == by_query
    assert by_query[2] == {"code": "food", "label": "Alimentos"}
    spanish_reasons = api.get("/closure-reasons?lang=es").json()
    assert spanish_reasons[0]["label"] == "No cumplió los requisitos de elegibilidad"


# --- making a referral -------------------------------------------------------------------------------


def test_a_partner_refers_a_resident_and_gets_201_with_the_referral(sides):
    sender, receiver = sides
    response = Api(sender.user).post("", body(receiver))
    assert response.status_code == 201, response.content
    made = response.json()
    referral_row = Referral.objects.get()
    assert made["id"] == str(referral_row.pk)
    assert made["status"] == "requested"
    assert made["box"] == "new"
    assert made["resident_id"] == str(Resident.objects.get().pk)
    assert made["need"] == "food"
    assert made["urgency"] == "urgent"
    assert made["receiving_organization"] == {
        "id": str(receiver.organization.pk),
        "name": receiver.organization.name,
        "directory_id": str(receiver.service.organization_id),
    }
    assert made["sending_organization"]["id"] == str(sender.organization.pk)
    assert made["created_at"]
    assert [event["transition"] for event in made["timeline"]] == ["create"]
    assert made["timeline"][0]["organization"] == sender.organization.name
    assert made["resident_matched"] is False
    assert made["receiver_not_onboarded"] is False
    assert made["allowed_actions"] == ["cancel"]


def test_an_existing_resident_is_referred_by_id(sides):
    sender, receiver = sides
    first = referral(sender, receiver)
    response = Api(sender.user).post(
        "", body(receiver, resident=None, resident_id=str(first.resident_id), need="housing")
    )
    assert response.status_code == 201, response.content
    assert response.json()["resident_id"] == str(first.resident_id)
    assert Resident.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service_id": "00000000-0000-4000-8000-000000000000"}, "service_id"),
        ({"resident": {**RESIDENT, "birth_date": "2999-01-01"}}, "resident/birth_date"),
        ({"resident": {**RESIDENT, "birth_date": "1990-02-30"}}, "resident/birth_date"),
        ({"note": "x" * 1_000_000}, "note"),
        ({"need": "unicorns"}, "need"),
        ({"resident": None}, "resident"),
        ({"resident": {**RESIDENT, "mobile_phone": "", "email": ""}}, "resident/mobile_phone"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_422_with_field_messages_and_nothing_saved(sides, fields, field):
    sender, receiver = sides
    response = Api(sender.user).post("", body(receiver, **fields))
    assert response.status_code == 422, response.content
    found = messages(response)
    assert field in found, found
    assert found[field]
    assert not Referral.objects.exists()
    assert not Resident.objects.exists()


def test_a_role_that_does_not_refer_gets_403(sides):
    specialist = member(None, Role.REFERRAL_SPECIALIST)
    response = Api(specialist).post("", body(sides[1]))
    assert response.status_code == 403
    assert not Referral.objects.exists()


# --- reading -----------------------------------------------------------------------------------------


def test_inbox_and_outbox_a_page_at_a_time_with_a_status_filter(sides):
    sender, receiver = sides
    made = [referral(sender, receiver) for _ in range(3)]
    referral_act(actor=receiver.user, referral_id=made[0].pk, action=Action.ACCEPT)
    inbox = Api(receiver.user)
    first = inbox.get("?box=inbox&per_page=2").json()
    assert first["total_items"] == 3
    assert first["total_pages"] == 2
    assert first["size"] == 2
    assert first["first_page"]
    assert not first["last_page"]
    second = inbox.get("?box=inbox&per_page=2&page=2").json()
    assert second["size"] == 1
    assert second["last_page"]
    listed = [row["id"] for row in first["contents"] + second["contents"]]
    assert listed == [str(r.pk) for r in sorted(made, key=lambda r: (r.created_at, r.pk), reverse=True)]
    assert inbox.get("?box=inbox&page=9").json()["empty"] is True

    assert [row["id"] for row in inbox.get("?status=accepted").json()["contents"]] == [str(made[0].pk)]
    assert inbox.get("?status=new").json()["total_items"] == 2
    assert inbox.get("?status=in_progress").json()["total_items"] == 1
    assert inbox.get("?box=outbox").json()["total_items"] == 0
    outbox = Api(sender.user).get("?box=outbox").json()
    assert outbox["total_items"] == 3
    assert outbox["contents"][0]["status_label"] == "New"
    assert Api(sender.user).get("?box=outbox&lang=es").json()["contents"][0]["status_label"] == "Nueva"

    assert Api(receiver.user).get("?status=nonsense").status_code == 422
    assert Api(receiver.user).get("?per_page=101").status_code == 422


def test_a_page_costs_the_same_queries_however_many_referrals_it_lists(sides, django_assert_num_queries):
    sender, receiver = sides
    referral(sender, receiver)
    api = Api(receiver.user)
    api.get("")  # the token's first use of the minute writes last_used_at; later calls do not
    with django_assert_num_queries(9) as one:
        assert api.get("").json()["size"] == 1
    for _ in range(4):
        referral(sender, receiver)
    with django_assert_num_queries(len(one.captured_queries)):
        assert api.get("").json()["size"] == 5


def test_a_list_is_an_audited_read(sides):
    sender, receiver = sides
    referral(sender, receiver)
    Api(receiver.user).get("?box=inbox")
    event = AccessEvent.objects.get(subject_type="referrals.box")
    assert event.actor == receiver.user
    assert event.subject_id == str(receiver.organization.pk)
    assert event.detail == "inbox page 1: 1 referrals (API)"


def test_people_without_an_organization_box_get_403(sides):
    specialist = member(None, Role.REFERRAL_SPECIALIST)
    assert Api(specialist).get("").status_code == 403
    assert Api(sides[0].user).get(f"?organization_id={sides[1].organization.pk}").status_code == 403


def test_both_sides_see_a_referral_and_others_get_404_as_if_it_did_not_exist(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    for user in (sender.user, receiver.user, receiver.admin):
        response = Api(user).get(f"/{made.pk}")
        assert response.status_code == 200
        assert response.json()["id"] == str(made.pk)
        assert response.json()["note"] == "Needs groceries this week."
    outsider = partner().user
    hidden = Api(outsider).get(f"/{made.pk}")
    unknown = Api(outsider).get(f"/{uuid.uuid4()}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()
    assert Api(outsider).get(f"/{made.pk}/fhir").status_code == 404
    assert Api(outsider).post(f"/{made.pk}/actions", {"action": "accept"}).status_code == 404


def test_a_read_of_a_referral_writes_an_access_event(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    Api(receiver.user).get(f"/{made.pk}", {"User-Agent": "partner-crm/1.0"})
    event = AccessEvent.objects.get(subject_type="resident")
    assert event.actor == receiver.user
    assert event.subject_id == str(made.resident_id)
    assert event.detail == f"referral {made.pk} (viewed, API)"
    assert event.path == f"{URL}/{made.pk}"
    assert event.user_agent == "partner-crm/1.0"
    Api(receiver.user).get(f"/{made.pk}/fhir")
    assert AccessEvent.objects.filter(
        subject_type="resident", detail=f"referral {made.pk} (FHIR, API)", actor=receiver.user
    ).exists()
    Api(partner().user).get(f"/{made.pk}")  # refused: not a read
    assert AccessEvent.objects.filter(subject_type="resident").count() == 2


# --- acting ------------------------------------------------------------------------------------------


def test_the_receiver_accepts_starts_and_closes_with_the_overviews_form(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    api = Api(receiver.user)
    accepted = api.post(f"/{made.pk}/actions", {"action": "accept"})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert AccessEvent.objects.filter(
        subject_type="resident", subject_id=str(made.resident_id), detail=f"referral {made.pk} (accept, API)"
    ).exists()
    assert api.post(f"/{made.pk}/actions", {"action": "start"}).json()["status"] == "in-progress"
    closed = api.post(
        f"/{made.pk}/actions",
        {"action": "close", "experience": "down", "resource_provided": False, "reason": "unreachable"},
    )
    assert closed.status_code == 200, closed.content
    shown = closed.json()
    assert shown["status"] == "failed"
    assert shown["box"] == "closed"
    assert shown["reason"] == "unreachable"
    assert shown["reason_label"] == "Unable to reach client"
    assert shown["resource_provided"] is False
    assert shown["experience"] == "down"
    assert [event["transition"] for event in shown["timeline"]] == ["create", "accept", "start", "fail"]
    assert shown["allowed_actions"] == ["reopen"]  # a closing made in error


def test_a_closed_referral_read_in_spanish(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    Api(receiver.user).post(
        f"/{made.pk}/actions",
        {"action": "close", "experience": "up", "resource_provided": False, "reason": "too_far"},
    )
    shown = Api(sender.user).get(f"/{made.pk}?lang=es").json()
    assert shown["reason"] == "too_far"
    assert shown["reason_label"] != "No, the organization was too far away"
    assert shown["need_label"] != "Food"


def test_an_action_the_state_does_not_allow_is_409_with_a_message(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    api = Api(receiver.user)
    api.post(f"/{made.pk}/actions", {"action": "accept"})
    again = api.post(f"/{made.pk}/actions", {"action": "accept"})
    assert again.status_code == 409
    assert "cannot be changed that way" in again.json()["detail"]
    assert ReferralEvent.objects.filter(referral=made, transition="accept").count() == 1


def test_acting_on_a_status_seen_before_someone_else_acted_is_409_this_referral_changed(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    Api(receiver.admin).post(f"/{made.pk}/actions", {"action": "accept", "seen_status": "requested"})
    late = Api(receiver.user).post(
        f"/{made.pk}/actions", {"action": "reject", "reason": "Full", "seen_status": "requested"}
    )
    assert late.status_code == 409
    assert late.json() == {
        "detail": "This referral changed while you were looking at it. Here it is as it is now.",
        "status": "accepted",
    }
    made.refresh_from_db()
    assert made.status == Referral.Status.ACCEPTED


def test_the_wrong_side_gets_403(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    assert Api(sender.user).post(f"/{made.pk}/actions", {"action": "accept"}).status_code == 403
    assert Api(receiver.user).post(f"/{made.pk}/actions", {"action": "cancel"}).status_code == 403
    cancelled = Api(sender.user).post(f"/{made.pk}/actions", {"action": "cancel", "reason": "Moved away"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status_reason"] == "Moved away"


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"action": "explode"}, "action"),
        ({}, "action"),
        ({"action": "hold"}, "reason"),
        ({"action": "reject", "reason": "  "}, "reason"),
        ({"action": "close", "experience": "up", "resource_provided": False}, "reason"),
        ({"action": "close", "experience": "up", "resource_provided": False, "reason": "bored"}, "reason"),
        ({"action": "close", "experience": "up", "resource_provided": True, "reason": "other"}, "reason"),
        ({"action": "close", "resource_provided": True}, "experience"),
        ({"action": "close", "experience": "up"}, "resource_provided"),
        ({"action": "close", "experience": "sideways", "resource_provided": True}, "experience"),
        ({"action": "accept", "experience": "up"}, "experience"),
        ({"action": "accept", "colour": "blue"}, "colour"),
    ],
)
def test_missing_or_unknown_fields_are_422_and_change_nothing(sides, action, field):
    sender, receiver = sides
    made = referral(sender, receiver)
    response = Api(receiver.user).post(f"/{made.pk}/actions", action)
    assert response.status_code == 422, response.content
    assert field in messages(response), response.json()
    made.refresh_from_db()
    assert made.status == Referral.Status.REQUESTED
    assert list(ReferralEvent.objects.filter(referral=made).values_list("transition", flat=True)) == [
        "create"
    ]


def test_fhir_bundle_is_served_as_fhir_json(sides):
    sender, receiver = sides
    made = referral(sender, receiver)
    response = Api(receiver.user).get(f"/{made.pk}/fhir")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["Task", "ServiceRequest", "Patient", "Organization", "Organization"]
    assert bundle["entry"][0]["resource"]["id"] == str(made.pk)


def test_every_answer_is_the_shape_the_openapi_document_declares(sides):
    """Each endpoint's answers, success and error, validated against the schema our document declares
    for that status."""
    document = json.loads(json.dumps(api.get_openapi_schema()))
    sender, receiver = sides
    outsider = partner().user
    made = referral(sender, receiver)
    calls: list[tuple[str, str, Any]] = []

    def check(method: str, template: str, response: Any) -> None:
        calls.append((method, template, response.status_code))
        declared = document["paths"][template][method]["responses"].get(str(response.status_code))
        assert declared is not None, f"{method} {template}: {response.status_code} is not documented"
        [(content_type, content)] = declared["content"].items()
        assert response["Content-Type"].startswith(content_type)
        validator = Draft202012Validator(
            {**content["schema"], "components": document["components"]}, format_checker=FormatChecker()
        )
        errors = [error.message for error in validator.iter_errors(response.json())]
        assert not errors, (method, template, response.status_code, errors)

    one = URL + "/{referral_id}"
    acts = one + "/actions"
    check("get", f"{URL}/needs", Api(sender.user).get("/needs"))
    check("get", f"{URL}/needs", Api().get("/needs"))
    check("get", f"{URL}/closure-reasons", Api(sender.user).get("/closure-reasons?lang=es"))
    check("post", URL, Api(sender.user).post("", body(receiver)))
    check("post", URL, Api(sender.user).post("", body(receiver, need="unicorns")))
    check("post", URL, Api(member(None, Role.REFERRAL_SPECIALIST)).post("", body(receiver)))
    check("get", URL, Api(receiver.user).get("?per_page=1"))
    check("get", URL, Api(receiver.user).get("?per_page=0"))
    check("get", one, Api(receiver.user).get(f"/{made.pk}"))
    check("get", one, Api(outsider).get(f"/{made.pk}"))
    check("get", one, Api(outsider).get("/not-a-uuid"))
    check("post", acts, Api(receiver.user).post(f"/{made.pk}/actions", {"action": "accept"}))
    check("post", acts, Api(receiver.user).post(f"/{made.pk}/actions", {"action": "accept"}))
    check(
        "post",
        acts,
        Api(receiver.user).post(f"/{made.pk}/actions", {"action": "start", "seen_status": "requested"}),
    )
    check("post", acts, Api(sender.user).post(f"/{made.pk}/actions", {"action": "start"}))
    check("post", acts, Api(receiver.user).post(f"/{made.pk}/actions", {"action": "explode"}))
    check("get", one + "/fhir", Api(receiver.user).get(f"/{made.pk}/fhir"))
    check("get", one + "/fhir", Api(outsider).get(f"/{made.pk}/fhir"))
    statuses = {(method, template, status) for method, template, status in calls}
    assert ("post", acts, 409) in statuses
    assert ("post", acts, 403) in statuses
    assert ("post", URL, 201) in statuses


def test_a_member_who_has_not_attested_the_training_gets_403(sides):
    _sender, receiver = sides
    untrained = member(receiver.organization, Role.PARTNER_USER, trained=False)
    response = Api(untrained).get("")
    assert response.status_code == 403
    assert "training" in response.json()["detail"]
    training_attest(user=untrained)
    assert Api(untrained).get("").status_code == 200


def test_the_sender_of_a_matched_resident_gets_what_they_typed_in_the_fhir_patient(sides):
    sender, receiver = sides
    other = partner()
    private = resident_input(email="private@example.org", mobile_phone="(502) 555-0111")
    referral(other, receiver, resident=private)
    made = Api(sender.user).post(
        "",
        {
            "service_id": str(receiver.service.pk),
            "resident": {
                "first_name": "Ana",
                "last_name": "Reyes",
                "birth_date": "1990-05-17",
                "email": "typed@example.org",
            },
            "need": "food",
        },
    )
    assert made.status_code == 201, made.content
    assert made.json()["resident_matched"] is True
    referral_id = made.json()["id"]
    sent = json.dumps(Api(sender.user).get(f"/{referral_id}/fhir").json())
    assert "typed@example.org" in sent
    assert "private@example.org" not in sent
    assert "5550111" not in sent
    received = json.dumps(Api(receiver.user).get(f"/{referral_id}/fhir").json())
    assert "private@example.org" in received
