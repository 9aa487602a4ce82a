"""Assessments in a real browser, in English and Spanish at 320 and 1280 px, every page axe-checked and
fitting the width: an anonymous resident takes the kynect assessment and sees suggested resources near
40601; a hospital user screens a consenting resident with the AHC HRSN tool and the risk factors
update; an MCO user's needs assessment appears on the resident's screen. No JavaScript is needed: the
pages are plain forms."""

from __future__ import annotations

from typing import Any

import pytest

from kynect.accounts.models import Role
from kynect.assessments.definitions import published_load
from kynect.assessments.models import Instrument
from kynect.core import clock
from kynect.directory.search import search_index_update
from kynect.directory.taxonomy import kynect_taxonomies_load
from kynect.directory.tests.factories import listed_service
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.services import consent_grant_pre_consent
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_registration import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CASES = [("en", 320), ("es", 320), ("en", 1280), ("es", 1280)]
WORDS = {
    "en": {"home": "Assessments", "take": "kynect SDoH assessment", "results": "Your results",
           "crisis": "In-Crisis", "risk": "Risk Factors", "start": "Start Assessment"},
    "es": {"home": "Evaluaciones", "take": "Evaluación de SDoH de kynect", "results": "Sus resultados",
           "crisis": "En crisis", "risk": "Factores de riesgo", "start": "Iniciar evaluación"},
}  # fmt: skip


@pytest.fixture(autouse=True)
def instruments() -> None:
    """What the migrations loaded, again: a browser test's database is emptied after each test."""
    published_load(Instrument)
    kynect_taxonomies_load()


def shown(site: CheckedPage) -> None:
    site.page.locator("h1").wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling on {site.page.url}"


def submit(site: CheckedPage) -> None:
    site.page.locator("main form button[type=submit]").last.click()
    site.page.wait_for_load_state()


def choose_on_each_page(site: CheckedPage, pages: int, pick: Any) -> None:
    """On each page, `pick(page)` chooses the answers (clicking their labels, as a person does)."""
    for _ in range(pages):
        shown(site)
        pick(site.page)
        submit(site)


def first_answer_of_each(page: Any) -> None:
    for fieldset in page.locator("main fieldset").all():
        fieldset.locator("label").first.click()


@pytest.mark.parametrize(("lang", "width"), CASES)
def test_an_anonymous_resident_sees_services_near_40601(site: CheckedPage, lang: str, width: int) -> None:
    listed_service(name="Capital City Pantry", category_slugs=["food-pantries"])
    search_index_update()
    prefix = "" if lang == "en" else "/es"
    site.page.set_viewport_size({"width": width, "height": 900})
    site.visit(f"{prefix}/assessments/")
    shown(site)
    site.page.locator("main form button[type=submit]").first.click()

    def food_in_crisis(page: Any) -> None:
        for fieldset in page.locator("main fieldset").all():
            labels = fieldset.locator("label")
            # Food (the second question of the first page) in crisis, the rest stable.
            is_food = "food" in (fieldset.locator("input").first.get_attribute("name") or "")
            (labels.nth(2) if is_food else labels.first).click()

    choose_on_each_page(site, 6, food_in_crisis)
    shown(site)
    assert WORDS[lang]["results"] in site.page.locator("h1").inner_text()
    site.page.locator("#id_zip").fill("40601")
    site.page.locator("main form[method=get] button[type=submit]").click()
    site.page.locator(".kynect-listing").first.wait_for()
    shown(site)
    assert "Capital City Pantry" in site.page.locator("main").inner_text()
    assert WORDS[lang]["crisis"] in site.page.locator("main").inner_text()


@pytest.mark.parametrize(("lang", "width"), CASES)
def test_a_hospital_user_screens_a_consenting_resident(site: CheckedPage, lang: str, width: int) -> None:
    prefix = "" if lang == "en" else "/es"
    site.page.set_viewport_size({"width": width, "height": 900})
    hospital = partner()
    provider = member(hospital.organization, Role.PROVIDER_USER)
    resident = referral(partner(), hospital, resident=resident_input(preferred_language=lang)).resident
    consent_grant_pre_consent(
        resident=resident, organization=hospital.organization, actor=provider, now=clock.now()
    )
    sign_in(site, provider.email, prefix)
    site.visit(f"{prefix}/residents/{resident.pk}/")
    shown(site)
    site.page.get_by_role("link", name=WORDS[lang]["start"]).click()
    shown(site)
    site.page.locator("label[for=instrument-ahc-hrsn]").click()
    submit(site)

    def worried_about_housing(page: Any) -> None:
        for fieldset in page.locator("main fieldset").all():
            name = fieldset.locator("input").first.get_attribute("name")
            if name == "71802-3":
                fieldset.locator("label").nth(1).click()  # worried about losing it
            elif name == "96778-6":
                fieldset.locator("label").last.click()  # none of the above
            elif name in ("68518-0", "44250-9", "44255-8", "69858-9", "69861-3", "76513-1", "96781-0"):
                continue  # supplemental: optional, left unanswered
            else:
                fieldset.locator("label").first.click()

    choose_on_each_page(site, 6, worried_about_housing)
    shown(site)
    site.visit(f"{prefix}/residents/{resident.pk}/")
    shown(site)
    risk = site.page.locator("section[aria-labelledby=risk-heading]").inner_text()
    assert "AHC HRSN" in risk


@pytest.mark.parametrize(("lang", "width"), CASES)
def test_an_mco_users_needs_assessment_appears_on_the_screen(
    site: CheckedPage, lang: str, width: int
) -> None:
    prefix = "" if lang == "en" else "/es"
    site.page.set_viewport_size({"width": width, "height": 900})
    mco = partner()
    mco_user = member(mco.organization, Role.MCO_USER)
    resident = referral(partner(), mco, resident=resident_input(preferred_language=lang)).resident
    consent_grant_pre_consent(
        resident=resident, organization=mco.organization, actor=mco_user, now=clock.now()
    )
    sign_in(site, mco_user.email, prefix)
    site.visit(f"{prefix}/residents/{resident.pk}/assessments/new/")
    shown(site)
    site.page.locator("label[for=instrument-mco-needs]").click()
    submit(site)
    choose_on_each_page(site, 3, first_answer_of_each)
    shown(site)
    site.visit(f"{prefix}/residents/{resident.pk}/")
    shown(site)
    assert site.page.locator("section[aria-labelledby=assessments-heading] li").count() == 1
