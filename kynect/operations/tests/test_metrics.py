"""GET /metrics: who may read it, and each metric's value from known rows at a frozen time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from kynect.accounts.models import ApiScope, Role
from kynect.accounts.tests.factories import MembershipFactory, UserFactory
from kynect.accounts.tokens import api_token_create, api_token_revoke
from kynect.core.models import WorkerHeartbeat
from kynect.notifications.models import OutboundMessage
from kynect.ondemand.deadlines import DEADLINES
from kynect.ondemand.models import HelpRequest, Offer
from kynect.ondemand.tests.factories import ready_helper
from kynect.ondemand.tests.test_oversight import request_row

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _client_token(*scopes: str) -> str:
    return api_token_create(client="prometheus.example", scopes=scopes)[1]


def _scrape(token: str) -> Any:
    with time_machine.travel(NOW, tick=False):
        return Client().get("/metrics", headers={"Authorization": f"Bearer {token}"})


def _samples(token: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = _scrape(token)
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


# --- who may read it -------------------------------------------------------------------------------


def test_without_a_token_it_is_401_and_says_what_is_needed() -> None:
    response = Client().get("/metrics")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "metrics.read" in response.json()["detail"]
    assert "kynect_" not in response.content.decode()


def test_a_bad_or_revoked_token_is_401() -> None:
    assert Client().get("/metrics", headers={"Authorization": "Bearer kyt_nothing_here"}).status_code == 401
    token = _client_token(ApiScope.METRICS_READ)
    api_token_revoke(prefix=token.split("_")[1])
    assert _scrape(token).status_code == 401


def test_a_client_token_without_the_scope_is_403() -> None:
    response = _scrape(_client_token(ApiScope.HSDS_READ))

    assert response.status_code == 403
    assert "metrics.read" in response.json()["detail"]


def test_a_client_token_with_metrics_read_reads_them() -> None:
    response = _scrape(_client_token(ApiScope.METRICS_READ))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    assert "# TYPE kynect_workers_alive gauge" in response.content.decode()
    assert Client().post("/metrics").status_code == 405


def test_a_users_token_reads_them_only_for_a_state_administrator() -> None:
    state_admin = MembershipFactory.create(organization=None, role=Role.STATE_ADMIN).user
    partner = MembershipFactory.create(role=Role.PARTNER_USER).user

    assert _scrape(api_token_create(user=state_admin)[1]).status_code == 200
    refused = _scrape(api_token_create(user=partner)[1])
    assert refused.status_code == 403
    assert "state administrator" in refused.json()["detail"]
    assert _scrape(api_token_create(user=UserFactory.create())[1]).status_code == 403


# --- the values ----------------------------------------------------------------------------------


def _message(channel: str, status: str, due: datetime | None) -> OutboundMessage:
    return OutboundMessage.objects.create(
        channel=channel,
        recipient="someone@example.org" if channel == "email" else "+15025550100",
        template="tests/metrics",
        body="Hello",
        status=status,
        next_attempt_at=due,
    )


def test_outbox_backlog_per_channel() -> None:
    email, sms = OutboundMessage.Channel.EMAIL, OutboundMessage.Channel.SMS
    pending, sending = OutboundMessage.Status.PENDING, OutboundMessage.Status.SENDING
    _message(email, pending, NOW - timedelta(seconds=90))
    _message(email, pending, NOW - timedelta(seconds=30))
    _message(email, pending, NOW + timedelta(minutes=5))  # a retry, not due yet
    _message(email, OutboundMessage.Status.SENT, None)
    _message(email, OutboundMessage.Status.FAILED, None)
    _message(sms, sending, NOW - timedelta(hours=1))
    _message(sms, pending, NOW + timedelta(seconds=10))

    samples = _samples(_client_token(ApiScope.METRICS_READ))

    assert samples[("kynect_outbox_unsent_messages", (("channel", "email"), ("status", "pending")))] == 3
    assert samples[("kynect_outbox_unsent_messages", (("channel", "email"), ("status", "sending")))] == 0
    assert samples[("kynect_outbox_unsent_messages", (("channel", "sms"), ("status", "pending")))] == 1
    assert samples[("kynect_outbox_unsent_messages", (("channel", "sms"), ("status", "sending")))] == 1
    assert samples[("kynect_outbox_oldest_due_age_seconds", (("channel", "email"),))] == 90
    assert samples[("kynect_outbox_oldest_due_age_seconds", (("channel", "sms"),))] == 0


def test_an_empty_platform_reports_zeros_and_no_heartbeat_age() -> None:
    samples = _samples(_client_token(ApiScope.METRICS_READ))

    assert samples[("kynect_workers_alive", ())] == 0
    assert not any(name == "kynect_worker_newest_heartbeat_age_seconds" for name, _labels in samples)
    assert not any(name == "kynect_ondemand_called_back_on_time_ratio" for name, _labels in samples)
    deadlines = {
        labels[0][1]: value
        for (name, labels), value in samples.items()
        if name.startswith("kynect_deadline_")
    }
    assert deadlines == dict.fromkeys(DEADLINES, 0.0)


def test_workers_alive_and_the_newest_heartbeat(settings: Any) -> None:
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 60
    for number, age in enumerate([5, 60, 61, 3600]):
        WorkerHeartbeat.objects.create(
            worker_id=f"worker-{number}",
            hostname="host",
            pid=number + 1,
            started_at=NOW - timedelta(hours=2),
            last_beat_at=NOW - timedelta(seconds=age),
        )

    samples = _samples(_client_token(ApiScope.METRICS_READ))

    assert samples[("kynect_workers_alive", ())] == 2
    assert samples[("kynect_worker_newest_heartbeat_age_seconds", ())] == 5


@pytest.fixture
def on_demand_day(settings: Any) -> None:
    """Help requests and offers around NOW: which deadlines are due, and who was called back in time."""
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    helper, other, third = ready_helper(), ready_helper(), ready_helper()
    two_hours_ago = NOW - timedelta(hours=2)
    progress: dict[str, Any] = {"status": HelpRequest.Status.IN_PROGRESS, "helper": helper}
    # Waiting: due to be routed again 100 s ago; no call by its due time (90 minutes ago).
    waiting = request_row(submitted=two_hours_ago, route_at=NOW - timedelta(seconds=100))
    request_row(submitted=two_hours_ago, contact=two_hours_ago + timedelta(minutes=10), **progress)  # on time
    request_row(submitted=two_hours_ago, contact=two_hours_ago + timedelta(minutes=40), **progress)  # late
    not_called = request_row(  # not called, but already escalated: no SLA deadline left
        submitted=NOW - timedelta(hours=3), escalated=NOW - timedelta(hours=2), **progress
    )
    # ... and its helper not yet reminded to call, 2 hours 40 minutes after the reminder was due.
    HelpRequest.objects.filter(pk=not_called.pk).update(dial_remind_at=NOW - timedelta(hours=2, minutes=40))
    request_row(
        submitted=NOW - timedelta(hours=25), contact=NOW - timedelta(hours=24, minutes=50), **progress
    )
    recent = request_row(submitted=NOW - timedelta(minutes=10), route_at=NOW + timedelta(seconds=50))
    Offer.objects.create(
        help_request=recent,
        helper=other,
        kind=Offer.Kind.GENERAL,
        round=1,
        score=1.0,
        offered_at=NOW - timedelta(minutes=15, seconds=30),
        expires_at=NOW - timedelta(seconds=30),
        remind_at=NOW - timedelta(minutes=5, seconds=30),
        widen_at=NOW - timedelta(minutes=10, seconds=30),
        token_hash="0" * 64,
    )
    Offer.objects.create(  # already expired: not due any more
        help_request=waiting,
        helper=third,
        kind=Offer.Kind.GENERAL,
        round=1,
        score=1.0,
        status=Offer.Status.EXPIRED,
        offered_at=NOW - timedelta(hours=2),
        expires_at=NOW - timedelta(hours=1, minutes=45),
        token_hash="0" * 64,
    )


def test_oldest_due_deadline_of_each_kind(on_demand_day: None) -> None:
    samples = _samples(_client_token(ApiScope.METRICS_READ))

    deadlines = {
        labels[0][1]: value
        for (name, labels), value in samples.items()
        if name == "kynect_deadline_oldest_due_age_seconds"
    }
    assert deadlines == {
        "ondemand.offers_expire": 30,
        "ondemand.offers_remind": 330,
        "ondemand.offers_widen": 630,
        "ondemand.offers_abandon": 0,
        "ondemand.requests_route": 100,
        "ondemand.requests_sla": 90 * 60,
        "ondemand.requests_dial_remind": 160 * 60,
        "ondemand.requests_unserved": 0,
    }


def test_share_called_back_within_30_minutes_over_the_last_24_hours(on_demand_day: None) -> None:
    samples = _samples(_client_token(ApiScope.METRICS_READ))

    outcomes = {
        labels[0][1]: value
        for (name, labels), value in samples.items()
        if name == "kynect_ondemand_call_backs"
    }
    assert outcomes == {"on_time": 1, "late": 1, "not_called": 2}
    assert samples[("kynect_ondemand_called_back_on_time_ratio", ())] == 0.25
