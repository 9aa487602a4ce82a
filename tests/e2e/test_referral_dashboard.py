"""The Partner Referral Dashboard in a real browser: a partner reads their organization's charts and
tables and chooses a period with a mistake first, in English at 320 px and Spanish at 1280 px."""

from __future__ import annotations

import pytest

from kynect.referrals.tests.test_dashboard import world  # noqa: F401  (the fixture)
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_registration import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"title": "Referral dashboard", "chart": "Outcomes of the referrals received",
           "metrics": "kynect resources metrics for this organization",
           "show": "Show the period", "error": "The end of the period must not be before its start."},
    "es": {"title": "Panel de referencias", "chart": "Resultados de las referencias recibidas",
           "metrics": "Métricas de kynect resources de esta organización",
           "show": "Mostrar el período", "error": "El final del período no puede ser anterior a su inicio."},
}  # fmt: skip


@pytest.mark.parametrize(("lang", "width"), [("en", 320), ("es", 1280)])
def test_a_partner_reads_the_dashboard(site: CheckedPage, world: dict, lang: str, width: int) -> None:  # noqa: F811
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    site.page.set_viewport_size({"width": width, "height": 900})
    sign_in(site, world["receiver"].user.email, prefix)
    site.visit(f"{prefix}/referrals/dashboard/")
    site.page.locator("h1").filter(has_text=words["title"]).wait_for()
    site.page.locator("h3").filter(has_text=words["chart"]).wait_for()
    # The statewide dashboard's figures for this organization, on the same page.
    site.page.locator("h2").filter(has_text=words["metrics"]).wait_for()
    assert site.page.locator('svg[role="img"]').count() == 9
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {width} px"

    site.page.locator("input[name=start]").fill("2026-12-01")
    site.page.locator("input[name=end]").fill("2026-11-01")
    site.expected_console_errors.append("status of 400")
    site.page.get_by_role("button", name=words["show"]).click()
    site.page.locator(".usa-alert--error").filter(has_text=words["error"]).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {width} px"
