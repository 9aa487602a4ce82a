"""A resident on a phone finds "food pantry open now near 40601" and reads the detail page, in English
and in Spanish, with zero axe-core violations; with and without JavaScript."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from kynect.accounts.tests.factories import OrganizationFactory
from kynect.core import clock
from kynect.directory import models
from kynect.directory.search import search_index_update
from kynect.directory.taxonomy import kynect_taxonomies_load
from kynect.directory.tests.factories import DirectoryOrganizationFactory, listed_service
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_DAY = "MO,TU,WE,TH,FR,SA,SU"


@pytest.fixture
def directory() -> dict[str, models.ServiceAtLocation]:
    """Pantries near Frankfort: one open around the clock, one never open now, one far away."""
    # Transactional tests empty every table, the taxonomy terms loaded by a migration included.
    kynect_taxonomies_load()
    partner = DirectoryOrganizationFactory.create(name="Franklin County Health Department")
    OrganizationFactory.create(
        name="Franklin County Health Department", hsds_organization=partner, onboarded_at=clock.now()
    )
    open_now = listed_service(
        name="Food pantries",
        organization=partner,
        description="Free groceries to take home.",
        category_slugs=["food-pantries"],
        language_codes=["en", "es"],
        hours=[(EVERY_DAY, time(0), time(0))],
        url="https://pantry.example.org",
        fees_description="Free",
        application_process="Walk in",
    )
    models.RequiredDocument.objects.create(service=open_now.service, document="Picture ID")
    listed_service(name="Clothing closet", organization=partner, location=open_now.location)
    # Open one minute a week, on a day that is never today.
    yesterday = (timezone.localdate() - timedelta(days=1)).weekday()
    listed_service(
        name="Church food pantry",
        description="Groceries once a week.",
        category_slugs=["food-pantries"],
        hours=[(["MO", "TU", "WE", "TH", "FR", "SA", "SU"][yesterday], time(3), time(3, 1))],
        latitude=38.21,
        longitude=-84.86,
    )
    listed_service(
        name="Pikeville food pantry", category_slugs=["food-pantries"], latitude=37.479, longitude=-82.519
    )
    search_index_update()
    return {"open": open_now}


LABELS = {
    "": {"keyword": "Keyword", "near": "ZIP code, city or county", "open": "Open", "search": "Search"},
    "/es": {
        "keyword": "Palabra clave",
        "near": "Código postal, ciudad o condado",
        "open": "Horario",
        "search": "Buscar",
    },
}
WORDS = {
    "": {
        "open_now": "Open now",
        "count": "1 result",
        "today": "Open 24 hours",
        "partner": "KY Partner",
        "filters": "Filters and sort order (1 filter applied)",
    },
    "/es": {
        "open_now": "Abierto ahora",
        "count": "1 resultado",
        "today": "Abierto las 24 horas",
        "partner": "Socio de KY",
        "filters": "Filtros y orden (1 filtro aplicado)",
    },
}


def _search_on_a_phone(site: CheckedPage, language: str) -> Any:
    page = site.page
    page.set_viewport_size({"width": 320, "height": 800})
    site.visit(f"{language}/search/")
    assert site.fits_width(), "horizontal scrolling at 320px on the empty search page"
    labels = LABELS[language]
    form = page.locator("#search-form")
    form.get_by_label(labels["keyword"]).fill("food pantry")
    form.get_by_label(labels["near"]).fill("40601")
    form.locator("#search-filters > summary").click()
    form.get_by_label(labels["open"], exact=True).select_option("now")
    page.locator("#search-form button[type=submit]").click()
    return page


@pytest.mark.parametrize("language", ["", "/es"])
def test_a_resident_finds_a_food_pantry_open_now_near_40601(
    site: CheckedPage, directory: dict, language: str
) -> None:
    page = _search_on_a_phone(site, language)
    words = WORDS[language]

    # htmx swaps the results in place and puts the search in the address bar.
    page.locator("#results-heading").get_by_text(words["count"], exact=False).wait_for()
    assert "q=food%20pantry" in page.url or "q=food+pantry" in page.url
    # On the phone the filters close again so that the results follow the search, and say what applies.
    assert not page.locator("#search-filters").evaluate("(details) => details.open")
    assert page.locator("#search-filters-label").inner_text() == words["filters"]
    site.check()
    assert site.fits_width(), "horizontal scrolling at 320px on the results"
    results = page.locator(".kynect-listing")
    assert results.count() == 1
    card = results.first.inner_text()
    for expected in ("Franklin County Health Department", "Food pantries", words["partner"], words["today"]):
        assert expected.lower() in card.lower()
    assert "Church food pantry" not in page.content()
    assert "Pikeville" not in page.locator("#search-results").inner_text()
    assert words["count"] in page.locator("#search-status").inner_text()

    # The same URL loads the same results without htmx (a shared link, a reload).
    page.reload()
    site.check()
    assert page.locator(".kynect-listing").count() == 1

    page.locator(".kynect-listing__name a").first.click()
    page.wait_for_load_state("load")
    site.check()
    assert site.fits_width(), "horizontal scrolling at 320px on the detail page"
    assert page.locator("h1").inner_text() == "Food pantries"
    detail = page.locator("main").inner_text()
    for expected in (
        "Free groceries to take home.",
        "(502) 555-0100",
        "100 Main St",
        "Picture ID",
        "Clothing closet",
    ):
        assert expected in detail
    assert page.locator(".kynect-hours tbody tr").count() == 7


# The smallest phone screen in use: 320 by 568 CSS pixels.
PHONE = {"width": 320, "height": 568}
KEYWORD_BOX = """() => {
    const input = document.getElementById("id_q");
    const style = getComputedStyle(input);
    const box = input.getBoundingClientRect();
    return {
        left: box.left,
        right: box.right,
        borders: ["top", "right", "bottom", "left"].map(
            (side) => style.getPropertyValue(`border-${side}-style`) === "solid"
                && parseFloat(style.getPropertyValue(`border-${side}-width`)) >= 1
        ),
    };
}"""


@pytest.mark.parametrize("language", ["", "/es"])
def test_on_a_phone_the_results_come_first_and_the_keyword_field_fits(
    site: CheckedPage, directory: dict, language: str
) -> None:
    page = site.page
    page.set_viewport_size(PHONE)
    site.visit(f"{language}/search/?q=food+pantry&near=40601")

    first = page.locator(".kynect-listing").first.bounding_box()
    assert first is not None
    assert first["y"] < PHONE["height"], f"the first result starts at {first['y']} px, below the first screen"
    keyword = page.evaluate(KEYWORD_BOX)
    assert 0 <= keyword["left"] < keyword["right"] <= PHONE["width"], keyword
    assert all(keyword["borders"]), f"the keyword field lacks part of its border: {keyword}"
    assert site.fits_width()

    # The filters wait in their disclosure, closed, until the summary is tapped.
    open_field = page.locator("#search-form").get_by_label(LABELS[language]["open"], exact=True)
    assert not open_field.is_visible()
    page.locator("#search-filters > summary").click()
    assert open_field.is_visible()
    site.check()
    assert site.fits_width()


def test_the_search_works_without_javascript(
    browser: Any, live_server: Any, axe_source: str, directory: dict
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 800})
    try:
        page = context.new_page()
        page.goto(live_server.url + "/search/?q=food+pantry&near=40601&open=now")
        assert page.locator(".kynect-listing").count() == 1
        # The "use my location" and "print" buttons need JavaScript, so they stay hidden.
        assert not page.locator("[data-locate]").is_visible()
        page.locator("#search-form").get_by_label("Keyword").fill("pantry")
        # The filters wait in a disclosure that the browser opens by itself.
        page.locator("#search-filters > summary").click()
        page.locator("#search-form").get_by_label("Open", exact=True).select_option("")
        page.locator("#search-form button[type=submit]").click()
        page.wait_for_load_state("load")
        assert "q=pantry" in page.url
        assert page.locator(".kynect-listing").count() == 2
    finally:
        context.close()


def test_use_my_location(site: CheckedPage, directory: dict) -> None:
    context = site.page.context
    context.grant_permissions(["geolocation"], origin=site.base_url)
    context.set_geolocation({"latitude": 37.48, "longitude": -82.52})
    site.visit("/search/?q=pantry")
    site.page.get_by_role("button", name="Use my location").click()
    site.page.get_by_text("within 25 miles of your location", exact=False).wait_for()
    site.check()
    assert site.page.locator(".kynect-listing").count() == 1
    assert "Pikeville food pantry" in site.page.locator("#search-results").inner_text()


@pytest.mark.parametrize("language", ["", "/es"])
def test_bad_input_and_no_results_at_320px(site: CheckedPage, directory: dict, language: str) -> None:
    site.page.set_viewport_size({"width": 320, "height": 800})
    site.expected_console_errors.append("status of 400")
    site.visit(f"{language}/search/?near=99999")
    assert site.fits_width()
    assert "99999" in site.page.locator("#search-results").inner_text()

    site.visit(f"{language}/search/?q=zzzzqqq&near=40601&radius=5")
    assert site.fits_width()
    assert site.page.locator("#search-results a[href*='radius=10']").count() == 1


@pytest.mark.parametrize("language", ["", "/es"])
def test_a_life_situation_and_the_printable_detail_page(
    site: CheckedPage, directory: dict, language: str
) -> None:
    site.page.set_viewport_size({"width": 320, "height": 800})
    site.visit(f"{language}/search/?situation=pregnant&near=40601")
    assert site.fits_width()
    assert site.page.locator("h2").count() >= 3

    sal = directory["open"]
    site.visit(f"{language}/services/{sal.service_id}/")
    site.page.emulate_media(media="print")
    assert not site.page.locator("header.usa-header").is_visible()
    assert site.page.locator("h1").is_visible()
    site.page.emulate_media(media="screen")
    assert site.page.locator("[data-print]").is_visible()
