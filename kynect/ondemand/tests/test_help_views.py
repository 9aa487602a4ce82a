"""The public help-request pages through HTTP: the form, the confirmation, the secret status and cancel
pages, bad input, duplicates, rate limits, audit, Spanish."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from kynect.core.models import AccessEvent
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import Helper, HelpRequest
from kynect.ondemand.tests.conftest import sending

pytestmark = pytest.mark.django_db

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 Eastern


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 3


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(OPEN, tick=False):
        yield


FORM = {
    "phone": "(502) 555-0123",
    "name": "Maria Lopez",
    "contact_method": "text",
    "email": "",
    "language": "en",
    "zip_code": "40601",
    "program": "medicaid_kchip",
    "consent": "on",
}


def post(client: Client, prefix: str = "", **overrides: Any):
    with sending():
        return client.post(f"{prefix}/ondemand/help/", {**FORM, **overrides})


def links_from_sms() -> tuple[str, str]:
    """The paths of the status and cancel links in the last text message."""
    body = next(message.body for message in reversed(LocmemSmsBackend.outbox) if "/help/" in message.body)
    status = re.search(r"https?://[^/\s]+(/\S+/help/[0-9a-f-]{36}/[\w-]+/)(?=\s|$)", body)
    cancel = re.search(r"https?://[^/\s]+(/\S+/cancel/)", body)
    assert status, body
    assert cancel, body
    return status.group(1).lstrip("/"), cancel.group(1).lstrip("/")


def test_the_form_is_public_and_phone_first(client):
    response = client.get("/ondemand/help/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index('name="phone"') < page.index('name="name"') < page.index('name="zip_code"')
    assert "within 30 minutes" in page
    assert "Service hours" in page
    assert "8 a.m. to 8 p.m." in page
    assert 'type="tel"' in page


def test_submitting_shows_what_happens_next_and_by_when(client):
    response = post(client)
    request = HelpRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ondemand/help/sent/{request.pk}/"
    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "We got your request" in text
    assert "Expect a call by Tuesday, Nov. 24, 2026, 10:30 a.m. (Eastern time)" in text
    assert "We sent a confirmation by text message with a link to cancel." in text
    assert page["Cache-Control"].startswith("max-age=0")
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]
    status_path, _cancel = links_from_sms()
    assert f'href="/{status_path}"' in text


def test_the_confirmation_page_needs_the_session_that_made_the_request(client):
    response = post(client)
    assert Client().get(response["Location"]).status_code == 404


def test_the_status_page_opens_only_with_the_secret_link(client):
    post(client)
    request = HelpRequest.objects.get()
    status_path, _cancel = links_from_sms()
    stranger = Client()
    response = stranger.get(f"/{status_path}")
    assert response.status_code == 200
    assert "Maria Lopez" in response.content.decode()
    assert "Pending" in response.content.decode()
    wrong = f"/ondemand/help/{request.pk}/{'x' * 43}/"
    assert stranger.get(wrong).status_code == 404
    assert "Maria Lopez" not in stranger.get(wrong).content.decode()
    # Views of the requester's details are audited; failed tries show nothing and record nothing.
    events = AccessEvent.objects.filter(subject_type="ondemand.helprequest", subject_id=str(request.pk))
    assert events.count() == 1
    assert events.get().actor_label == "anonymous"
    # The audit keeps where the view came from, but not the link's secret: the record is no key.
    secret = status_path.rstrip("/").rsplit("/", 1)[-1]
    assert events.get().path == f"/ondemand/help/{request.pk}/[secret]/"
    assert secret not in events.get().path


def test_the_status_page_says_who_will_call_once_accepted(client, registered_kynector: Helper):
    registered_kynector.user.first_name, registered_kynector.user.last_name = "Kim", "Nguyen"
    registered_kynector.user.save()
    post(client)
    HelpRequest.objects.update(
        status=HelpRequest.Status.IN_PROGRESS, accepted_helper=registered_kynector, accepted_at=OPEN
    )
    status_path, _cancel = links_from_sms()
    text = Client().get(f"/{status_path}").content.decode()
    assert "Kim N. will call you from (502) 555-0142." in text
    assert "Cancel my request" not in text


def test_an_unserved_request_points_to_other_help(client):
    post(client)
    HelpRequest.objects.update(status=HelpRequest.Status.UNSERVED, route_at=None, closed_at=OPEN)
    status_path, _cancel = links_from_sms()
    text = Client().get(f"/{status_path}").content.decode()
    assert "call 2-1-1" in text
    assert "1-855-459-6328" in text


def test_opening_the_cancel_link_changes_nothing_and_the_button_cancels(client):
    post(client)
    _status, cancel_path = links_from_sms()
    scanner = Client()
    for _ in range(3):
        page = scanner.get(f"/{cancel_path}")
        assert page.status_code == 200
        assert "Cancel my request" in page.content.decode()
    assert HelpRequest.objects.get().status == HelpRequest.Status.PENDING
    response = Client().post(f"/{cancel_path}")
    assert response.status_code == 302
    assert HelpRequest.objects.get().status == HelpRequest.Status.CANCELLED
    again = Client().post(f"/{cancel_path}")
    assert again.status_code == 400
    assert "already cancelled" in again.content.decode()


def test_a_request_in_progress_cannot_be_cancelled(client, registered_kynector: Helper):
    post(client)
    HelpRequest.objects.update(
        status=HelpRequest.Status.IN_PROGRESS, accepted_helper=registered_kynector, accepted_at=OPEN
    )
    _status, cancel_path = links_from_sms()
    response = Client().post(f"/{cancel_path}")
    assert response.status_code == 400
    assert "can no longer be cancelled" in response.content.decode()
    assert HelpRequest.objects.get().status == HelpRequest.Status.IN_PROGRESS


def test_the_cancel_link_with_a_wrong_token_is_not_found(client):
    post(client)
    request = HelpRequest.objects.get()
    assert Client().post(f"/ondemand/help/{request.pk}/wrong/cancel/").status_code == 404
    assert HelpRequest.objects.get().status == HelpRequest.Status.PENDING


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"zip_code": "45202"}, "45202 is not a Kentucky ZIP code"),
        ({"phone": "12345"}, "Enter a 10-digit U.S. phone number"),
        ({"contact_method": "email"}, "you chose to be contacted by email"),
        ({"consent": ""}, "Tick the box to agree to be contacted"),
        ({"name": "Maria\x1bLopez"}, "The name has a hidden control or text-direction character."),
        (
            {"name": "\N{RIGHT-TO-LEFT OVERRIDE}zepoL airaM"},
            "The name has a hidden control or text-direction character.",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, overrides, message):
    response = post(client, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not HelpRequest.objects.exists()
    assert not LocmemSmsBackend.outbox


def test_email_is_required_only_when_email_is_preferred(client):
    response = post(client, contact_method="email", email="maria@example.com")
    assert response.status_code == 302


def test_a_duplicate_points_to_the_existing_requests_status_page(client):
    post(client)
    status_path, _cancel = links_from_sms()
    response = post(client)
    assert response.status_code == 409
    text = response.content.decode()
    assert "You already have an open request from this phone number" in text
    assert f'href="/{status_path}"' in text
    # Another browser is told about the request, but gets no link to it.
    other = post(Client())
    assert other.status_code == 409
    assert "/ondemand/help/" + str(HelpRequest.objects.get().pk) not in other.content.decode()
    assert HelpRequest.objects.count() == 1


def test_the_client_rate_limit(client):
    for n in range(3):
        assert post(client, phone=f"50255501{n:02d}").status_code == 302
    response = post(client, phone="5025550199")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert response["Retry-After"]
    assert HelpRequest.objects.count() == 3


def test_the_client_rate_limit_says_when_its_window_ends(client):
    # The window is the clock hour (16:00 to 17:00 UTC): at 16:40 it ends in 20 minutes, not an hour.
    with time_machine.travel(OPEN + timedelta(minutes=100), tick=False):
        for n in range(3):
            assert post(client, phone=f"50255501{n:02d}").status_code == 302
        response = post(client, phone="5025550199")
    assert response.status_code == 429
    assert response["Retry-After"] == str(20 * 60)
    assert "Try again in 20 minutes, or call 2-1-1." in response.content.decode()


def test_in_spanish_everything_is_spanish(client):
    page = client.get("/es/ondemand/help/").content.decode()
    assert "Pida que le llamen" in page
    response = post(client, "/es")
    assert response["Location"].startswith("/es/ondemand/help/sent/")
    text = client.get(response["Location"]).content.decode()
    assert "Recibimos su solicitud" in text
    assert HelpRequest.objects.get().message_language == "es"
    assert "/es/ondemand/help/" in LocmemSmsBackend.outbox[-1].body


def test_submitting_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    client.get("/ondemand/help/")
    # Counting savepoints: the rate-limit counter (7), the duplicate check and insert (4), the outbox row
    # (5), the confirmation's id and the routing hook (2), the transaction (2) and the session (4);
    # sending the message happens after the commit. A constant, whatever the table sizes.
    with django_assert_max_num_queries(25):
        response = client.post("/ondemand/help/", FORM)
    assert response.status_code == 302
