"""Every kind of page, in English and Spanish, at 320 and 1280 px: zero axe-core violations, no sideways
scrolling, the page's language and one h1.

A case visits all its pages in one browser page and reports every problem it finds together, so that one
run shows everything to fix; the browser is shared by the whole session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from kynect.accounts.models import Role, User
from kynect.accounts.tests.factories import MembershipFactory
from kynect.core.worker import side_loop_once
from kynect.directory import models
from kynect.directory.search import search_index_update
from kynect.directory.taxonomy import kynect_taxonomies_load
from kynect.directory.tests.factories import listed_service
from kynect.ondemand.models import HelpRequest
from kynect.ondemand.services.deregistration import helper_agency_active_set
from kynect.ondemand.services.helpers import helper_start
from kynect.ondemand.tests.conftest import register
from kynect.ondemand.tests.factories import DoiLicenceFactory
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_referral import ALWAYS_OPEN, sms_to

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [320, 1280]
LANGUAGES = ["", "/es"]
# Long unbroken words, as real listings have them: a host name and an email address wider than a phone.
LONG_HOST = "fayettecountyhealthdepartment1.example.org"


@dataclass
class Survey:
    """Visits pages in one language and collects what is wrong with each."""

    site: CheckedPage
    language: str
    problems: list[str] = field(default_factory=list)

    def visit(self, path: str, *, status: int = 200) -> None:
        response = self.site.page.goto(self.site.base_url + self.language + path)
        if response.status != status:
            self.problems.append(f"{self.language}{path}: status {response.status}, expected {status}")
        if status != 200:  # the browser logs an error status, which is what this page is for
            self.site.expected_console_errors.append(f"status of {status}")
        self.record()

    def record(self) -> None:
        """Check the page the browser shows now."""
        page = self.site.page
        where = page.url.removeprefix(self.site.base_url)
        self.problems.extend(f"{where}: {violation}" for violation in self.site.violations())
        width, viewport = self.site.scroll_width(), page.viewport_size["width"]
        if width > viewport:
            self.problems.append(f"{where}: {width} px wide at {viewport} px, so it scrolls sideways")
        lang = page.get_attribute("html", "lang")
        if lang != ("es" if self.language else "en"):
            self.problems.append(f"{where}: lang={lang!r}")
        if page.locator("h1").count() != 1:
            self.problems.append(f"{where}: {page.locator('h1').count()} h1 elements")

    def sign_in(self, user: User) -> None:
        """Start a session for `user` in the browser without going through the sign-in form."""
        client = Client()
        client.force_login(user)
        context = self.site.page.context
        context.clear_cookies()
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.site.base_url}]
        )

    def assert_none(self) -> None:
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def listing() -> models.ServiceAtLocation:
    """A listing with the demo's long host name and email address, in a category and a life situation."""
    kynect_taxonomies_load()  # transactional tests empty every table, the migrated taxonomy included
    found = listed_service(
        name="Accessibility modifications",
        description="Ramps, grab bars and other changes for people with disabilities or older adults.",
        category_slugs=["food-pantries", "wic"],
        hours=[("MO,TU,WE,TH,FR", time(8), time(16, 30))],
        url=f"https://{LONG_HOST}/services",
        email=f"help@{LONG_HOST}",
        fees_description="$5 per visit",
        application_process="Walk in",
    )
    models.RequiredDocument.objects.create(service=found.service, document="Picture ID")
    listed_service(name="Clothing closet", location=found.location, category_slugs=["food-pantries"])
    search_index_update()
    return found


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages(
    site: CheckedPage, listing: models.ServiceAtLocation, language: str, width: int
) -> None:
    site.page.set_viewport_size({"width": width, "height": 800})
    survey = Survey(site, language)
    detail = f"/services/{listing.service_id}/"
    for path in (
        "/",
        "/search/",
        "/search/?q=food&near=40601",
        "/search/?category=food-pantries",
        "/search/?situation=pregnant&near=40601",
        f"{detail}?location={listing.location_id}",
        f"{detail}share/?location={listing.location_id}",
        "/help/",
        "/health-coverage/",
        "/ondemand/help/",
        "/accounts/login/",
        "/accounts/password-reset/",
        "/accounts/password-reset/sent/",
        "/accounts/reset/bad/link/",
        "/accounts/partners/apply/",
        "/accounts/partners/applied/",
    ):
        survey.visit(path)
    survey.visit("/accounts/invitations/not-a-real-token/", status=400)
    survey.visit("/no-such-page/", status=404)
    survey.assert_none()


