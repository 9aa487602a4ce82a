"""The issue's done-criterion in a real browser, in English and Spanish, on phone-sized screens: on the
demo data of `make run`, a resident asks for a call back; the request reaches the demo agent, who opens
the offer link from the text message on their phone (Manage Referral), accepts, enters the One Time
Passcode (a wrong one first), sees the Customer Details, taps to call (which logs the call), logs what
happened and completes the referral. axe-core checks every page."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from kynect.accounts.models import User
from kynect.core.worker import side_loop_once
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.demo import DEMO_HELPERS
from kynect.ondemand.models import CallAttempt, HelpRequest, Offer
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)

ALWAYS_OPEN = ",".join(f"{day}=00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
DEMO_AGENT_EMAIL, DEMO_AGENT_PHONE, DEMO_AGENT_ZIP = DEMO_HELPERS[0]

WORDS = {
    "en": {
        "form": "Get a call back about health coverage",
        "sent": "We got your request",
        "manage": "Manage Referral",
        "passcode": "One Time Passcode",
        "wrong": "That passcode is wrong",
        "details": "Customer Details",
        "logged": "Call logged at",
        "call_logged": "Your call is logged.",
        "complete": "Complete",
        "in_progress": "In Progress",
    },
    "es": {
        "form": "Pida que le llamen sobre su cobertura de salud",
        "sent": "Recibimos su solicitud",
        "manage": "Administrar referencia (Manage Referral)",
        "passcode": "Código de un solo uso (One Time Passcode)",
        "wrong": "Ese código es incorrecto",
        "details": "Detalles del cliente (Customer Details)",
        "logged": "Llamada registrada",
        "call_logged": "Su llamada quedó registrada.",
        "complete": "Completa",
        "in_progress": "En curso",
    },
}


@pytest.fixture
def demo_data(settings):
    """What `make run` seeds, with service hours open around the clock so the test runs at any hour."""
    settings.DJANGO_ENV = "demo"
    settings.ONDEMAND_SERVICE_HOURS = ALWAYS_OPEN
    call_command("seed_demo", stdout=io.StringIO())


def heading(site: CheckedPage, text: str) -> None:
    site.page.locator("h1").filter(has_text=text).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at {site.page.viewport_size} on {site.page.url}"


def sms_to(phone: str, pattern: str) -> str:
    for message in reversed(LocmemSmsBackend.outbox):
        match = re.search(pattern, message.body)
        if message.to == phone and match:
            return match.group(1)
    raise AssertionError(f"no text message to the demo agent matching {pattern!r}")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_request_reaches_the_demo_agent_who_accepts_calls_and_completes_it_on_a_phone(
    site: CheckedPage, demo_data: None, lang: str
) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    agent = User.objects.get(email=DEMO_AGENT_EMAIL)
    agent.preferred_language = lang
    agent.save(update_fields=["preferred_language"])

    # The resident asks for a call back, on a 320 px phone, from the demo agent's town.
    site.page.set_viewport_size({"width": 320, "height": 800})
    site.visit(f"{prefix}/ondemand/help/")
    heading(site, words["form"])
    site.page.locator("input[name=phone]").fill("(502) 555-0123")
    site.page.locator("input[name=name]").fill("Maria Lopez")
    site.page.locator("label[for=id_contact_method_0]").click()  # phone call
    site.page.locator("select[name=language]").select_option(lang)
    site.page.locator("input[name=zip_code]").fill(DEMO_AGENT_ZIP)
    site.page.locator("label[for=id_program_2]").click()  # not sure
    site.page.locator("label[for=id_consent]").click()
    site.page.locator("form.usa-form button[type=submit]").click()
    heading(site, words["sent"])
    request = HelpRequest.objects.get()
    side_loop_once("ondemand.routing")  # the workers' routing loop takes the new request
    offer = Offer.objects.get(help_request=request)
    assert offer.helper.user == agent
    assert offer.kind == Offer.Kind.GENERAL

    # The demo agent opens the link in the text message on a 375 px phone: opening it changes nothing.
    site.page.set_viewport_size({"width": 375, "height": 740})
    link = sms_to(DEMO_AGENT_PHONE, r"https?://[^/\s]+(/\S*ondemand/offer/\S+/)")
    assert link.startswith(f"{prefix}/ondemand/offer/{offer.pk}/")
    response = site.visit(link)
    assert response.headers["referrer-policy"] == "same-origin"
    heading(site, words["manage"])
    site.page.get_by_text(DEMO_AGENT_ZIP).first.wait_for()
    assert "Maria" not in site.page.content()
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.PENDING

    # Accept, then the One Time Passcode: a wrong one first, shown in a focused error summary.
    site.page.locator("main form[action$='/accept/'] button").click()
    heading(site, words["passcode"])
    code = sms_to(DEMO_AGENT_PHONE, r"\b(\d{6})\b")
    site.expected_console_errors.append("status of 400")
    site.page.locator("input[name=code]").fill("000000" if code != "000000" else "111111")
    site.page.locator("main form.usa-form button[type=submit]").click()
    site.page.locator(".usa-alert--error").filter(has_text=words["wrong"]).wait_for()
    heading(site, words["passcode"])
    assert site.page.evaluate("() => document.activeElement.classList.contains('usa-alert--error')")
    site.page.locator("input[name=code]").fill(code)
    site.page.locator("main form.usa-form button[type=submit]").click()

    # Customer Details: who to call; tapping the number opens the dialler and logs the call.
    heading(site, words["details"])
    site.page.get_by_text("Maria Lopez").wait_for()
    site.page.locator(".usa-tag").filter(has_text=words["in_progress"]).wait_for()
    # A listener stands in for the phone's dialler: it records the tel: link and keeps the browser from
    # launching it (headless Chromium stops taking input behind its prompt for outside programs).
    site.page.evaluate(
        """() => document.addEventListener("click", (event) => {
            const link = event.target.closest("a[href^='tel:']");
            if (link) { window.dialled = link.href; event.preventDefault(); }
        }, true)"""
    )
    site.page.locator("a[data-ondemand-dial]").click()
    site.page.locator("#dial-status").filter(has_text=words["logged"]).wait_for()
    site.check()
    assert site.page.evaluate("() => window.dialled") == "tel:+15025550123"
    assert CallAttempt.objects.get().result == CallAttempt.Result.DIALLED

    # Log what happened, then Complete.
    site.page.locator("label[for=id_result_0]").click()  # talked with them
    site.page.locator("textarea[name=note]").fill("Helped choose a plan")
    site.page.locator("main form[action$='/call/'] button[type=submit]").click()
    heading(site, words["details"])
    site.page.get_by_text(words["call_logged"]).wait_for()
    site.page.locator("label[for=id_outcome_0]").click()  # applied
    site.page.locator("main form[action$='/complete/'] button[type=submit]").click()
    heading(site, words["details"])
    site.page.locator("#referral-status").filter(has_text=words["complete"]).wait_for()

    request.refresh_from_db()
    assert request.status == HelpRequest.Status.COMPLETE
    assert request.outcome == HelpRequest.Outcome.APPLIED
    assert request.accepted_helper is not None
    assert request.accepted_helper.user == agent
    assert [attempt.result for attempt in CallAttempt.objects.order_by("at")] == ["dialled", "reached"]
