"""The demo people through the flows that log, with the demo seeded as `make run` seeds it.

The demo resident asks for help on the public form and has a listing texted and emailed to her; a demo
helper gets the offer by text message, accepts it on the desktop and opens her details; her sign-in
fails; a text message to her fails at the provider, which names her number; a page is not found. These
log, each record through the production filters and JSON formatter, and no record may hold a demo
person's name, email or phone number (the session's scan, tests/log_scan.py, checks every other test
the same way).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from kynect.accounts.demo import DEMO_RESIDENT_EMAIL
from kynect.accounts.models import User
from kynect.core.logging import JsonFormatter, LogContextFilter, PiiMaskingFilter
from kynect.core.phones import phone_display
from kynect.directory.tests.factories import listed_service
from kynect.notifications.models import OutboundMessage
from kynect.notifications.sms import LocmemSmsBackend, SmsDeliveryError, SmsMessage
from kynect.ondemand.models import HelpRequest, Offer
from kynect.ondemand.tests.conftest import sending
from tests.log_scan import log_leaks

pytestmark = pytest.mark.django_db

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 Eastern: inside service hours


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """A file that receives every record logged during the test, as LOGGING's handlers write them."""
    path = tmp_path / "demo.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(LogContextFilter())
    handler.addFilter(PiiMaskingFilter())
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    yield path
    logging.getLogger().removeHandler(handler)
    handler.close()


@pytest.fixture
def demo(settings: Any) -> Iterator[None]:
    settings.DJANGO_ENV = "demo"
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    with time_machine.travel(OPEN, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        yield


def refuse_texts_to(phone: str) -> Any:
    """An SMS backend `send` that fails for `phone` the way a provider does: naming the number."""
    original = LocmemSmsBackend.send

    def send(self: LocmemSmsBackend, message: SmsMessage) -> str:
        if message.to == phone:
            raise SmsDeliveryError(f"The provider refused {message.to} ({phone_display(message.to)})")
        return original(self, message)

    return send


@pytest.mark.usefixtures("demo")
def test_the_demo_residents_flows_log_without_her_personal_data(
    client: Client, log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resident = User.objects.get(email=DEMO_RESIDENT_EMAIL)

    with sending():
        asked = client.post(
            "/ondemand/help/",
            {
                "phone": phone_display(resident.phone),
                "name": resident.get_full_name(),
                "contact_method": "email",
                "email": resident.email,
                "language": "en",
                "zip_code": "40601",
                "program": "medicaid_kchip",
                "consent": "on",
            },
        )
    assert asked.status_code == 302
    help_request = HelpRequest.objects.get(phone=resident.phone)
    offer = Offer.objects.get(help_request=help_request)
    helper_user = offer.helper.user
    assert helper_user.email.endswith("@example.org")  # one of the demo helpers, seeded above

    listing = listed_service(name="Food pantry", organization=None, phone="(502) 555-0100")
    share_path = f"/services/{listing.service.pk}/share/"
    with sending():
        assert client.post(share_path, {"channel": "sms", "phone": resident.phone[2:]}).status_code == 302
        assert client.post(share_path, {"channel": "email", "email": resident.email}).status_code == 302

    helper = Client()
    helper.force_login(helper_user)
    with sending():
        accepted = helper.post(f"/ondemand/referrals/offers/{offer.pk}/accept/")
    assert accepted.status_code == 302
    details = helper.get(f"/ondemand/referrals/{help_request.pk}/")
    assert resident.get_full_name() in details.content.decode()

    wrong_password = {"username": resident.email, "password": "not-hers-1234"}
    failed_sign_in = Client().post("/accounts/login/", wrong_password)
    assert failed_sign_in.status_code == 200
    not_found = Client().get(f"/no-such-page/{resident.email}/{resident.phone}/")
    assert not_found.status_code == 404

    monkeypatch.setattr(LocmemSmsBackend, "send", refuse_texts_to(resident.phone))
    with sending():
        assert client.post(share_path, {"channel": "sms", "phone": resident.phone}).status_code == 302
    refused = OutboundMessage.objects.get(recipient=resident.phone, status=OutboundMessage.Status.PENDING)
    assert refused.last_error == "SmsDeliveryError: The provider refused [phone] ([phone])"

    entries = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    by_message = {entry["message"]: entry for entry in entries}
    submitted = by_message[f"Help request {help_request.pk} submitted (web)"]
    routed = by_message[f"Help request {help_request.pk} round 1 offered to 1 helper(s)"]
    accepted_line = by_message[f"Offer {offer.pk} accepted (desktop)"]
    messages = [entry["message"] for entry in entries]
    shares = [message for message in messages if message.startswith(f"Listing {listing.service.pk} shared")]
    not_found_line = next(entry for entry in entries if entry["logger"] == "django.request")
    assert submitted["request_id"]
    assert routed["loop"] == "ondemand.routing"
    assert accepted_line["request_id"] not in (None, submitted["request_id"])
    assert len(shares) == 3
    assert not_found_line["request_id"] == not_found["X-Request-ID"]
    assert not_found_line["message"] == "Not Found: /no-such-page/[email]/[phone]/"
    assert by_message[f"Outbox message {refused.pk} attempt 1 failed: SmsDeliveryError"]["level"] == "WARNING"

    assert log_leaks([log_file]) == []
