"""The statewide metrics dashboard and the incentive reports in a real browser, in English at 320 px and
Spanish at 1280 px: anyone reads the public figures; a state administrator narrows them to a county (a
backwards period first) and reads a month's incentive report. Every page is axe-checked and fits the width."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kynect.accounts.models import Role
from kynect.assessments.definitions import published_load
from kynect.assessments.models import Instrument
from kynect.directory.taxonomy import kynect_taxonomies_load
from kynect.referrals.tests.factories import member
from kynect.reporting.incentive import incentive_report_make
from kynect.reporting.tests.test_metrics import metrics_world
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_registration import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"title": "kynect resources metrics", "needs": "SDoH by referral creation",
           "show": "Show the figures",
           "error": "The end of the period must not be before its start.", "county": "Fayette County",
           "incentive": "Community Partner Incentive reports", "report": "Incentive report, November 2026"},
    "es": {"title": "Métricas de kynect resources",
           "needs": "Determinantes sociales de la salud por referencia creada",
           "show": "Mostrar las cifras", "error": "El final del período no puede ser anterior a su inicio.",
           "county": "Fayette County", "incentive": "Informes de incentivos para socios comunitarios",
           "report": "Informe de incentivos, noviembre 2026"},
}  # fmt: skip


@pytest.fixture
def world() -> dict[str, Any]:
    published_load(Instrument)
    kynect_taxonomies_load()
    made = metrics_world()
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=ZoneInfo("America/New_York")), tick=False):
        incentive_report_make(month=date(2026, 11, 1))
    return made


@pytest.mark.parametrize(("lang", "width"), [("en", 320), ("es", 1280)])
def test_the_public_reads_the_figures_and_a_state_administrator_narrows_them(
    site: CheckedPage, world: dict, lang: str, width: int
) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    site.page.set_viewport_size({"width": width, "height": 900})
    site.visit(f"{prefix}/metrics/")
    site.page.locator("h1").filter(has_text=words["title"]).wait_for()
    site.page.locator("h3").filter(has_text=words["needs"]).wait_for()
    assert site.page.locator('svg[role="img"]').count() == 8
    assert site.page.locator("select[name=county]").count() == 0
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {width} px"

    state = member(None, Role.STATE_ADMIN)
    sign_in(site, state.email, prefix)
    site.visit(f"{prefix}/metrics/")
    site.page.locator("select[name=county]").select_option(label=words["county"])
    site.page.locator("select[name=period]").select_option("range")
    site.page.locator("input[name=start]").fill("2026-12-01")
    site.page.locator("input[name=end]").fill("2026-01-01")
    site.expected_console_errors.append("status of 400")
    site.page.get_by_role("button", name=words["show"]).click()
    site.page.locator(".usa-alert--error").filter(has_text=words["error"]).wait_for()
    site.check()
    site.page.locator("input[name=start]").fill("2026-01-01")
    site.page.locator("input[name=end]").fill("2026-12-01")
    site.page.get_by_role("button", name=words["show"]).click()
    site.page.locator("main p").filter(has_text=words["county"]).first.wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {width} px"

    site.page.get_by_role("link", name=words["incentive"]).click()
    site.page.locator("h1").filter(has_text=words["incentive"]).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {width} px"
    site.visit(f"{prefix}/metrics/incentive/2026-11/")
    site.page.locator("h1").filter(has_text=words["report"]).wait_for()
    site.page.get_by_text("Lake Cumberland Community Action").first.wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {width} px"
