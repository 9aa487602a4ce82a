"""The referral specialists' workspace in a real browser, in English and Spanish at 320 and 1280 px: a
specialist bulk-expires old referrals to an organization that has not onboarded."""

from __future__ import annotations

import pytest

from kynect.referrals.models import Referral
from kynect.referrals.tests.test_specialist import world  # noqa: F401  (the fixture)
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_registration import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {
        "workspace": "Referral specialist workspace",
        "not_onboarded": "Organizations not onboarded",
        "close": "Close the chosen referrals as expired",
        "closed": "Closed 2 referrals as expired.",
    },
    "es": {
        "workspace": "Espacio de trabajo del especialista en referencias",
        "not_onboarded": "Organizaciones que no han completado la incorporación",
        "close": "Cerrar como vencidas las referencias elegidas",
        "closed": "Se cerraron 2 referencias como vencidas.",
    },
}


def _heading(site: CheckedPage, text: str, width: int) -> None:
    site.page.locator("h1").filter(has_text=text).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {width} px on {site.page.url}"


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_specialist_bulk_expires_old_referrals_to_an_organization_not_onboarded(
    site: CheckedPage,
    world: dict,  # noqa: F811
    lang: str,
    width: int,
) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    site.page.set_viewport_size({"width": width, "height": 900})
    sign_in(site, world["specialist"].email, prefix)

    site.visit(f"{prefix}/referrals/specialist/")
    _heading(site, words["workspace"], width)
    site.page.get_by_role("link", name=words["not_onboarded"]).click()
    site.page.locator("h2").filter(has_text=words["not_onboarded"]).wait_for()
    _heading(site, words["workspace"], width)

    boxes = site.page.locator("input[type=checkbox][name=referral]")
    assert boxes.count() == 2  # the referral made today cannot be ticked yet
    labels = site.page.locator("label.usa-checkbox__label")
    for index in range(labels.count()):
        labels.nth(index).click()
    assert all(boxes.nth(index).is_checked() for index in range(boxes.count()))
    site.page.get_by_role("button", name=words["close"]).click()
    site.page.locator(".usa-alert--success").filter(has_text=words["closed"]).wait_for()
    _heading(site, words["workspace"], width)

    for key in ("old_outsider", "second_outsider", "new_outsider"):
        world[key].refresh_from_db()
    assert world["old_outsider"].status == Referral.Status.CANCELLED
    assert world["second_outsider"].not_provided_reason == "expired"
    assert world["new_outsider"].status == Referral.Status.REQUESTED
    assert site.page.locator("input[type=checkbox][name=referral]").count() == 0
