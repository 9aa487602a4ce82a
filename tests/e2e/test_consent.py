"""Consent in a real browser, in English and Spanish at 320 and 1280 px: a partner holding a referral
asks the resident for consent by text; the resident opens the link from the text message and grants it
without signing in; opening the link again says it was answered; the partner opens the Resident Detail
Screen; the resident revokes consent in My Plan (and prints it); the partner's next request shows the
limited view; a state administrator reads the access log. Every
page is axe-checked and fits the width."""

from __future__ import annotations

import re

import pytest

from kynect.accounts.models import Role
from kynect.core import clock
from kynect.notifications.delivery import messages_deliver
from kynect.notifications.models import OutboundMessage
from kynect.notifications.sms import LocmemSmsBackend
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.models import Consent, Resident
from kynect.residents.services import consent_grant_pre_consent
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_registration import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"consent": "Consent:", "text": "Text message", "your": "Your consent", "grant": "Grant",
           "granted": "Granted", "answered": "already answered", "revoke_note": "How the resident asked",
           "log": "Who looked at this profile", "plan": "My Plan"},
    "es": {"consent": "Consentimiento:", "text": "Mensaje de texto", "your": "Su consentimiento",
           "grant": "Otorgar", "granted": "Otorgado", "answered": "ya fue respondido",
           "revoke_note": "Cómo pidió el residente", "log": "Quién vio este perfil", "plan": "Mi Plan"},
}  # fmt: skip


def shown(site: CheckedPage, text: str) -> None:
    site.page.locator("h1").filter(has_text=text).wait_for()
    site.check()
    assert site.fits_width(), f"horizontal scrolling on {site.page.url}"


@pytest.mark.parametrize(("lang", "width"), [("en", 320), ("es", 320), ("en", 1280), ("es", 1280)])
def test_a_partner_asks_by_text_and_the_resident_grants_from_the_link(
    site: CheckedPage, lang: str, width: int
) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    sender, receiver = partner(), partner()
    resident = referral(sender, receiver, resident=resident_input(preferred_language=lang)).resident
    own = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=own)

    sign_in(site, receiver.user.email, prefix)
    site.visit(f"{prefix}/residents/{resident.pk}/consent/")
    shown(site, words["consent"])
    page.locator("label[for=id_request-channel_0]").click()  # text message
    page.locator("form:has(input[value=request]) button[type=submit]").click()
    page.locator(".usa-alert--success").wait_for()
    shown(site, words["consent"])

    message = OutboundMessage.objects.get(template="residents/consent_request")
    messages_deliver(message_ids=[str(message.pk)])
    match = re.search(
        r"https?://[^/\s]+(/\S*consent/[0-9a-f-]{36}/[^/\s]+/)", LocmemSmsBackend.outbox[-1].body
    )
    assert match, LocmemSmsBackend.outbox[-1].body

    # The resident, not signed in, opens the link and grants.
    page.context.clear_cookies()
    site.visit(match.group(1))
    shown(site, words["your"])
    page.get_by_role("button", name=words["grant"]).click()
    page.locator(".usa-alert--success").wait_for()
    shown(site, words["your"])
    assert Consent.objects.get().status == Consent.Status.ACTIVE
    site.visit(match.group(1))
    page.locator(".usa-alert").filter(has_text=words["answered"]).wait_for()
    shown(site, words["your"])

    # The partner opens the Resident Detail Screen: the full record now.
    sign_in(site, receiver.user.email, prefix)
    site.visit(f"{prefix}/residents/{resident.pk}/")
    shown(site, resident.first_name)
    page.locator("#risk-heading").wait_for()
    page.locator("#add-note").wait_for()
    # Its "View All" pages: the resident's plan as staff see it, and every note.
    for part in ("plan", "notes"):
        site.visit(f"{prefix}/residents/{resident.pk}/{part}/")
        shown(site, resident.first_name)

    # The partner's consent page shows it granted.
    site.visit(f"{prefix}/residents/{resident.pk}/consent/")
    shown(site, words["consent"])
    assert words["granted"] in page.locator(".kynect-facts").first.inner_text()

    # The resident signs in and revokes it in My Plan, which also shows who looked.
    page.context.clear_cookies()
    sign_in(site, own.email, prefix)
    site.visit(f"{prefix}/my-plan/")
    shown(site, words["plan"])
    assert receiver.organization.name in page.locator("#looks-heading + ul").inner_text()
    page.locator("form:has(input[value=revoke]) button[type=submit]").click()
    page.locator(".usa-alert--success").wait_for()
    shown(site, words["plan"])
    assert Consent.objects.get().status == Consent.Status.INACTIVE
    site.visit(f"{prefix}/my-plan/print/")
    shown(site, words["plan"])

    page.context.clear_cookies()
    sign_in(site, receiver.user.email, prefix)
    # The next request shows the limited view.
    site.visit(f"{prefix}/residents/{resident.pk}/")
    shown(site, resident.first_name)
    assert page.locator("#risk-heading").count() == 0
    assert page.locator(f'a[href$="/residents/{resident.pk}/consent/"]').count() == 1

    # A state administrator reads who looked at the resident's profile.
    page.context.clear_cookies()
    sign_in(site, member(None, Role.STATE_ADMIN).email, prefix)
    site.visit(f"{prefix}/residents/{resident.pk}/access-log/")
    shown(site, words["log"])
    assert receiver.user.email in page.locator("table").inner_text()


