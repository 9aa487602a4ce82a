"""The SDOH exchange with KHIE (FHIR R4B, SDOH Clinical Care guide): a resident's assessments exported as a
Bundle; KHIE bundles imported as risk factors with source KHIE, matched by identifier or by name and date
of birth, unmatched patients reported, idempotent, a bad bundle refused whole."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from kynect.accounts.models import Role
from kynect.assessments.models import Assessment, RiskRating
from kynect.assessments.selectors import instrument_by_code
from kynect.assessments.services import assessment_complete, assessment_page_save, assessment_start
from kynect.assessments.services_import import khie_bundle_import
from kynect.core import clock
from kynect.interop.fhir.patient import CLIENT_ID_SYSTEM
from kynect.interop.fhir.sdoh_bundle import assessment_bundle
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.models import Resident
from kynect.residents.services import consent_grant_pre_consent

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).parent / "data" / "khie_sdoh_bundle.json"


def _resident(**fields: Any) -> Resident:
    return referral(partner(), partner(), resident=resident_input(**fields)).resident


def test_observations_shaped_after_the_igs_examples_are_imported_once():
    resident = _resident()  # Ana Reyes, 1990-05-17: the bundle's Patient, by name and date of birth
    summary = khie_bundle_import(data=EXAMPLES.read_bytes())
    assert summary.problems == []
    assert (summary.stored, summary.unchanged, summary.unmatched) == (3, 0, [])
    stored = sorted(
        RiskRating.objects.filter(resident=resident).values_list("external_id", "domain", "rating", "source")
    )
    assert stored == [
        ("khie-obs-hvs-1", "food", "vulnerable", "khie"),
        ("khie-obs-hvs-2", "food", "stable", "khie"),
        ("khie-obs-transport-1", "mobility", "vulnerable", "khie"),
    ]
    again = khie_bundle_import(data=EXAMPLES.read_bytes())
    assert (again.stored, again.unchanged) == (0, 3)
    assert RiskRating.objects.count() == 3


def test_an_unmatched_patient_is_reported_not_guessed():
    _resident(first_name="Ana", last_name="Reyes", birth_date=date(1990, 5, 18))  # not the same day
    out = StringIO()
    call_command("import_khie_bundle", str(EXAMPLES), stdout=out)
    assert "0 ratings stored" in out.getvalue()
    assert "khie-obs-hvs-1: its patient matches no resident" in out.getvalue()
    assert RiskRating.objects.count() == 0


def test_a_bad_bundle_is_refused_whole_with_each_path_and_reason(tmp_path):
    _resident()
    bundle = json.loads(EXAMPLES.read_text())
    del bundle["entry"][1]["resource"]["status"]  # required
    bundle["entry"][3]["resource"]["effectiveDateTime"] = "yesterday"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle))
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was stored"):
        call_command("import_khie_bundle", str(path), stderr=err)
    assert "status" in err.getvalue()
    assert "effectiveDateTime" in err.getvalue()
    assert RiskRating.objects.count() == 0
    path.write_text("{not json")
    with pytest.raises(CommandError):
        call_command("import_khie_bundle", str(path), stderr=StringIO())


def _screened(resident: Resident) -> None:
    hospital = partner()
    provider = member(hospital.organization, Role.PROVIDER_USER)
    consent_grant_pre_consent(
        resident=resident, organization=hospital.organization, actor=provider, now=clock.now()
    )
    instrument = instrument_by_code("ahc-hrsn")
    assert instrument is not None
    assessment = assessment_start(
        actor=provider, resident=resident, instrument=instrument, organization=hospital.organization
    )
    pages = [
        {"71802-3": ["LA31995-6"], "96778-6": ["LA9-3"]},
        {"88122-7": ["LA6729-3"], "88123-5": ["LA28398-8"]},
        {"93030-5": ["LA33-6"], "96779-4": ["LA32-8"]},
        {code: ["LA16644-9"] for code in ("95618-5", "95617-7", "95616-9")} | {"95615-1": ["LA6270-8"]},
        {"96780-2": ["LA31983-2"], "96782-8": ["LA33-6"]},
        {"44250-9": ["LA6570-1"], "44255-8": ["LA6569-3"], "68518-0": ["LA26460-8"]},
    ]
    for number, answers in enumerate(pages):
        assert assessment_page_save(
            assessment=assessment, page=number, revision=assessment.revision, answers=answers
        )
    assert assessment_complete(assessment=assessment, actor=provider)


def _latest(resident: Resident) -> dict[str, str]:
    latest: dict[str, str] = {}
    for domain, rating in (
        RiskRating.objects.filter(resident=resident).order_by("-rated_at").values_list("domain", "rating")
    ):
        latest.setdefault(domain, rating)
    return latest


def test_a_round_trip_export_then_import_for_another_resident_gives_the_same_risk_factors():
    first = _resident(first_name="Lena", last_name="Ortiz", birth_date=date(1982, 2, 2))
    _screened(first)
    second = _resident(first_name="Tom", last_name="Hale", birth_date=date(1975, 7, 7))
    Resident.objects.filter(pk=second.pk).update(client_id="5500112233")
    assessments = list(Assessment.objects.filter(resident=first).select_related("instrument"))
    bundle = json.loads(
        assessment_bundle(resident=first, assessments=assessments, part2=True).model_dump_json()
    )
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds[0] == "Patient"
    assert "QuestionnaireResponse" in kinds
    screening = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Observation"
        and "SDOHCC-ObservationScreeningResponse" in entry["resource"]["meta"]["profile"][0]
    ]
    codes = {observation["code"]["coding"][0]["code"] for observation in screening}
    assert {"71802-3", "88122-7", "95614-4", "55758-7"} <= codes
    safety = next(o for o in screening if o["code"]["coding"][0]["code"] == "95614-4")
    assert safety["valueInteger"] == 13
    substance = next(o for o in screening if o["code"]["coding"][0]["code"] == "68518-0")
    assert {label["code"] for label in substance["meta"]["security"]} == {"42CFRPart2", "NORDSCLCD"}
    # The same bundle, its Patient now the second resident (by client ID).
    bundle["entry"][0]["resource"]["identifier"] = [{"system": CLIENT_ID_SYSTEM, "value": "5500112233"}]
    summary = khie_bundle_import(data=json.dumps(bundle).encode())
    assert summary.problems == []
    assert summary.unmatched == []
    assert _latest(second) == _latest(first)
    assert set(RiskRating.objects.filter(resident=second).values_list("source", flat=True)) == {"khie"}


def test_without_part2_the_export_leaves_substance_use_out():
    resident = _resident(first_name="Lena", last_name="Ortiz", birth_date=date(1982, 2, 2))
    _screened(resident)
    assessments = list(Assessment.objects.filter(resident=resident).select_related("instrument"))
    text = assessment_bundle(resident=resident, assessments=assessments, part2=False).model_dump_json()
    assert "68518-0" not in text
    assert "substance_abuse" not in text
    assert "42CFRPart2" not in text


def test_the_api_exports_a_residents_assessments_to_those_with_consent():
    from django.test import Client

    from kynect.accounts.tokens import api_token_create
    from kynect.core.models import AccessEvent

    resident = _resident(first_name="Lena", last_name="Ortiz", birth_date=date(1982, 2, 2))
    _screened(resident)
    provider = Assessment.objects.get(resident=resident).taken_by
    token = {"Authorization": f"Bearer {api_token_create(user=provider)[1]}"}
    url = f"/api/assessments/residents/{resident.pk}/fhir"
    response = Client().get(url, headers=token)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    assert body["resourceType"] == "Bundle"
    assert "68518-0" not in response.content.decode()  # no Part 2 consent
    assert AccessEvent.objects.filter(actor=provider, action=AccessEvent.Action.EXPORT).count() == 1
    stranger = partner().user
    refused = Client().get(url, headers={"Authorization": f"Bearer {api_token_create(user=stranger)[1]}"})
    assert refused.status_code == 404
    assert AccessEvent.objects.filter(actor=stranger, action=AccessEvent.Action.DENIED).count() == 1


def _khie_client() -> dict[str, str]:
    from kynect.accounts.tokens import api_token_create

    return {"Authorization": f"Bearer {api_token_create(client='KHIE', scopes=['khie'])[1]}"}


def test_khie_pulls_the_observations_of_residents_who_share_and_no_one_elses(settings):
    from django.test import Client

    settings.KHIE_SHARING_DEFAULT = False
    resident = _resident(first_name="Lena", last_name="Ortiz", birth_date=date(1982, 2, 2))
    Resident.objects.filter(pk=resident.pk).update(client_id="7700112233")
    _screened(resident)
    url = f"/api/fhir/Observation?subject:identifier={CLIENT_ID_SYSTEM}|7700112233&category=sdoh"
    client, token = Client(), _khie_client()
    assert client.get(url, headers=token).json()["total"] == 0  # the state's default: not shared
    Resident.objects.filter(pk=resident.pk).update(khie_sharing=True)
    body = client.get(url, headers=token).json()
    domains = {entry["resource"]["code"]["coding"][0]["code"] for entry in body["entry"]}
    assert "housing" in domains
    assert "substance_abuse" not in domains  # Part 2: never to KHIE
    assert body["total"] == len(body["entry"])
    unknown = client.get(url.replace("7700112233", "1"), headers=token).json()
    assert unknown["total"] == 0
    # A user's token is not KHIE's.
    from kynect.accounts.tokens import api_token_create

    user_token = {"Authorization": f"Bearer {api_token_create(user=partner().user)[1]}"}
    assert client.get(url, headers=user_token).status_code == 403


def test_khie_posts_a_bundle_and_a_bad_one_gets_an_operation_outcome():
    from django.test import Client

    resident = _resident()
    client, token = Client(), _khie_client()
    response = client.post(
        "/api/fhir/Bundle", EXAMPLES.read_bytes(), content_type="application/fhir+json", headers=token
    )
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 3
    assert RiskRating.objects.filter(resident=resident, source="khie").count() == 3
    bad = json.loads(EXAMPLES.read_text())
    del bad["entry"][2]["resource"]["code"]
    refused = client.post(
        "/api/fhir/Bundle", json.dumps(bad), content_type="application/fhir+json", headers=token
    )
    assert refused.status_code == 422
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any("code" in " ".join(issue.get("expression", [])) for issue in outcome["issue"])


def test_a_resident_chooses_in_my_plan_whether_to_share_with_khie(settings):
    from django.test import Client

    settings.KHIE_SHARING_DEFAULT = True
    resident = _resident()
    own = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=own)
    client = Client()
    client.force_login(own)
    assert "this is the state" in client.get("/my-plan/").content.decode()
    client.post("/my-plan/", {"form": "khie", "share": "no"})
    resident.refresh_from_db()
    assert resident.khie_sharing is False
    assert not resident.shares_with_khie()
    client.post("/my-plan/", {"form": "khie", "share": "maybe"})
    resident.refresh_from_db()
    assert resident.khie_sharing is False


def test_kynects_code_systems_are_published_at_their_urls():
    from django.test import Client

    rating = Client().get("/api/fhir/CodeSystem/sdoh-rating").json()
    assert rating["url"] == "https://kynect.ky.gov/fhir/CodeSystem/sdoh-rating"
    assert [concept["code"] for concept in rating["concept"]] == ["stable", "vulnerable", "in_crisis", "na"]
    domains = Client().get("/api/fhir/CodeSystem/sdoh-domain").json()
    assert domains["count"] == 18
    assert Client().get("/api/fhir/CodeSystem/weather").status_code == 404


def test_the_export_can_be_one_assessment():
    from django.test import Client

    from kynect.accounts.tokens import api_token_create

    resident = _resident(first_name="Lena", last_name="Ortiz", birth_date=date(1982, 2, 2))
    _screened(resident)
    _screened(resident)
    first, second = Assessment.objects.filter(resident=resident).order_by("completed_at")
    token = {"Authorization": f"Bearer {api_token_create(user=first.taken_by)[1]}"}
    url = f"/api/assessments/residents/{resident.pk}/fhir"
    whole = Client().get(url, headers=token).json()
    one = Client().get(f"{url}?assessment={second.pk}", headers=token).json()
    responses = [e for e in whole["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert len(responses) == 2
    assert [e for e in one["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"] == [
        e for e in responses if e["resource"]["id"] in {e2["resource"]["id"] for e2 in one["entry"]}
    ]
    assert len([e for e in one["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]) == 1
