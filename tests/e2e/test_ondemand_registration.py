"""Registering for kynect On Demand in a real browser at 320 px, in English and Spanish: the On Demand
FAQ's three steps, the mobile code, and My Information → Additional Preferences → Edit."""

from __future__ import annotations

import re

import pytest

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import TEST_PASSWORD, MembershipFactory
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import Helper
from kynect.ondemand.tests.factories import DoiLicenceFactory
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)

HEADINGS = {
    "en": {
        "home": "kynect On Demand",
        "agree": "Agree to Register",
        "contact": "Preferred Contact Information",
        "verify": "Verify your mobile phone",
        "schedule": "Schedule & Availability",
        "registered": "You are registered for kynect On Demand.",
        "my_information": "My Information",
    },
    "es": {
        "home": "kynect On Demand",
        "agree": "Aceptar registrarse",
        "contact": "Información de contacto preferida",
        "verify": "Verifique su teléfono móvil",
        "schedule": "Horario y disponibilidad",
        "registered": "Usted está registrado en kynect On Demand.",
        "my_information": "Mi información",
    },
}


def heading(site: CheckedPage, text: str) -> None:
    site.page.locator("h1").filter(has_text=text).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at 320 px on {site.page.url}"


def sign_in(site: CheckedPage, email: str, prefix: str) -> None:
    site.visit(f"{prefix}/accounts/login/")
    site.page.locator("input[name=username]").fill(email)
    site.page.locator("input[name=password]").fill(TEST_PASSWORD)
    site.page.locator("form.usa-form button[type=submit]").click()
    site.page.wait_for_url(re.compile(r".*/(es/)?$"))
    site.check()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_agent_registers_in_three_steps_at_320px(site: CheckedPage, lang: str) -> None:
    prefix = "" if lang == "en" else "/es"
    words = HEADINGS[lang]
    site.page.set_viewport_size({"width": 320, "height": 800})
    agent = MembershipFactory.create(role=Role.INSURANCE_AGENT).user
    agent.preferred_language = lang
    agent.save()
    DoiLicenceFactory.create(npn="7777777", email=agent.email, phone="+15025550123")
    sign_in(site, agent.email, prefix)

    # The tab, in the mobile menu.
    site.page.locator(".usa-menu-btn").click()
    site.page.locator(".usa-nav.is-visible").wait_for()
    site.page.locator(f'a.usa-nav__link[href="{prefix}/ondemand/"]').click()
    heading(site, words["home"])

    # 1. Agree to Register: bad input first, then the NPN and the box.
    site.page.locator(f'a.usa-button[href="{prefix}/ondemand/register/agree/"]').click()
    heading(site, words["agree"])
    site.expected_console_errors.append("status of 400")  # bad input is answered with 400 Bad Request
    site.page.locator("input[name=npn]").fill("123")
    site.page.locator("form.usa-form button[type=submit]").click()
    site.page.locator(".usa-alert--error").wait_for()
    heading(site, words["agree"])
    site.page.locator("input[name=npn]").fill("7777777")
    site.page.locator("label[for=id_agree]").click()
    site.page.locator("form.usa-form button[type=submit]").click()

    # 2. Preferred Contact Information, starting from the DOI's details, then the code.
    heading(site, words["contact"])
    assert site.page.locator("input[name=phone]").input_value() == "+15025550123"
    site.page.locator("input[name=phone]").fill("(502) 555-0142")
    site.page.locator("input[name=email]").fill("andre.agent@example.org")
    site.page.locator("form.usa-form button[type=submit]").click()
    heading(site, words["verify"])
    code = re.search(r"\b(\d{6})\b", LocmemSmsBackend.outbox[-1].body)
    assert code is not None
    site.page.locator("input[name=code]").fill(code.group(1))
    site.page.locator("form.usa-form button[type=submit]").click()

    # 3. Schedule & Availability.
    heading(site, words["schedule"])
    site.page.locator("input[name=home_zip]").fill("40601")
    site.page.locator("label[for=id_all_counties]").click()
    site.page.locator("label[for=id_languages_0]").click()
    site.page.locator("label[for=id_programs_0]").click()
    site.page.locator("input[name=mon_start]").fill("09:00")
    site.page.locator("input[name=mon_end]").fill("17:00")
    site.page.locator("input[name=mon_break_start]").fill("12:00")
    site.page.locator("input[name=mon_break_end]").fill("12:30")
    site.page.locator("form.usa-form button[type=submit]").click()
    heading(site, words["home"])
    site.page.get_by_text(words["registered"]).first.wait_for()

    helper = Helper.objects.get(user=agent)
    assert helper.status == Helper.Status.REGISTERED
    assert helper.phone == "+15025550142"
    assert helper.counties.count() == 120

    # Later: the name in the upper right → My Information → Additional Preferences → Edit.
    site.page.locator(".usa-menu-btn").click()
    site.page.locator(".usa-nav.is-visible").wait_for()
    site.page.locator(".usa-nav__secondary-links a").click()
    heading(site, words["my_information"])
    site.page.locator(f'a[href="{prefix}/ondemand/register/schedule/"]').click()
    heading(site, words["schedule"])
    assert site.page.locator("input[name=mon_start]").input_value() == "09:00"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_agency_admin_marks_a_kynector_active_and_a_helper_adds_time_off(
    site: CheckedPage, lang: str
) -> None:
    from kynect.ondemand.services.deregistration import helper_agency_active_set
    from kynect.ondemand.services.helpers import helper_start
    from kynect.ondemand.tests.conftest import register

    prefix = "" if lang == "en" else "/es"
    site.page.set_viewport_size({"width": 320, "height": 800})
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN)
    kynector = MembershipFactory.create(role=Role.KYNECTOR, organization=admin.organization)
    state_admin = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)
    helper_agency_active_set(actor=state_admin.user, membership=admin, active=True)
    register(helper_start(user=admin.user))

    sign_in(site, admin.user.email, prefix)
    site.visit(f"{prefix}/ondemand/helpers/")
    assert site.fits_width()
    site.page.locator(f'form[action="{prefix}/ondemand/helpers/{kynector.pk}/active/"] button').click()
    site.page.locator(".usa-alert--success").wait_for()
    site.check()
    assert Helper.objects.get(user=kynector.user).agency_active

    site.visit(f"{prefix}/ondemand/time-off/")
    assert site.fits_width()
    site.page.locator("input[name=starts_at]").fill("2099-07-03T09:00")
    site.page.locator("input[name=ends_at]").fill("2099-07-05T17:00")
    site.page.locator("form.usa-form button[type=submit]").click()
    site.page.locator(".usa-alert--success").wait_for()
    site.check()
    assert Helper.objects.get(user=admin.user).time_off.count() == 1

    site.visit(f"{prefix}/accounts/my-information/")
    assert site.fits_width()
    site.visit(f"{prefix}/ondemand/")
    assert site.fits_width()