PART2_WORDS = {
    "en": {"sign": "To grant, sign by typing your full name", "sign_button": "Sign and grant"},
    "es": {"sign": "Para otorgarlo, firme escribiendo su nombre completo", "sign_button": "Firmar y otorgar"},
}


@pytest.mark.parametrize(("lang", "width"), [("en", 320), ("es", 320), ("en", 1280), ("es", 1280)])
def test_a_part2_consent_is_asked_signed_and_shown_with_its_notice(
    site: CheckedPage, lang: str, width: int
) -> None:
    """A partner with a general consent asks for a Part 2 consent, with its purpose and end; the resident
    reads the terms from the text's link and signs; the partner's Resident Detail Screen then counts the
    resident's substance use referral, under the §2.32 notice; My Plan and its print show both."""
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang] | PART2_WORDS[lang]
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    sender, receiver = partner(), partner()
    resident = referral(sender, receiver, resident=resident_input(preferred_language=lang)).resident
    referral(partner(), partner(), resident=resident_input(preferred_language=lang), need="substance_abuse")
    own = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=own)
    consent_grant_pre_consent(
        resident=resident, organization=receiver.organization, actor=receiver.user, now=clock.now()
    )

    sign_in(site, receiver.user.email, prefix)
    site.visit(f"{prefix}/residents/{resident.pk}/")
    shown(site, resident.first_name)
    assert page.locator("[data-part2-notice]").count() == 0
    site.visit(f"{prefix}/residents/{resident.pk}/consent/")
    shown(site, words["consent"])
    page.locator("label[for=id_part2_request-channel_0]").click()  # text message
    page.locator("#id_part2_request-purpose").fill("Recovery housing")
    page.locator("form:has(input[value=part2_request]) button[type=submit]").click()
    page.locator(".usa-alert--success").wait_for()
    shown(site, words["consent"])

    message = OutboundMessage.objects.get(template="residents/consent_request")
    messages_deliver(message_ids=[str(message.pk)])
    match = re.search(
        r"https?://[^/\s]+(/\S*consent/[0-9a-f-]{36}/[^/\s]+/)", LocmemSmsBackend.outbox[-1].body
    )
    assert match, LocmemSmsBackend.outbox[-1].body

    page.context.clear_cookies()
    site.visit(match.group(1))
    shown(site, words["your"])
    assert "Recovery housing" in page.locator("main").inner_text()
    site.expected_console_errors.append("status of 400")  # the unsigned answer, refused
    page.get_by_role("button", name=words["sign_button"]).click()
    page.locator(".usa-error-message").wait_for()
    shown(site, words["your"])
    page.get_by_label(words["sign"]).fill("Ana Reyes")
    page.get_by_role("button", name=words["sign_button"]).click()
    page.locator(".usa-alert--success").wait_for()
    shown(site, words["your"])
    assert Consent.objects.get(kind=Consent.Kind.PART2).signature == "Ana Reyes"

    sign_in(site, receiver.user.email, prefix)
    site.visit(f"{prefix}/residents/{resident.pk}/")
    shown(site, resident.first_name)
    page.locator("[data-part2-notice]").wait_for()

    page.context.clear_cookies()
    sign_in(site, own.email, prefix)
    for path in ("/my-plan/", "/my-plan/print/"):
        site.visit(f"{prefix}{path}")
        shown(site, words["plan"])
        page.locator("[data-part2-notice]").wait_for()
