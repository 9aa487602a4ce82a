"""Taking an assessment: alone without signing in (the session only), as a signed-in resident (kept), and
as staff with a consenting resident (Start Assessment, recorded for their organization); the results
with suggested resources near the resident; bad pages and second submissions changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kynect.accounts.models import Role
from kynect.assessments.models import Assessment, RiskRating
from kynect.core import clock
from kynect.core.models import AccessEvent
from kynect.directory.search import search_index_update
from kynect.directory.tests.factories import listed_service
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.models import Consent, Resident
from kynect.residents.services import consent_grant_pre_consent

pytestmark = pytest.mark.django_db

KYNECT_PAGES = (
    ("housing", "food", "income"),
    ("employment", "adult_education", "life_skills"),
    ("health_care_coverage", "mental_health", "disabilities"),
    ("mobility", "safety", "legal"),
    ("childcare", "childrens_education", "parenting_skills"),
    ("family_social_relations", "community_involvement", "substance_abuse"),
)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def answer_every_page(client: Client, take_url: str, ratings: dict[str, str]) -> Any:
    """Post each page of the kynect assessment in turn; returns the last response."""
    response = None
    for number, domains in enumerate(KYNECT_PAGES):
        page = client.get(take_url)
        assert page.status_code == 200
        revision = page.context["revision"]
        response = client.post(
            take_url,
            {
                "page": number,
                "revision": revision,
                **{domain: ratings.get(domain, "stable") for domain in domains},
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]
    return response


@pytest.fixture
def pantry() -> Any:
    served = listed_service(name="Capital City Pantry", category_slugs=["food-pantries"])
    search_index_update()
    return served


def test_alone_without_signing_in_nothing_is_stored_and_services_near_40601_are_suggested(pantry):
    client = Client()
    assert "not stored" in client.get(reverse("assessments:home")).content.decode()
    start = client.post(reverse("assessments:begin", args=["kynect-sdoh"]))
    assert start["Location"] == reverse("assessments:take_session")
    take_url = reverse("assessments:take_session")
    last = answer_every_page(client, take_url, {"food": "in_crisis", "housing": "vulnerable"})
    assert last["Location"] == reverse("assessments:result_session")
    assert Assessment.objects.count() == 0
    assert RiskRating.objects.count() == 0
    result = client.get(reverse("assessments:result_session"))
    body = result.content.decode()
    assert "Enter your ZIP code" in body
    near = client.get(reverse("assessments:result_session") + "?zip=40601").content.decode()
    assert "Capital City Pantry" in near
    assert "In-Crisis" in near
    assert "Connect" in near
    bad = client.get(reverse("assessments:result_session") + "?zip=99")
    assert bad.status_code == 400
    assert "5-digit ZIP" in bad.content.decode()


def test_pages_are_answered_in_order_and_a_second_submission_is_taken_once():
    client = Client()
    client.post(reverse("assessments:begin", args=["kynect-sdoh"]))
    take_url = reverse("assessments:take_session")
    # A page ahead of the one due is refused without a change.
    ahead = client.post(take_url, {"page": 3, "revision": 0, "mobility": "stable"})
    assert ahead.status_code == 302
    assert client.session["kynect.assessment"]["page"] == 0
    missing = client.post(take_url, {"page": 0, "revision": 0, "housing": "stable"})
    assert missing.status_code == 400
    assert "Choose an answer." in missing.content.decode()
    tampered = client.post(
        take_url, {"page": 0, "revision": 0, "housing": "fine", "food": "stable", "income": "na"}
    )
    assert tampered.status_code == 400
    assert client.session["kynect.assessment"]["answers"] == {}
    first = {"page": 0, "revision": 0, "housing": "stable", "food": "in_crisis", "income": "na"}
    assert client.post(take_url, first).status_code == 302
    again = {**first, "food": "stable"}
    client.post(take_url, again)  # the back button and a second click: revision 0 is gone
    kept = client.session["kynect.assessment"]
    assert kept["answers"]["food"] == ["in_crisis"]
    assert (kept["page"], kept["revision"]) == (1, 1)
    # Going back to the first page to change an answer is a new submission.
    assert client.post(take_url, {**again, "revision": 1}).status_code == 302
    assert client.session["kynect.assessment"]["answers"]["food"] == ["stable"]


def test_a_signed_in_resident_keeps_the_assessment_in_my_plan():
    own = member(None, Role.RESIDENT)
    resident = referral(partner(), partner(), resident=resident_input()).resident
    Resident.objects.filter(pk=resident.pk).update(user=own)
    client = signed_in(own)
    start = client.post(reverse("assessments:begin", args=["kynect-sdoh"]))
    assessment = Assessment.objects.get()
    assert start["Location"] == reverse("assessments:take", args=[assessment.pk])
    answer_every_page(client, start["Location"], {"employment": "in_crisis"})
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.COMPLETED
    assert assessment.organization is None
    ratings = dict(RiskRating.objects.filter(resident=resident).values_list("domain", "rating"))
    assert len(ratings) == 18
    assert ratings["employment"] == "in_crisis"
    plan = client.get(reverse("residents:my_plan")).content.decode()
    assert "kynect SDoH assessment" in plan
    # Completed: the pages send to the results, and nothing is rated twice.
    assert client.get(reverse("assessments:take", args=[assessment.pk]))["Location"].endswith("/result/")
    assert RiskRating.objects.count() == 18


@pytest.fixture
def hospital() -> Any:
    """A hospital (provider users), with a resident who consented to it."""
    the_hospital = partner()
    provider = member(the_hospital.organization, Role.PROVIDER_USER)
    resident = referral(partner(), the_hospital, resident=resident_input()).resident
    consent_grant_pre_consent(
        resident=resident, organization=the_hospital.organization, actor=provider, now=clock.now()
    )
    return the_hospital, provider, resident


def _hrsn_pages(client: Client, take_url: str) -> None:
    pages: list[dict[str, Any]] = [
        {"71802-3": "LA31994-9", "96778-6": ["LA31996-4", "LA28580-1"]},
        {"88122-7": "LA28397-0", "88123-5": "LA6729-3"},
        {"93030-5": "LA33-6", "96779-4": "LA32-8"},
        {"95618-5": "LA10082-8", "95617-7": "LA10082-8", "95616-9": "LA10082-8", "95615-1": "LA10066-1"},
        {"96780-2": "LA31981-6"},  # supplemental: optional, one answered
        {"68518-0": "LA18891-4"},  # weekly heavy drinking: Part 2 data
    ]
    for number, values in enumerate(pages):
        revision = client.get(take_url).context["revision"]
        response = client.post(take_url, {"page": number, "revision": revision, **values})
        assert response.status_code == 302, response.content.decode()[:400]


def test_a_hospital_user_screens_a_consenting_resident_and_the_risk_factors_update(hospital):
    the_hospital, provider, resident = hospital
    client = signed_in(provider)
    screen = client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    new_url = reverse("assessments:new_for_resident", args=[resident.pk])
    assert new_url in screen
    offered = client.get(new_url).content.decode()
    assert "AHC HRSN" in offered
    assert "MCO member needs assessment" not in offered
    start = client.post(new_url, {"instrument": "ahc-hrsn"})
    assessment = Assessment.objects.get()
    assert (assessment.organization, assessment.taken_by) == (the_hospital.organization, provider)
    _hrsn_pages(client, start["Location"])
    assessment.refresh_from_db()
    assert assessment.status == Assessment.Status.COMPLETED
    ratings = dict(RiskRating.objects.filter(resident=resident).values_list("domain", "rating"))
    assert ratings == {
        "housing": "vulnerable",
        "food": "vulnerable",
        "mobility": "vulnerable",
        "income": "stable",
        "safety": "in_crisis",  # 3 + 3 + 3 + 2 = 11
        "employment": "vulnerable",
        "substance_abuse": "vulnerable",
    }
    screen = client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert "In-Crisis" in screen
    assert "AHC HRSN" in screen
    # The substance use rating is Part 2 data: withheld without the resident's Part 2 consent.
    assert "Shown only with the resident's 42 CFR Part 2 consent" in screen
    result = client.get(reverse("assessments:result", args=[assessment.pk])).content.decode()
    assert "42 CFR Part 2 consent" in result
    Consent.objects.create(
        resident=resident,
        organization=the_hospital.organization,
        kind=Consent.Kind.PART2,
        status=Consent.Status.ACTIVE,
        channel=Consent.Channel.IN_PERSON,
        granted_at=clock.now(),
        purpose="Care coordination",
        expires_at=clock.now() + timedelta(days=30),
    )
    screen = client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert "42 CFR part 2 prohibits unauthorized use or disclosure" in screen


def test_an_mco_users_needs_assessment_appears_on_the_residents_screen():
    mco = partner()
    mco_user = member(mco.organization, Role.MCO_USER)
    resident = referral(partner(), mco, resident=resident_input()).resident
    consent_grant_pre_consent(
        resident=resident, organization=mco.organization, actor=mco_user, now=clock.now()
    )
    client = signed_in(mco_user)
    new_url = reverse("assessments:new_for_resident", args=[resident.pk])
    assert "AHC HRSN" not in client.get(new_url).content.decode()
    start = client.post(new_url, {"instrument": "mco-needs"})
    take_url = start["Location"]
    pages = [
        {"missed_care": "no", "medicines": "some", "rides": "no"},
        {"housing_worry": "yes", "food_worry": "no", "daily_help": "no", "alone": "no"},
        {"stress": "no", "unsafe": "no", "work": "no"},
    ]
    for number, values in enumerate(pages):
        revision = client.get(take_url).context["revision"]
        assert client.post(take_url, {"page": number, "revision": revision, **values}).status_code == 302
    screen = client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert "MCO member needs assessment" in screen
    assert RiskRating.objects.get(resident=resident, domain="housing").rating == "in_crisis"


def test_without_consent_no_assessment_and_the_denial_is_recorded():
    sender, receiver = partner(), partner()
    resident = referral(sender, receiver, resident=resident_input()).resident
    client = signed_in(receiver.user)  # holds a referral, not consent
    page = client.get(reverse("assessments:new_for_resident", args=[resident.pk]))
    assert page.status_code == 404
    assert AccessEvent.objects.filter(actor=receiver.user, action=AccessEvent.Action.DENIED).exists()
    # Someone else's assessment id: 404.
    own = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=own)
    signed_in(own).post(reverse("assessments:begin", args=["kynect-sdoh"]))
    assessment = Assessment.objects.get()
    assert client.get(reverse("assessments:take", args=[assessment.pk])).status_code == 404


def test_the_residents_api_lists_the_risk_factors_part2_withheld(hospital):
    from kynect.accounts.tokens import api_token_create

    _the_hospital, provider, resident = hospital
    client = signed_in(provider)
    start = client.post(
        reverse("assessments:new_for_resident", args=[resident.pk]), {"instrument": "ahc-hrsn"}
    )
    _hrsn_pages(client, start["Location"])
    token = {"Authorization": f"Bearer {api_token_create(user=provider)[1]}"}
    body = Client().get(f"/api/residents/{resident.pk}", headers=token).json()
    domains = {factor["domain"]: factor["rating"] for factor in body["risk_factors"]}
    assert domains["safety"] == "in_crisis"
    assert "substance_abuse" not in domains
    assert {factor["source"] for factor in body["risk_factors"]} == {"assessment"}


def test_retention_erases_the_answers_and_keeps_the_ratings(hospital):
    from kynect.residents.retention import resident_erasing

    _the_hospital, provider, resident = hospital
    client = signed_in(provider)
    start = client.post(
        reverse("assessments:new_for_resident", args=[resident.pk]), {"instrument": "ahc-hrsn"}
    )
    _hrsn_pages(client, start["Location"])
    resident_erasing.send(sender=Resident, resident_ids=[resident.pk])
    assert Assessment.objects.get().answers == {}
    assert RiskRating.objects.filter(resident=resident).count() == 7


def test_each_risk_factor_has_its_history(hospital):
    _the_hospital, provider, resident = hospital
    client = signed_in(provider)
    start = client.post(
        reverse("assessments:new_for_resident", args=[resident.pk]), {"instrument": "ahc-hrsn"}
    )
    _hrsn_pages(client, start["Location"])
    RiskRating.objects.create(
        resident=resident,
        domain="housing",
        rating="stable",
        source="medicaid",
        rated_at=clock.now() - timedelta(days=90),
    )
    url = reverse("assessments:risk_history", args=[resident.pk, "housing"])
    assert url in client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    body = client.get(url).content.decode()
    assert body.index("Vulnerable") < body.index("Stable")  # newest first
    assert "Medicaid application" in body
    assert "AHC HRSN" in body
    withheld = client.get(reverse("assessments:risk_history", args=[resident.pk, "substance_abuse"]))
    assert "Shown only with the resident" in withheld.content.decode()
    assert client.get(reverse("assessments:risk_history", args=[resident.pk, "weather"])).status_code == 404
    stranger = partner()
    assert signed_in(stranger.user).get(url).status_code == 404


def test_a_version_published_mid_way_changes_nothing_for_someone_answering():
    from kynect.assessments.definitions import definition_read
    from kynect.assessments.models import Instrument

    client = Client()
    client.post(reverse("assessments:begin", args=["kynect-sdoh"]))
    take_url = reverse("assessments:take_session")
    first = {"page": 0, "revision": 0, "housing": "stable", "food": "vulnerable", "income": "stable"}
    assert client.post(take_url, first).status_code == 302
    newer = definition_read("kynect-sdoh", 1) | {"version": 2}
    newer["pages"] = newer["pages"][:1]  # a shorter version 2
    Instrument.objects.create(code="kynect-sdoh", version=2, definition=newer)
    page = client.get(take_url)
    assert page.context["pages"] == 6  # still version 1's six pages
    assert client.session["kynect.assessment"]["version"] == 1
    assert client.session["kynect.assessment"]["answers"]["food"] == ["vulnerable"]