@pytest.fixture
def on_demand(settings) -> dict[str, Any]:
    """A registered agency admin (the only helper, so every request goes to them) with a kynector who has
    not registered, an insurance agent who has not started, and a state administrator. Email addresses
    are long, as real ones can be."""
    settings.ONDEMAND_SERVICE_HOURS = ALWAYS_OPEN
    state = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN, user__email=f"agency.admin@{LONG_HOST}")
    MembershipFactory.create(
        role=Role.KYNECTOR, organization=admin.organization, user__email=f"kynector@{LONG_HOST}"
    )
    helper_agency_active_set(actor=state.user, membership=admin, active=True)
    helper = register(helper_start(user=admin.user))
    agent = MembershipFactory.create(role=Role.INSURANCE_AGENT)
    DoiLicenceFactory.create(email=agent.user.email)
    return {"state": state.user, "admin": admin.user, "helper": helper, "agent": agent.user}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_on_demand_pages(site: CheckedPage, on_demand: dict[str, Any], language: str, width: int) -> None:
    page = site.page
    page.set_viewport_size({"width": width, "height": 800})
    survey = Survey(site, language)
    admin = on_demand["admin"]
    admin.preferred_language = "es" if language else "en"
    admin.save(update_fields=["preferred_language"])

    # A resident asks for a call back: the form, the confirmation, the status and cancel pages.
    survey.visit("/ondemand/help/")
    page.locator("input[name=phone]").fill("(502) 555-0123")
    page.locator("input[name=name]").fill("Maria Lopez")
    page.locator("input[name=email]").fill(f"maria.lopez@{LONG_HOST}")
    page.locator("label[for=id_contact_method_0]").click()
    page.locator("input[name=zip_code]").fill("40601")
    page.locator("label[for=id_program_2]").click()
    page.locator("label[for=id_consent]").click()
    page.locator("form.usa-form button[type=submit]").click()
    page.wait_for_url("**/ondemand/help/sent/**")
    survey.record()
    request = HelpRequest.objects.get()
    side_loop_once("ondemand.routing")  # the workers' routing loop takes the new request
    status_path = page.locator(f'a.usa-button[href*="/ondemand/help/{request.pk}/"]').get_attribute("href")
    assert status_path is not None
    status_path = status_path.removeprefix(language)

    # The helper's offer link: Manage Referral, the One Time Passcode, Customer Details.
    offer_path = sms_to(on_demand["helper"].phone, r"https?://[^/\s]+(/\S*ondemand/offer/\S+/)")
    survey.visit(offer_path.removeprefix(language))
    page.locator("main form[action$='/accept/'] button").click()
    page.wait_for_url("**/passcode/")
    survey.record()
    page.locator("input[name=code]").fill(sms_to(on_demand["helper"].phone, r"\b(\d{6})\b"))
    page.locator("main form.usa-form button[type=submit]").click()
    page.wait_for_url("**/details/")
    survey.record()
    survey.visit(status_path)
    survey.visit(status_path + "cancel/")

    # Signed in: the On Demand tab, registration, preferences, time off, referrals and oversight.
    survey.sign_in(admin)
    for path in (
        "/ondemand/",
        "/ondemand/register/contact/",
        "/ondemand/register/verify/",
        "/ondemand/register/schedule/",
        "/ondemand/time-off/",
        "/accounts/my-information/",
        "/ondemand/helpers/",
        "/ondemand/referrals/",
        f"/ondemand/referrals/{request.pk}/",
        "/ondemand/oversight/",
        f"/ondemand/oversight/requests/{request.pk}/reassign/",
    ):
        survey.visit(path)
    survey.sign_in(on_demand["agent"])
    survey.visit("/ondemand/")
    survey.visit("/ondemand/register/agree/")
    survey.sign_in(on_demand["state"])
    survey.visit("/ondemand/oversight/")
    survey.visit("/ondemand/oversight/dashboard/")
    survey.assert_none()
