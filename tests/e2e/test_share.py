"""Sharing a listing in the browser: the page in both languages at 320 px, sending, copying the link."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core import mail

from kynect.directory.tests.factories import listed_service
from kynect.notifications.models import OutboundMessage
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)


def share_path(service_id: object, language: str = "") -> str:
    return f"{language}/services/{service_id}/share/"


@pytest.mark.parametrize("language", ["", "/es"])
def test_the_share_page_at_320px(site: CheckedPage, language: str) -> None:
    listing = listed_service(name="Food pantry")
    site.page.set_viewport_size({"width": 320, "height": 800})
    response = site.visit(share_path(listing.service_id, language) + f"?location={listing.location_id}")
    assert response.status == 200
    assert site.page.get_attribute("html", "lang") == ("es" if language else "en")
    assert site.page.locator("h1").count() == 1
    assert "Food pantry" in site.page.locator("h1").inner_text()
    assert site.fits_width(), "horizontal scrolling at 320px on the share page"
    detail = f"{django_settings.SITE_URL}{language}/services/{listing.service_id}/"
    link = f"{detail}?location={listing.location_id}"
    assert site.page.locator("#share-link").input_value() == link
    # With JavaScript the copy button is shown; every control fits the narrow screen.
    assert site.page.locator("[data-copy-link]").is_visible()
    assert site.fits_width()


def test_sending_by_email_through_the_form(site: CheckedPage) -> None:
    listing = listed_service(name="Food pantry")
    site.page.set_viewport_size({"width": 320, "height": 800})
    site.visit(share_path(listing.service_id))

    # A mistake first: the error is shown with the field, and nothing is sent.
    site.expected_console_errors.append("status of 400")
    site.page.get_by_label("Email address").fill("jane.doe@")
    site.page.get_by_role("button", name="Send email").click()
    site.page.get_by_text("Enter an email address, like name@example.com.").wait_for()
    site.check()
    assert site.page.get_by_role("alert").first.is_visible()
    assert site.fits_width()
    assert OutboundMessage.objects.count() == 0

    site.page.get_by_label("Email address").fill("jane.doe@example.org")
    site.page.get_by_role("button", name="Send email").click()
    site.page.get_by_text("We are sending the listing by email to j•••@example.org.").wait_for()
    site.check()
    assert site.fits_width()
    assert site.page.get_by_label("Email address").input_value() == ""

    message = OutboundMessage.objects.get()
    assert (message.channel, message.recipient, message.language) == ("email", "jane.doe@example.org", "en")
    assert len(mail.outbox) == 1
    assert f"{django_settings.SITE_URL}/services/{listing.service_id}/" in str(mail.outbox[0].body)


def test_sending_by_text_message_from_the_spanish_page(site: CheckedPage) -> None:
    listing = listed_service(name="Despensa de alimentos")
    site.page.set_viewport_size({"width": 320, "height": 800})
    site.visit(share_path(listing.service_id, "/es"))
    site.page.locator("#id_phone").fill("(859) 555-0147")
    site.page.locator("form:has(#id_phone) button[type=submit]").click()
    site.page.locator(".usa-alert--success").get_by_text("•••-•••-0147", exact=False).wait_for()
    site.check()
    assert site.page.get_attribute("html", "lang") == "es"
    message = OutboundMessage.objects.get()
    assert (message.channel, message.recipient, message.language) == ("sms", "+18595550147", "es")
    assert f"{django_settings.SITE_URL}/es/services/{listing.service_id}/" in message.body


def test_a_recipient_over_the_limit_is_told_when_to_try_again(site: CheckedPage, settings) -> None:
    settings.DIRECTORY_SHARE_LIMIT_PER_RECIPIENT = 1
    listing = listed_service(name="Food pantry")
    site.visit(share_path(listing.service_id))
    for _ in range(2):
        site.page.get_by_label("Email address").fill("jane.doe@example.org")
        site.page.get_by_role("button", name="Send email").click()
        site.page.wait_for_load_state("load")
        site.check()
    site.expected_console_errors.append("status of 429")
    alert = site.page.get_by_role("alert")
    assert "already been sent too many listings" in alert.inner_text()
    assert "Try again in" in alert.inner_text()
    assert OutboundMessage.objects.count() == 1


def test_the_copy_link_button_copies_and_says_so(site: CheckedPage) -> None:
    listing = listed_service(name="Food pantry")
    site.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
    site.visit(share_path(listing.service_id))
    status = site.page.locator("#share-link-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.inner_text() == ""

    site.page.get_by_role("button", name="Copy link").click()
    site.page.get_by_text("Link copied").wait_for()
    assert status.inner_text() == "Link copied"
    copied = site.page.evaluate("() => navigator.clipboard.readText()")
    assert copied == f"{django_settings.SITE_URL}/services/{listing.service_id}/"
    site.check()
