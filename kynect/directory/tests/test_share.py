"""Sharing a listing by email, by text message or by its link: the service and the page."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.urls import reverse

from kynect.core.models import RateLimitBucket
from kynect.core.tests.digits import ARABIC_INDIC, written_in
from kynect.directory.models import Address, Location, Phone, Service, ServiceAtLocation
from kynect.directory.services import (
    SMS_MAX_CHARS,
    ShareLimitExceededError,
    listing_summary,
    recipient_mask,
    service_share,
)
from kynect.directory.tests.factories import AddressFactory, LocationFactory, ServiceFactory, listed_service
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import inbound_sms_handle, sms_opt_out
from kynect.notifications.sms import LocmemSmsBackend

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 15, 0, 10, tzinfo=UTC)  # 10 seconds into an hour, 15 hours into a UTC day
EMAIL = "jane.doe@example.org"
PHONE = "(859) 555-0147"


@pytest.fixture
def listing() -> ServiceAtLocation:
    return listed_service(name="Food pantry", organization=None, phone="(502) 555-0100")


@pytest.fixture(autouse=True)
def _fixed_time(time_machine) -> None:
    time_machine.move_to(T0, tick=False)


def share_path(service: Service, language: str = "") -> str:
    return f"{language}/services/{service.pk}/share/"


def detail_link(settings, service: Service, language: str = "", location: Location | None = None) -> str:
    query = f"?location={location.pk}" if location is not None else ""
    return f"{settings.SITE_URL}{language}/services/{service.pk}/{query}"


def share_by_email(client, service: Service, email: str = EMAIL, path: str | None = None, **extra):
    return client.post(path or share_path(service), {"channel": "email", "email": email}, **extra)


def share_by_sms(client, service: Service, phone: str = PHONE, path: str | None = None, **extra):
    return client.post(path or share_path(service), {"channel": "sms", "phone": phone}, **extra)


def counters() -> int:
    return int(RateLimitBucket.objects.aggregate(total=Sum("count"))["total"] or 0)


def page_text(response) -> str:
    return unescape(response.content.decode())


# --- The page ---------------------------------------------------------------------------------------


def test_the_url(listing):
    service = listing.service
    assert reverse("directory:service_share", kwargs={"service_id": service.pk}) == share_path(service)


def test_the_page_shows_the_listing_the_link_and_both_forms(client, settings, listing):
    service = listing.service
    response = client.get(share_path(service))
    assert response.status_code == 200
    html = page_text(response)
    assert re.findall(r"<h1[ >]", html) == ["<h1>"]
    assert "<h1>Share Food pantry</h1>" in html
    assert service.organization.name in html
    assert '<a href="tel:+15025550100">(502) 555-0100</a>' in html
    assert "100 Main St, Frankfort, KY 40601" in html
    link = detail_link(settings, service)
    assert f'value="{link}"' in html
    assert re.search(r'<input class="usa-input" id="share-link"[^>]* readonly', html)
    assert '<label class="usa-label" for="share-link">' in html
    # Without JavaScript the copy button stays hidden; the script that shows it is a static file.
    assert re.search(r"<button[^>]*hidden[^>]*data-copy-link=\"share-link\"", html)
    assert 'role="status" aria-live="polite"' in html
    assert "/static/js/copy-link.js" in html
    assert '<label class="usa-label" for="id_email">Email address</label>' in html
    assert '<label class="usa-label" for="id_phone">Mobile phone number</label>' in html
    assert 'name="channel" value="email"' in html
    assert 'name="channel" value="sms"' in html
    assert f'action="{share_path(service)}#share-email"' in html
    assert f'action="{share_path(service)}#share-sms"' in html


def test_a_location_of_the_service_is_carried_into_the_link_and_the_form(client, settings, listing):
    service = listing.service
    other_place = LocationFactory.create(organization=service.organization)
    AddressFactory.create(location=other_place, address_1="9 Elm St", city="Paris", postal_code="40361")
    ServiceAtLocation.objects.create(service=service, location=other_place)

    response = client.get(share_path(service), {"location": str(other_place.pk)})
    html = page_text(response)
    assert f'value="{detail_link(settings, service, location=other_place)}"' in html
    assert f'action="{share_path(service)}?location={other_place.pk}#share-sms"' in html
    assert "9 Elm St, Paris, KY 40361" in html
    assert "100 Main St" not in html


@pytest.mark.parametrize("location", ["not-a-uuid", "5b0f3e0e-7a51-4d0c-9d7e-1f7c1d2c9a10", "other-service"])
def test_a_location_that_is_not_the_services_is_left_out(client, settings, listing, location):
    service = listing.service
    if location == "other-service":
        location = str(listed_service(name="Clinic").location_id)
    response = client.get(share_path(service), {"location": location})
    assert response.status_code == 200
    html = page_text(response)
    assert f'value="{detail_link(settings, service)}"' in html
    assert f'action="{share_path(service)}#share-email"' in html
    assert f'action="{share_path(service)}#share-sms"' in html


def test_the_spanish_page_shares_the_spanish_link(client, settings, listing):
    service = listing.service
    response = client.get(share_path(service, "/es"))
    assert response.status_code == 200
    assert '<html lang="es"' in response.content.decode()
    assert f'value="{detail_link(settings, service, "/es")}"' in page_text(response)


def test_reading_the_page_changes_nothing(client, listing):
    service = listing.service
    before = (OutboundMessage.objects.count(), counters(), Session.objects.count())
    assert client.get(share_path(service)).status_code == 200
    assert client.head(share_path(service)).status_code == 200
    assert client.get(share_path(service, "/es"), {"location": str(listing.location_id)}).status_code == 200
    assert (OutboundMessage.objects.count(), counters(), Session.objects.count()) == before
    assert RateLimitBucket.objects.count() == 0


@pytest.mark.parametrize("status", [Service.Status.DEFUNCT, Service.Status.INACTIVE])
def test_a_listing_that_is_gone_is_not_found(client, listing, status):
    service = listing.service
    Service.objects.filter(pk=service.pk).update(status=status)
    assert client.get(share_path(service)).status_code == 404
    assert share_by_email(client, service).status_code == 404
    assert OutboundMessage.objects.count() == 0
    assert counters() == 0


def test_an_unknown_listing_is_not_found(client):
    missing = Service(pk=uuid.uuid4())
    assert client.get(share_path(missing)).status_code == 404
    assert share_by_email(client, missing).status_code == 404
    assert OutboundMessage.objects.count() == 0


def test_a_temporarily_closed_listing_can_be_shared_and_says_so(client, listing):
    service = listing.service
    Service.objects.filter(pk=service.pk).update(status=Service.Status.TEMPORARILY_CLOSED)
    response = client.get(share_path(service))
    assert response.status_code == 200
    assert "(temporarily closed)" in page_text(response)


def test_other_methods_are_refused(client, listing):
    assert client.put(share_path(listing.service)).status_code == 405


# --- Sending ----------------------------------------------------------------------------------------


def test_sharing_by_email_writes_one_message_and_confirms_with_a_masked_address(
    client, settings, listing, django_capture_on_commit_callbacks
):
    service = listing.service
    with django_capture_on_commit_callbacks(execute=True):
        response = share_by_email(client, service, "Jane.Doe@Example.org")
    assert response.status_code == 302
    assert response["Location"] == f"{share_path(service)}#main-content"

    message = OutboundMessage.objects.get()
    assert message.channel == OutboundMessage.Channel.EMAIL
    assert message.recipient == EMAIL
    assert message.language == "en"
    assert message.template == "directory/share"
    assert message.subject == "Someone shared a service with you: Food pantry"
    for part in [
        "Food pantry",
        service.organization.name,
        "Phone: (502) 555-0100",
        "Address: 100 Main St, Frankfort, KY 40601",
        detail_link(settings, service),
    ]:
        assert part in message.body
    assert "&amp;" not in message.body

    # Sent after the commit.
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    assert detail_link(settings, service) in str(mail.outbox[0].body)

    page = client.get(response["Location"])
    html = page_text(page)
    assert "We are sending the listing by email to j•••@example.org." in html
    assert "jane.doe" not in html.lower()


def test_sharing_by_text_message_writes_one_short_message(client, settings, listing):
    service = listing.service
    response = share_by_sms(client, service)
    assert response.status_code == 302

    message = OutboundMessage.objects.get()
    assert message.channel == OutboundMessage.Channel.SMS
    assert message.recipient == "+18595550147"
    assert message.subject == ""
    for part in [
        "Food pantry",
        service.organization.name,
        "(502) 555-0100",
        "100 Main St, Frankfort, KY 40601",
        detail_link(settings, service),
        "Reply STOP",
    ]:
        assert part in message.body
    assert len(message.body) <= SMS_MAX_CHARS

    html = page_text(client.get(response["Location"]))
    assert "We are sending the listing by text message to •••-•••-0147." in html
    assert "555-0147" not in html


def test_a_text_message_with_very_long_names_still_fits_and_keeps_the_whole_link(settings, listing):
    service = listing.service
    Service.objects.filter(pk=service.pk).update(name="Emergency food " * 16)
    service.refresh_from_db()
    service.organization.name = "Community action council " * 9
    service.organization.save()
    Address.objects.filter(location=listing.location).update(address_1="1234 Long Road Name " * 6)
    link = f"{settings.SITE_URL}/es/services/{service.pk}/?location={listing.location_id}"

    message = service_share(
        service=service,
        channel=OutboundMessage.Channel.SMS,
        recipient=PHONE,
        language="es",
        link=link,
        client_key="10.0.0.1",
        location=listing.location,
    )
    assert len(message.body) <= SMS_MAX_CHARS
    assert link in message.body
    assert "Emergency food" in message.body
    assert "…" in message.body


def test_the_message_follows_the_language_of_the_page(client, settings, listing):
    service = listing.service
    location = listing.location
    path = f"{share_path(service, '/es')}?location={location.pk}"
    response = share_by_email(client, service, path=path)
    assert response.status_code == 302
    assert response["Location"] == f"{path}#main-content"
    message = OutboundMessage.objects.get()
    assert message.language == "es"
    assert detail_link(settings, service, "/es", location) in message.body


def test_a_location_is_carried_into_the_shared_link(client, settings, listing):
    service = listing.service
    path = f"{share_path(service)}?location={listing.location_id}"
    assert share_by_sms(client, service, path=path).status_code == 302
    assert detail_link(settings, service, location=listing.location) in OutboundMessage.objects.get().body


@pytest.mark.parametrize(
    ("channel", "value", "error"),
    [
        ("email", "jane.doe@", "Enter an email address, like name@example.com."),
        ("email", "", "Enter the email address to send the listing to."),
        ("sms", "555-0123", "Enter a 10-digit U.S. phone number, like (502) 555-0123."),
        ("sms", "(102) 555-0123", "Enter a 10-digit U.S. phone number, like (502) 555-0123."),
        ("sms", "", "Enter the mobile phone number to send the listing to."),
    ],
)
def test_bad_input_shows_a_field_error_and_writes_nothing(client, listing, channel, value, error):
    field = "email" if channel == "email" else "phone"
    response = client.post(share_path(listing.service), {"channel": channel, field: value})
    assert response.status_code == 400
    html = page_text(response)
    assert "Please correct the errors below." in html
    assert f'<span class="usa-error-message">{error}</span>' in html
    assert 'aria-invalid="true"' in html
    assert "usa-input--error" in html
    assert OutboundMessage.objects.count() == 0
    assert counters() == 0


def test_an_opted_out_number_is_not_texted(client, listing, django_capture_on_commit_callbacks):
    sms_opt_out(phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        assert share_by_sms(client, listing.service).status_code == 302
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.SUPPRESSED
    assert LocmemSmsBackend.outbox == []


# --- Rate limits ------------------------------------------------------------------------------------


def test_one_client_may_share_ten_times_an_hour(client, settings, listing, time_machine):
    assert settings.DIRECTORY_SHARE_LIMIT_PER_CLIENT == 10
    assert settings.DIRECTORY_SHARE_CLIENT_WINDOW_SECONDS == 3600
    service = listing.service
    for number in range(10):
        assert share_by_email(client, service, f"person{number}@example.org").status_code == 302
    written = (OutboundMessage.objects.count(), counters())

    response = share_by_sms(client, service)
    assert response.status_code == 429
    assert response["Retry-After"] == "3590"
    html = page_text(response)
    assert "You have shared too many listings from this device or network." in html
    assert "Nothing was sent. Try again in 1 hour." in html
    assert 'role="alert"' in html
    assert (OutboundMessage.objects.count(), counters()) == written

    # Another client is not affected; this one may share again in the next window.
    assert share_by_sms(client, service, REMOTE_ADDR="10.0.0.2").status_code == 302
    time_machine.shift(timedelta(seconds=3590))
    assert share_by_sms(client, service, "(502) 555-0199").status_code == 302


def test_one_recipient_may_be_sent_three_listings_a_day(client, settings, listing, time_machine):
    assert settings.DIRECTORY_SHARE_LIMIT_PER_RECIPIENT == 3
    assert settings.DIRECTORY_SHARE_RECIPIENT_WINDOW_SECONDS == 24 * 3600
    service = listing.service
    for number, spelling in enumerate([EMAIL, "JANE.DOE@example.org", " Jane.Doe@EXAMPLE.org "]):
        assert share_by_email(client, service, spelling, REMOTE_ADDR=f"10.0.1.{number}").status_code == 302
    written = (OutboundMessage.objects.count(), counters())

    response = share_by_email(client, service, REMOTE_ADDR="10.0.2.1")
    assert response.status_code == 429
    html = page_text(response)
    assert "This email address or phone number has already been sent too many listings." in html
    assert "Nothing was sent. Try again in 9 hours." in html
    # Nothing written: not the message, and not the new client's counter either.
    assert (OutboundMessage.objects.count(), counters()) == written

    assert share_by_email(client, service, "someone.else@example.org").status_code == 302
    time_machine.shift(timedelta(hours=9))
    assert share_by_email(client, service).status_code == 302


def test_a_phone_number_is_limited_however_it_is_written(client, listing):
    service = listing.service
    for spelling in ["(502) 555-0123", "502-555-0123", "+1 502 555 0123"]:
        assert share_by_sms(client, service, spelling).status_code == 302
    assert share_by_sms(client, service, "5025550123", REMOTE_ADDR="10.0.0.9").status_code == 429
    assert OutboundMessage.objects.filter(recipient="+15025550123").count() == 3


def test_a_phone_number_in_digits_of_another_script_is_the_same_recipient(client, listing):
    service = listing.service
    for number in range(3):
        assert share_by_sms(client, service, "5025550199", REMOTE_ADDR=f"10.0.3.{number}").status_code == 302
    response = share_by_sms(client, service, written_in(ARABIC_INDIC, "5025550199"), REMOTE_ADDR="10.0.3.9")
    assert response.status_code == 429
    assert list(OutboundMessage.objects.values_list("recipient", flat=True)) == ["+15025550199"] * 3


def test_a_stop_holds_however_the_number_is_written(client, listing, django_capture_on_commit_callbacks):
    inbound_sms_handle(from_number="+15025550188", body="STOP")
    same_number = written_in(ARABIC_INDIC, "5025550188")
    with django_capture_on_commit_callbacks(execute=True):
        assert share_by_sms(client, listing.service, same_number).status_code == 302
    message = OutboundMessage.objects.get()
    assert (message.recipient, message.status) == ("+15025550188", OutboundMessage.Status.SUPPRESSED)
    assert LocmemSmsBackend.outbox == []


def test_the_counters_store_neither_the_recipient_nor_the_client_address(client, listing):
    share_by_email(client, listing.service, REMOTE_ADDR="203.0.113.7")
    share_by_sms(client, listing.service, REMOTE_ADDR="203.0.113.7")
    keys = " ".join(RateLimitBucket.objects.values_list("key", flat=True))
    assert RateLimitBucket.objects.count() == 3
    for secret in [EMAIL, "jane", "8595550147", "555-0147", "203.0.113.7"]:
        assert secret not in keys


def test_no_recipient_in_the_logs(client, listing, caplog):
    caplog.set_level(logging.DEBUG)
    service = listing.service
    share_by_email(client, service)
    share_by_sms(client, service)
    share_by_email(client, service, "not-an-email")
    share_by_sms(client, service, "555-01")
    for _ in range(3):
        share_by_email(client, service)  # the last two are over the recipient limit
    assert caplog.records, "the share is logged, without its recipient"
    logged = caplog.text + " ".join(record.getMessage() for record in caplog.records)
    for secret in [EMAIL, "jane.doe", "8595550147", "555-0147", "555-01"]:
        assert secret not in logged


# --- The service ------------------------------------------------------------------------------------


def share(service: Service, **overrides):
    arguments: dict[str, Any] = {
        "service": service,
        "channel": OutboundMessage.Channel.EMAIL,
        "recipient": EMAIL,
        "language": "en",
        "link": "https://resources.example/services/x/",
        "client_key": "10.0.0.1",
    }
    arguments.update(overrides)
    return service_share(**arguments)


def test_the_service_refuses_a_bad_recipient_or_channel(listing):
    service = listing.service
    with pytest.raises(ValidationError) as bad_email:
        share(service, recipient="jane")
    assert "recipient" in bad_email.value.message_dict
    with pytest.raises(ValidationError) as bad_phone:
        share(service, channel=OutboundMessage.Channel.SMS, recipient="12")
    assert "recipient" in bad_phone.value.message_dict
    with pytest.raises(ValidationError):
        share(service, channel="fax")
    assert OutboundMessage.objects.count() == 0
    assert counters() == 0


def test_the_service_refuses_a_listing_that_is_gone_or_a_foreign_location(listing):
    service = listing.service
    with pytest.raises(ValidationError):
        share(service, location=LocationFactory.create())
    Service.objects.filter(pk=service.pk).update(status=Service.Status.DEFUNCT)
    service.refresh_from_db()
    with pytest.raises(ValidationError):
        share(service)
    assert OutboundMessage.objects.count() == 0
    assert counters() == 0


def test_the_service_rolls_back_every_counter_when_a_limit_is_reached(settings, listing):
    settings.DIRECTORY_SHARE_LIMIT_PER_RECIPIENT = 1
    service = listing.service
    share(service, client_key="10.0.0.1")
    before = counters()
    with pytest.raises(ShareLimitExceededError) as exceeded:
        share(service, client_key="10.0.0.2")
    assert exceeded.value.scope == ShareLimitExceededError.RECIPIENT
    assert exceeded.value.retry_after_seconds == 9 * 3600 - 10
    assert counters() == before == 2
    assert OutboundMessage.objects.count() == 1


def test_a_client_without_an_address_shares_one_allowance(settings, listing):
    settings.DIRECTORY_SHARE_LIMIT_PER_CLIENT = 1
    share(listing.service, client_key=None)
    with pytest.raises(ShareLimitExceededError) as exceeded:
        share(listing.service, client_key=None, recipient="other@example.org")
    assert exceeded.value.scope == ShareLimitExceededError.CLIENT


def test_masks():
    assert recipient_mask(channel="sms", recipient="+15025550123") == "•••-•••-0123"
    assert recipient_mask(channel="email", recipient="jane@example.org") == "j•••@example.org"


# --- The summary ------------------------------------------------------------------------------------


def test_the_main_phone_is_the_most_specific_voice_line_and_never_a_fax(listing):
    service = listing.service
    location = listing.location
    assert listing_summary(service=service).phone == "(502) 555-0100"
    Phone.objects.create(organization=service.organization, number="502-555-0111", type="voice")
    Phone.objects.create(service=service, number="502-555-0199", type="fax")
    assert listing_summary(service=service, location=location).phone == "(502) 555-0100"
    Phone.objects.create(service=service, number="502-555-0177", type="text")
    Phone.objects.create(service=service, number="502-555-0188", type="voice", extension=12)
    summary = listing_summary(service=service, location=location)
    assert (summary.phone, summary.phone_extension) == ("(502) 555-0188", "12")
    assert summary.phone_e164 == "+15025550188"
    Phone.objects.create(service_at_location=listing, number="1-800-555-0142")
    assert listing_summary(service=service, location=location).phone == "(800) 555-0142"


def test_a_summary_without_a_location_uses_the_services_first_place_and_keeps_odd_numbers(listing):
    service = ServiceFactory.create(organization=listing.service.organization)
    summary = listing_summary(service=service)
    assert (summary.address, summary.phone, summary.location) == ("", "", None)
    Phone.objects.create(organization=service.organization, number="211", type="voice")
    assert listing_summary(service=service).phone == "211"
    ServiceAtLocation.objects.create(service=service, location=listing.location)
    Address.objects.create(
        location=listing.location,
        address_1="PO Box 5",
        city="Frankfort",
        state_province="KY",
        postal_code="40602",
        country="US",
        address_type=Address.AddressType.POSTAL,
    )
    summary = listing_summary(service=service)
    assert summary.address == "100 Main St, Frankfort, KY 40601"
    assert summary.phone == "(502) 555-0100"
