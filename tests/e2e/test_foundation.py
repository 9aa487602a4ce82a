"""The foundation in a real browser: home page, language switch, category menu, sign in and out."""

from __future__ import annotations

import pytest

from kynect.accounts.services import training_attest
from kynect.accounts.tests.factories import TEST_PASSWORD, MembershipFactory
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize(
    ("path", "lang", "heading"),
    [
        ("/", "en", "Connecting Kentuckians to Help"),
        ("/es/", "es", "Conectando a los habitantes de Kentucky con ayuda"),
    ],
)
def test_home_page_is_accessible_in_both_languages_and_widths(
    site: CheckedPage, width: int, path: str, lang: str, heading: str
) -> None:
    site.page.set_viewport_size({"width": width, "height": 800})
    response = site.visit(path)
    assert response.status == 200
    assert site.page.get_attribute("html", "lang") == lang
    assert site.page.locator("h1").inner_text() == heading
    assert site.page.locator(".kynect-tile").count() == 9
    assert site.fits_width(), f"horizontal scrolling at {width}px"


def test_language_switch_moves_to_spanish_and_back(site: CheckedPage) -> None:
    site.visit("/help/")
    site.page.get_by_role("button", name="Español").click()
    site.page.wait_for_url("**/es/help/")
    site.check()
    assert site.page.get_attribute("html", "lang") == "es"
    site.page.get_by_role("button", name="English").click()
    site.page.wait_for_url(site.base_url + "/help/")
    site.check()
    assert site.page.get_attribute("html", "lang") == "en"


def test_category_menu_shows_seven_categories_and_the_employment_tree(site: CheckedPage) -> None:
    site.visit("/")
    site.page.get_by_role("button", name="Search By Category").click()
    menu = site.page.locator("#category-menu")
    menu.wait_for(state="visible")
    site.check()
    for name in ("Housing", "Food", "Employment", "Transportation", "Health", "Financial", "Education"):
        assert menu.get_by_role("link", name=name, exact=True).is_visible()
    for name in (
        "Getting ready for work",
        "Computer Skills",
        "Vocational Rehabilitation (for Disabilities)",
        "Help finding Work",
        "Help with Work Expenses",
        "Retirement",
        "Unemployment",
        "View All Employment",
    ):
        assert menu.get_by_role("link", name=name, exact=True).is_visible()
    menu.get_by_role("link", name="Resume Preparation").click()
    site.page.wait_for_url("**/search/?category=resume-preparation")
    site.check()


def test_mobile_menu_opens_at_320px(site: CheckedPage) -> None:
    site.page.set_viewport_size({"width": 320, "height": 700})
    site.visit("/")
    site.page.get_by_role("button", name="Menu").click()
    site.page.locator(".usa-nav.is-visible").wait_for()
    site.check()
    assert site.page.get_by_role("link", name="Call 2-1-1").first.is_visible()


def test_sign_in_and_out(site: CheckedPage) -> None:
    user = MembershipFactory.create().user
    training_attest(user=user)  # signing in goes straight to the home page
    site.visit("/accounts/login/")
    site.page.get_by_label("Email address").fill(user.email)
    site.page.get_by_label("Password").fill("not the password")
    site.page.get_by_role("button", name="Sign in").click()
    site.page.get_by_text("The email address or password is not right").wait_for()
    site.check()
    site.page.get_by_label("Password").fill(TEST_PASSWORD)
    site.page.get_by_role("button", name="Sign in").click()
    site.page.wait_for_url(site.base_url + "/")
    site.check()
    site.page.get_by_role("button", name="Logout").click()
    site.page.get_by_role("link", name="Login").wait_for()
    site.check()
