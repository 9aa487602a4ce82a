"""A closed-loop referral in a real browser, in English at 320 px and in Spanish at 1280 px: a partner
searches, clicks Connect and refers a new resident; the receiving partner opens the link from the
email, accepts, and closes with "No" and a reason (after forgetting the reason once); the sender sees it
Closed in the Outbox and counted on their dashboard. Every page is axe-checked and fits the width."""

from __future__ import annotations

import re

import pytest

from kynect.directory.search import search_index_update
from kynect.directory.tests.factories import listed_service
from kynect.notifications.models import OutboundMessage
from kynect.referrals.models import Referral
from kynect.referrals.tests.factories import partner
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_registration import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {
        "connect": "Connect with",
        "referral": "Referral to",
        "experience": "Tell us about your experience",
        "reason": "Choose the reason it was not provided.",
        "closed": "Closed",
        "outbox": "Outbox",
        "inbox": "Inbox",
        "dashboard": "Referral dashboard",
    },
    "es": {
        "connect": "Conectar con",
        "referral": "Referencia a",
        "experience": "Cuéntenos sobre su experiencia",
        "reason": "Elija el motivo por el que no se brindó.",
        "closed": "Cerrado",
        "outbox": "Bandeja de salida",
        "inbox": "Bandeja de entrada",
        "dashboard": "Panel de referencias",
    },
}


def shown(site: CheckedPage, text: str) -> None:
    site.page.locator("h1").filter(has_text=text).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling on {site.page.url}"


@pytest.mark.parametrize(("lang", "width"), [("en", 320), ("es", 1280)])
def test_a_referral_from_connect_to_closed(site: CheckedPage, lang: str, width: int) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    site.page.set_viewport_size({"width": width, "height": 900})
    sender, receiver = partner(), partner()
    receiver.user.preferred_language = lang
    receiver.user.save(update_fields=["preferred_language"])
    at = listed_service(name="Harvest Table Pantry", organization=receiver.service.organization)
    search_index_update()

    # Someone not signed in who clicks Connect gets the service's own contact options and a sign-in.
    site.visit(f"{prefix}/search/?q=Harvest+Table")
    site.page.locator(f'a[href*="/{at.service_id}/"]').filter(
        has_text="Connect" if lang == "en" else "Conectar"
    ).first.click()
    site.page.locator("#connect").wait_for()
    site.check()
    assert site.fits_width()
    sign_in_link = site.page.locator('#connect a[href*="/accounts/login/?next="]')
    assert "referrals/new/%3Fservice%3D" in (sign_in_link.get_attribute("href") or "")

    # The sender searches and clicks Connect.
    sign_in(site, sender.user.email, prefix)
    site.visit(f"{prefix}/search/?q=Harvest+Table")
    site.page.locator(f'a[href*="/referrals/new/?service={at.service_id}"]').first.click()
    shown(site, words["connect"])
    page = site.page
    page.locator("input[name=first_name]").fill("Rosa")
    page.locator("input[name=last_name]").fill("Delgado")
    page.locator("input[name=birth_date]").fill("1984-03-09")
    page.locator("input[name=mobile_phone]").fill("(502) 555-0142")
    page.locator("input[name=email]").fill("rosa@example.org")
    page.locator("select[name=preferred_language]").select_option(lang)
    page.locator("input[name=postal_code]").fill("40601")
    page.locator("select[name=need]").select_option("food")
    page.locator("textarea[name=note]").fill("Two children; no car.")
    page.locator("label[for=id_pre_consent]").click()
    page.locator("form.usa-form button[type=submit]").click()
    shown(site, words["referral"])
    made = Referral.objects.get()
    assert made.resident.first_name == "Rosa"

    # The receiver opens the link from the email, accepts and closes.
    site.page.context.clear_cookies()
    email = OutboundMessage.objects.get(recipient=receiver.user.email, template="referrals/referral_received")
    match = re.search(r"https?://[^/\s]+(/\S*referrals/[0-9a-f-]{36}/)", email.body)
    assert match, email.body
    sign_in(site, receiver.user.email, prefix)
    site.visit(match.group(1))
    shown(site, words["referral"])
    page.locator(f'form[action$="/referrals/{made.pk}/act/accept/"] button').click()
    page.locator(".usa-alert--success").wait_for()
    shown(site, words["referral"])
    site.visit(f"{prefix}/referrals/inbox/")
    shown(site, words["inbox"])
    page.locator(f'a[href$="/referrals/{made.pk}/"]').click()
    shown(site, words["referral"])
    page.locator(f'a[href$="/referrals/{made.pk}/close/"]').click()
    shown(site, words["experience"])
    page.locator("label[for=id_experience_1]").click()  # thumbs down
    page.locator("label[for=id_resource_provided_1]").click()  # No
    site.expected_console_errors.append("status of 400")
    page.locator("form.usa-form button[type=submit]").click()
    page.locator(".usa-error-message").filter(has_text=words["reason"]).wait_for()
    shown(site, words["experience"])
    page.locator("select[name=reason]").select_option("too_far")
    page.locator("form.usa-form button[type=submit]").click()
    page.locator(".usa-alert--success").wait_for()
    shown(site, words["referral"])
    made.refresh_from_db()
    assert (made.status, made.not_provided_reason) == ("failed", "too_far")

    # The sender sees it Closed in the Outbox, at both widths.
    site.page.context.clear_cookies()
    sign_in(site, sender.user.email, prefix)
    site.visit(f"{prefix}/referrals/outbox/")
    shown(site, words["outbox"])
    row = page.locator("tbody tr").filter(has_text="Rosa Delgado")
    assert words["closed"] in row.inner_text()
    site.page.set_viewport_size({"width": 1600 - width, "height": 900})
    site.check()
    assert site.fits_width()

    # And on their organization's dashboard: one referral created, its outcome counted.
    site.page.set_viewport_size({"width": width, "height": 900})
    site.visit(f"{prefix}/referrals/dashboard/")
    shown(site, words["dashboard"])
    volume = page.locator('section[aria-labelledby="chart-volume"] tbody tr')
    assert volume.nth(0).locator("td").inner_text() == "1"  # created
    assert volume.nth(1).locator("td").inner_text() == "0"  # received


@pytest.mark.parametrize(("lang", "width"), [("en", 320), ("es", 1280)])
def test_a_signed_in_resident_completes_their_profile_and_refers_themselves(
    site: CheckedPage, lang: str, width: int
) -> None:
    from kynect.accounts.models import Role
    from kynect.referrals.tests.factories import member

    prefix = "" if lang == "en" else "/es"
    site.page.set_viewport_size({"width": width, "height": 900})
    receiver = partner()
    at = listed_service(name="Harvest Table Pantry", organization=receiver.service.organization)
    search_index_update()
    resident = member(None, Role.RESIDENT)
    sign_in(site, resident.email, prefix)
    site.visit(f"{prefix}/referrals/new/?service={at.service_id}")
    shown(site, WORDS[lang]["connect"])
    page = site.page
    assert page.locator("input[name=email]").input_value() == resident.email
    page.locator("input[name=first_name]").fill("Lena")
    page.locator("input[name=last_name]").fill("Ortiz")
    page.locator("input[name=birth_date]").fill("1979-11-02")
    page.locator("input[name=postal_code]").fill("40601")
    page.locator("select[name=preferred_contact_method]").select_option("email")
    page.locator("select[name=need]").select_option("food")
    page.locator("form.usa-form button[type=submit]").click()
    shown(site, WORDS[lang]["referral"])
    made = Referral.objects.get()
    assert (made.resident.user_id, made.sending_organization_id) == (resident.pk, None)
