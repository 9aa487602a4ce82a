"""An organization applies in the browser, a state administrator approves it, and its listing shows the
KY Partner badge: in English and Spanish, at 320 and 1280 px, with zero axe-core violations."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client

from kynect.accounts.models import Organization, Role, User
from kynect.accounts.services import training_attest
from kynect.accounts.tests.factories import TEST_PASSWORD, MembershipFactory
from kynect.directory import models
from kynect.directory.search import search_index_update
from kynect.directory.taxonomy import kynect_taxonomies_load
from kynect.directory.tests.factories import DirectoryOrganizationFactory, listed_service
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {
        "apply": "Become a partner",
        "submit": "Apply",
        "find": "Find my listing",
        "received": "Application received",
        "queue": "Partner applications",
        "approve": "Approve",
        "approved": "is approved: a KY Partner now.",
        "badge": "KY Partner",
    },
    "es": {
        "apply": "Hágase socio",
        "submit": "Enviar solicitud",
        "find": "Buscar mi ficha",
        "received": "Solicitud recibida",
        "queue": "Solicitudes de socios",
        "approve": "Aprobar",
        "approved": "está aprobada: ya es Socio de KY.",
        "badge": "Socio de KY",
    },
}


@pytest.fixture
def listing() -> models.ServiceAtLocation:
    kynect_taxonomies_load()  # transactional tests empty every table, the migrated taxonomy included
    found = listed_service(
        name="Food pantries",
        organization=DirectoryOrganizationFactory.create(name="Hazard Community Pantry"),
        category_slugs=["food-pantries"],
    )
    search_index_update()
    return found


def shown(site: CheckedPage, text: str) -> None:
    """Wait for `text`, then check the page: axe-core and no sideways scrolling."""
    site.page.get_by_text(text).first.wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling on {site.page.url}"


def sign_in_as(site: CheckedPage, user: User) -> None:
    client = Client()
    client.force_login(user)
    context = site.page.context
    context.clear_cookies()
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": site.base_url}]
    )


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_apply_then_approval_shows_the_badge(
    site: CheckedPage, listing: models.ServiceAtLocation, lang: str, width: int
) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})

    # Before onboarding: no badge.
    site.visit(f"{prefix}/search/?q=pantries")
    shown(site, "Hazard Community Pantry")
    assert page.get_by_text(words["badge"], exact=True).count() == 0

    # The application, from the sign-in page's link.
    site.visit(f"{prefix}/accounts/login/")
    page.get_by_role("link", name=words["apply"]).click()
    shown(site, words["apply"])
    page.locator("input[name=name]").fill("Hazard Community Pantry")
    page.locator("select[name=organization_type]").select_option("not_for_profit")
    page.locator("select[name=tax_status]").select_option("501c3")
    page.locator("input[name=address_1]").fill("100 Main Street")
    page.locator("input[name=city]").fill("Hazard")
    page.locator("input[name=postal_code]").fill("41701")
    page.locator("input[name=listing_search]").fill("Hazard Community")
    page.get_by_role("button", name=words["find"]).click()
    page.locator("label.usa-radio__label", has_text="Hazard Community Pantry").wait_for()
    site.check()
    assert site.fits_width()
    page.locator("label.usa-radio__label", has_text="Hazard Community Pantry").click()
    page.locator("input[name=first_name]").fill("Ana")
    page.locator("input[name=last_name]").fill("Applicant")
    page.locator("input[name=email]").fill(f"ana.{lang}.{width}@example.org")
    page.locator("input[name=password1]").fill("a-long-and-unusual-passphrase")
    page.locator("input[name=password2]").fill("a-long-and-unusual-passphrase")
    page.locator("label[for=id_agreement]").click()
    page.get_by_role("button", name=words["submit"], exact=True).click()
    page.locator("h1").filter(has_text=words["received"]).wait_for()
    site.check()
    assert site.fits_width()
    organization = Organization.objects.get(name="Hazard Community Pantry")
    assert (organization.status, organization.hsds_organization_id) == (
        "applied",
        listing.service.organization_id,
    )

    # A state administrator approves it from the queue.
    admin = MembershipFactory.create(role=Role.STATE_ADMIN).user
    training_attest(user=admin)
    sign_in_as(site, admin)
    site.visit(f"{prefix}/accounts/onboarding/applications/")
    shown(site, words["queue"])
    page.get_by_role("link", name="Hazard Community Pantry").click()
    page.locator("h1").filter(has_text="Hazard Community Pantry").wait_for()
    site.check()
    assert site.fits_width()
    page.get_by_role("button", name=words["approve"], exact=True).click()
    shown(site, words["approved"])

    # The badge, on the search results and on the service's page.
    site.visit(f"{prefix}/search/?q=pantries")
    shown(site, words["badge"])
    page.get_by_role("link", name=re.compile("Food pantries")).first.click()
    page.locator("h1").filter(has_text="Food pantries").wait_for()
    site.check()
    assert page.get_by_text(words["badge"], exact=True).count() == 1


TRAINING_WORDS = {
    "en": {
        "training": "Privacy and security training",
        "attest": "Attest and continue",
        "invite": "Send invitation",
    },
    "es": {
        "training": "Capacitación sobre privacidad y seguridad",
        "attest": "Confirmar y continuar",
        "invite": "Enviar invitación",
    },
}


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_training_after_sign_in_and_the_state_users_page(site: CheckedPage, lang: str, width: int) -> None:
    prefix = "" if lang == "en" else "/es"
    words = TRAINING_WORDS[lang]
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    partner = MembershipFactory.create(role=Role.PARTNER_USER).user
    site.expected_console_errors.append("status of 400")  # the forms below are sent wrong on purpose

    site.visit(f"{prefix}/accounts/login/")
    page.locator("input[name=username]").fill(partner.email)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.locator("form.usa-form button[type=submit]").click()
    page.locator("h1").filter(has_text=words["training"]).wait_for()
    site.check()
    assert site.fits_width()
    page.get_by_role("button", name=words["attest"]).click()  # not ticked: told to tick it
    page.locator(".usa-error-message").wait_for()
    site.check()
    page.locator("label[for=id_attest]").click()
    page.get_by_role("button", name=words["attest"]).click()
    page.wait_for_url(re.compile(r".*/(es/)?$"))
    site.check()
    assert partner.training_attestations.count() == 1

    admin = MembershipFactory.create(role=Role.STATE_ADMIN).user
    training_attest(user=admin)
    sign_in_as(site, admin)
    site.visit(f"{prefix}/accounts/onboarding/state-users/")
    assert site.fits_width()
    page.locator("input[name=email]").fill("not an email")
    page.get_by_role("button", name=words["invite"]).click()
    page.locator(".usa-error-message").first.wait_for()
    site.check()
    assert site.fits_width()
