"""/healthz (the whole platform), /healthz/live (this process answers) and /healthz/ready (this app
server can serve), with the database up and down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connection
from django.test import Client

from kynect.core.models import WorkerHeartbeat
from kynect.core.selectors import database_ready, worker_heartbeats

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _refuse_every_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    raise OperationalError("connection refused")


@pytest.fixture
def database_down() -> Iterator[None]:
    with connection.execute_wrapper(_refuse_every_query):
        yield


def _beat(worker_id: str, at: datetime) -> None:
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, hostname="host", pid=1, started_at=at, last_beat_at=at
    )


def test_live_answers_without_asking_the_database(client: Client, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz/live")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert "no-cache" in response["Cache-Control"]


def test_live_answers_while_the_database_is_down(client: Client, database_down: None) -> None:
    assert client.get("/healthz/live").status_code == 200


def test_ready_with_the_database_up_even_without_a_worker(client: Client) -> None:
    response = client.get("/healthz/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": {"ok": True}}
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz/ready").status_code == 200
    assert client.post("/healthz/ready").status_code == 405


def test_ready_is_503_with_the_database_down(client: Client, database_down: None) -> None:
    response = client.get("/healthz/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "database": {"ok": False}}


def test_healthz_is_503_with_the_database_down_even_with_a_live_worker(client: Client) -> None:
    _beat("worker-1", NOW)
    with time_machine.travel(NOW, tick=False), connection.execute_wrapper(_refuse_every_query):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False}
    assert response.json()["status"] == "degraded"


def test_database_ready_says_whether_a_query_answers() -> None:
    assert database_ready() is True
    with connection.execute_wrapper(_refuse_every_query):
        assert database_ready() is False


def test_worker_heartbeats_count_the_fresh_ones_and_age_the_newest(settings: Any) -> None:
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 60
    assert worker_heartbeats(now=NOW).alive == 0
    assert worker_heartbeats(now=NOW).newest_age_seconds is None

    _beat("worker-1", NOW - timedelta(seconds=5))
    _beat("worker-2", NOW - timedelta(seconds=60))
    _beat("worker-3", NOW - timedelta(seconds=61))

    heartbeats = worker_heartbeats(now=NOW)
    assert heartbeats.alive == 2
    assert heartbeats.newest_age_seconds == 5.0
