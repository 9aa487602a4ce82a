"""The request id: made or accepted, returned in X-Request-ID, and carried by every record logged while
the request is handled."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from kynect.core.logging import JsonFormatter, LogContextFilter, PiiMaskingFilter, log_context_current
from kynect.core.middleware import RequestIdMiddleware, request_id_accept

LogEntries = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_entries() -> Iterator[LogEntries]:
    """The JSON entries the root logger writes during the test, through the same filters as LOGGING."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(LogContextFilter())
    handler.addFilter(PiiMaskingFilter())
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


def respond_logging(request: HttpRequest) -> HttpResponse:
    logging.getLogger("kynect.tests.view").info("Handling the request")
    return HttpResponse(json.dumps(log_context_current()))


@pytest.mark.parametrize(
    "incoming",
    ["3f2a9c1e-7b4d-4e8f-a1b2-c3d4e5f60718", "abcdef0123456789abcdef0123456789", "lb.web1.42-x_y"],
)
def test_a_well_formed_incoming_id_is_kept(incoming: str) -> None:
    assert request_id_accept(incoming) == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "short",  # fewer than 8 characters
        "a" * 65,  # longer than 64
        "has space in it",
        "semi;colon;id",
        "line\nbreak-injected",
        "maria@example.org",
        "5025550123",  # a phone number would be written into every line of the request
        "+15025550123",
        "req-5025550123",
        "αβγδεζηθικλμ",
    ],
)
def test_a_malformed_incoming_id_is_replaced_by_a_new_one(incoming: str) -> None:
    request_id = request_id_accept(incoming)

    assert request_id != incoming
    assert len(request_id) == 32
    assert int(request_id, 16) >= 0


def test_new_ids_differ() -> None:
    assert request_id_accept("") != request_id_accept("")


def test_records_logged_while_handling_carry_the_id_and_the_response_has_it(log_entries: LogEntries) -> None:
    request = RequestFactory().get("/", headers={"X-Request-ID": "lb-abc0123456"})

    response = RequestIdMiddleware(respond_logging)(request)

    assert response["X-Request-ID"] == "lb-abc0123456"
    assert request.request_id == "lb-abc0123456"  # type: ignore[attr-defined]
    assert json.loads(response.content) == {"request_id": "lb-abc0123456"}
    [entry] = [entry for entry in log_entries() if entry["logger"] == "kynect.tests.view"]
    assert entry["request_id"] == "lb-abc0123456"
    assert log_context_current() == {}, "the id must not outlive its request"


def test_the_context_is_cleared_when_the_view_raises() -> None:
    def fail(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        RequestIdMiddleware(fail)(RequestFactory().get("/"))

    assert log_context_current() == {}


@pytest.mark.django_db
def test_a_page_answers_with_a_new_id_each_time(client: Client) -> None:
    first = client.get("/")
    second = client.get("/")

    assert first.status_code == 200
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
def test_djangos_not_found_line_carries_the_id(client: Client, log_entries: LogEntries) -> None:
    response = client.get("/no-such-page/maria@example.org/", headers={"X-Request-ID": "edge-abcdef12"})

    assert response.status_code == 404
    assert response["X-Request-ID"] == "edge-abcdef12"
    [entry] = [entry for entry in log_entries() if entry["logger"] == "django.request"]
    assert entry["level"] == "WARNING"
    assert entry["request_id"] == "edge-abcdef12"
    assert entry["message"] == "Not Found: /no-such-page/[email]/"


# --- The session's idle timeout ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_in_use_moves_its_expiry_forward_at_most_once_a_minute() -> None:
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from kynect.accounts.tests.factories import UserFactory
    from kynect.core.middleware import SESSION_TOUCH_SECONDS, SESSION_TOUCHED_KEY

    client = Client()
    client.force_login(UserFactory.create())
    client.get("/")
    row = Session.objects.get()
    expected = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((row.expire_date - expected).total_seconds()) < 5

    # Within the minute: the page does not write the session.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [query for query in queries.captured_queries if "UPDATE" in query["sql"]]

    # A minute after the last write, the next request moves the expiry forward.
    session = client.session
    session[SESSION_TOUCHED_KEY] -= SESSION_TOUCH_SECONDS
    session.save()
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=1))
    client.get("/")
    assert Session.objects.get().expire_date > timezone.now() + timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 5
    )


@pytest.mark.django_db
def test_a_session_idle_past_the_timeout_is_signed_out() -> None:
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from kynect.accounts.tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory.create())
    assert client.get("/accounts/my-information/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/accounts/my-information/").status_code == 302


@pytest.mark.django_db
def test_a_visitor_without_a_session_gets_none() -> None:
    from django.contrib.sessions.models import Session

    assert Client().get("/").status_code == 200
    assert not Session.objects.exists()
