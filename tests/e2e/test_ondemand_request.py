"""A resident asks kynect On Demand for a call back on a 320 px phone, in English and Spanish: the form
(bad input first), the confirmation, the status page, and the cancel link from the text message."""

from __future__ import annotations

import re

import pytest

from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import HelpRequest
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {
        "form": "Get a call back about health coverage",
        "sent": "We got your request",
        "status": "Your request for a call back",
        "cancel": "Cancel your request",
        "pending": "Pending",
        "cancelled": "Cancelled",
        "not_kentucky": "is not a Kentucky ZIP code",
        "language": "Spanish",
    },
    "es": {
        "form": "Pida que le llamen sobre su cobertura de salud",
        "sent": "Recibimos su solicitud",
        "status": "Su solicitud de llamada",
        "cancel": "Cancele su solicitud",
        "pending": "Pendiente",
        "cancelled": "Cancelada",
        "not_kentucky": "no es un código postal de Kentucky",
        "language": "Español",
    },
}


def heading(site: CheckedPage, text: str) -> None:
    site.page.locator("h1").filter(has_text=text).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling at 320 px on {site.page.url}"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_resident_asks_for_a_call_back_and_cancels_at_320px(site: CheckedPage, lang: str) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    site.page.set_viewport_size({"width": 320, "height": 800})

    site.visit(f"{prefix}/ondemand/help/")
    heading(site, words["form"])

    # Bad input first: an Ohio ZIP code is refused with a clear message and nothing is made.
    site.expected_console_errors.append("status of 400")
    site.page.locator("input[name=phone]").fill("(502) 555-0123")
    site.page.locator("input[name=name]").fill("Maria Lopez")
    site.page.locator("label[for=id_contact_method_1]").click()  # text message
    site.page.locator("select[name=language]").select_option("es")
    site.page.locator("input[name=zip_code]").fill("45202")
    site.page.locator("label[for=id_program_2]").click()  # not sure
    site.page.locator("label[for=id_consent]").click()
    site.page.locator("form.usa-form button[type=submit]").click()
    site.page.locator(".usa-alert--error").wait_for()
    heading(site, words["form"])
    site.page.get_by_text(words["not_kentucky"]).first.wait_for()
    assert not HelpRequest.objects.exists()

    # The form keeps what was typed; fix the ZIP code and send.
    assert site.page.locator("input[name=phone]").input_value() == "(502) 555-0123"
    site.page.locator("input[name=zip_code]").fill("40601")
    if not site.page.locator("#id_consent").is_checked():
        site.page.locator("label[for=id_consent]").click()
    site.page.locator("form.usa-form button[type=submit]").click()
    heading(site, words["sent"])
    request = HelpRequest.objects.get()
    assert request.status == HelpRequest.Status.PENDING
    assert request.message_language == lang
    assert request.language == "es"

    # The confirmation links to the status page.
    site.page.locator(f'a.usa-button[href^="{prefix}/ondemand/help/{request.pk}/"]').click()
    heading(site, words["status"])
    site.page.locator(".usa-tag").filter(has_text=words["pending"]).wait_for()

    # The cancel link in the text message: opening it changes nothing; the button cancels.
    (message,) = LocmemSmsBackend.outbox
    cancel = re.search(r"https?://\S+/cancel/", message.body)
    assert cancel is not None, message.body
    cancel_path = "/" + cancel.group(0).split("://", 1)[1].split("/", 1)[1]
    assert cancel_path.startswith(f"{prefix}/ondemand/help/{request.pk}/")
    site.visit(cancel_path)
    heading(site, words["cancel"])
    assert HelpRequest.objects.get().status == HelpRequest.Status.PENDING
    site.page.locator("main form button[type=submit]").click()
    heading(site, words["status"])
    site.page.locator(".usa-tag").filter(has_text=words["cancelled"]).wait_for()
    assert HelpRequest.objects.get().status == HelpRequest.Status.CANCELLED
