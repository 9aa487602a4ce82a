"""The background worker loop, its heartbeat, the run_worker command and /healthz."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django_tasks import task, task_backends
from django_tasks.base import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from kynect.core import sweeper
from kynect.core.logging import log_context_current
from kynect.core.models import WorkerHeartbeat
from kynect.core.worker import HEARTBEAT_EVERY, WorkerLoop

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The loop and django-tasks' worker call close_old_connections(), which closes a connection found
# inside a transaction, as a test wrapped in one would be: tests that run them use transaction=True.


@task()
def add_numbers(a: int, b: int) -> int:
    return a + b


@task()
def log_context_of_task() -> dict[str, str]:
    return log_context_current()


@pytest.fixture
def sweep_probe() -> Iterator[Callable[[Callable[[], Any]], list[Any]]]:
    """Register a sweep handler that calls `probe()` on every sweep; removed after the test."""
    names: list[str] = []

    def install(probe: Callable[[], Any]) -> list[Any]:
        seen: list[Any] = []

        def handler(*, now: datetime) -> int:
            seen.append(probe())
            return 0

        name = f"tests.worker_probe.{len(names)}.{id(handler)}"
        sweeper.register(name)(handler)
        names.append(name)
        return seen

    yield install
    for name in names:
        sweeper._handlers.pop(name, None)


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """run_worker installs SIGINT/SIGTERM handlers; put pytest's back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.django_db(transaction=True)
def test_run_once_beats_while_running_and_removes_the_heartbeat_on_exit(sweep_probe) -> None:
    loop = WorkerLoop(interval=0)
    during = sweep_probe(lambda: list(WorkerHeartbeat.objects.filter(worker_id=loop.worker_id)))

    with time_machine.travel(NOW, tick=False):
        loop.run(once=True)

    assert len(during) == 1
    [heartbeat] = during[0]
    assert heartbeat.hostname == socket.gethostname()[:255]
    assert heartbeat.pid == os.getpid()
    assert heartbeat.last_beat_at == NOW
    assert not WorkerHeartbeat.objects.filter(worker_id=loop.worker_id).exists()


@pytest.mark.django_db(transaction=True)
def test_heartbeat_is_removed_even_when_a_turn_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = WorkerLoop(interval=0)

    def broken_turn() -> int:
        assert WorkerHeartbeat.objects.filter(worker_id=loop.worker_id).exists()
        raise RuntimeError("boom")

    monkeypatch.setattr(loop, "turn", broken_turn)

    with pytest.raises(RuntimeError, match="boom"):
        loop.run(once=True)

    assert not WorkerHeartbeat.objects.filter(worker_id=loop.worker_id).exists()


@pytest.mark.django_db
def test_beat_updates_last_beat_at() -> None:
    loop = WorkerLoop()

    with time_machine.travel(NOW, tick=False) as traveller:
        loop.beat()
        first = WorkerHeartbeat.objects.get(worker_id=loop.worker_id)
        assert first.last_beat_at == NOW

        # Within HEARTBEAT_EVERY a beat is skipped, unless forced.
        traveller.shift(HEARTBEAT_EVERY - timedelta(seconds=1))
        loop.beat()
        assert WorkerHeartbeat.objects.get(worker_id=loop.worker_id).last_beat_at == NOW
        loop.beat(force=True)
        forced_at = NOW + HEARTBEAT_EVERY - timedelta(seconds=1)
        assert WorkerHeartbeat.objects.get(worker_id=loop.worker_id).last_beat_at == forced_at

        traveller.shift(HEARTBEAT_EVERY)
        loop.beat()

    heartbeat = WorkerHeartbeat.objects.get(worker_id=loop.worker_id)
    assert heartbeat.last_beat_at == forced_at + HEARTBEAT_EVERY
    assert heartbeat.started_at == first.started_at
    assert WorkerHeartbeat.objects.count() == 1


@pytest.fixture
def database_tasks() -> Iterator[None]:
    with override_settings(TASKS=DATABASE_TASKS):
        # django_tasks resets its cached backends on setting_changed; check that it did.
        assert isinstance(task_backends["default"], DatabaseBackend)
        yield
    assert not isinstance(task_backends["default"], DatabaseBackend)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_enqueued_task_is_run_by_run_tasks() -> None:
    result = add_numbers.enqueue(2, 3)
    stored = DBTaskResult.objects.get(id=result.id)
    assert stored.status == TaskResultStatus.READY

    processed = WorkerLoop().run_tasks()

    assert processed == 1
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert WorkerLoop().run_tasks() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_turn_sweeps_and_runs_tasks(sweep_probe) -> None:
    swept = sweep_probe(lambda: "swept")
    result = add_numbers.enqueue(20, 22)

    WorkerLoop(interval=0).run(once=True)

    assert swept == ["swept"]
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 42


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_the_worker_logs_with_its_id_and_the_sweep_or_task_in_hand(sweep_probe) -> None:
    seen = sweep_probe(log_context_current)
    result = log_context_of_task.enqueue()
    loop = WorkerLoop(interval=0)

    loop.run(once=True)

    assert seen[0]["worker"] == loop.worker_id
    assert seen[0]["sweep"].startswith("tests.worker_probe.")
    result.refresh()
    assert result.return_value == {
        "worker": loop.worker_id,
        "task_id": str(result.id),
        "task": log_context_of_task.module_path,
    }
    assert log_context_current() == {}


@pytest.mark.django_db
@pytest.mark.usefixtures("database_tasks")
def test_a_stopped_loop_runs_no_more_tasks() -> None:
    result = add_numbers.enqueue(1, 1)
    loop = WorkerLoop()

    loop.stop()

    assert loop.stopping.is_set()
    assert loop.run_tasks() == 0
    result.refresh()
    assert result.status == TaskResultStatus.READY


def test_stop_tells_the_task_worker_in_hand_to_finish() -> None:
    loop = WorkerLoop()

    class FakeTaskWorker:
        running = True

    fake = FakeTaskWorker()
    loop._task_worker = fake  # type: ignore[assignment]

    loop.stop()

    assert loop.stopping.is_set()
    assert fake.running is False


@pytest.mark.django_db(transaction=True)
def test_stop_ends_a_loop_running_in_a_thread(sweep_probe) -> None:
    loop = WorkerLoop(interval=0.01)
    looping = threading.Event()
    errors: list[BaseException] = []

    def probe() -> bool:
        # Runs in the worker's thread, once a turn. The test's thread stays off the database while
        # the loop runs (SQLite's shared in-memory test database locks whole tables).
        alive = WorkerHeartbeat.objects.filter(worker_id=loop.worker_id).exists()
        if len(turns) >= 2:
            looping.set()
        return alive

    turns = sweep_probe(probe)

    def target() -> None:
        try:
            loop.run()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        assert looping.wait(timeout=60), "the loop did not take three turns"
        assert thread.is_alive()
    finally:
        loop.stop()
        thread.join(timeout=60)

    assert loop.stopping.is_set()
    assert not thread.is_alive()
    assert errors == []
    assert len(turns) >= 3
    assert all(turns), "the heartbeat was missing during a turn"
    assert not WorkerHeartbeat.objects.filter(worker_id=loop.worker_id).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_signals")
def test_run_worker_command_once_exits_cleanly_without_a_heartbeat(sweep_probe) -> None:
    during = sweep_probe(lambda: WorkerHeartbeat.objects.count())

    call_command("run_worker", "--once", "--interval", "0")  # a non-zero exit raises SystemExit

    assert during == [1]
    assert not WorkerHeartbeat.objects.exists()


@pytest.mark.usefixtures("restore_signals")
def test_run_worker_command_refuses_a_negative_interval() -> None:
    with pytest.raises(SystemExit) as excinfo:
        call_command("run_worker", "--once", "--interval", "-1")

    assert excinfo.value.code == 2


def _heartbeat(last_beat_at: datetime) -> WorkerHeartbeat:
    return WorkerHeartbeat.objects.create(
        worker_id="worker-1", hostname="host", pid=1, started_at=NOW, last_beat_at=last_beat_at
    )


@pytest.mark.django_db
@override_settings(WORKER_HEARTBEAT_STALE_SECONDS=60)
def test_healthz_reports_a_live_worker(client: Client) -> None:
    _heartbeat(NOW - timedelta(seconds=60))

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True},
        "worker": {
            "alive": True,
            "heartbeat_age_seconds": 60.0,
            "last_heartbeat_at": (NOW - timedelta(seconds=60)).isoformat(),
        },
    }


@pytest.mark.django_db
@override_settings(WORKER_HEARTBEAT_STALE_SECONDS=60)
def test_healthz_reports_a_stale_worker(client: Client) -> None:
    _heartbeat(NOW - timedelta(seconds=61))

    with time_machine.travel(NOW, tick=False):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == {"ok": True}
    assert body["worker"]["alive"] is False
    assert body["worker"]["heartbeat_age_seconds"] == 61.0


@pytest.mark.django_db
def test_healthz_without_a_worker(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "database": {"ok": True},
        "worker": {"alive": False, "heartbeat_age_seconds": None, "last_heartbeat_at": None},
    }


@pytest.mark.django_db
def test_healthz_uses_the_newest_heartbeat(client: Client, settings) -> None:
    _heartbeat(NOW - timedelta(hours=1))
    WorkerHeartbeat.objects.create(
        worker_id="worker-2", hostname="host", pid=2, started_at=NOW, last_beat_at=NOW - timedelta(seconds=5)
    )

    with time_machine.travel(NOW, tick=False):
        body = client.get("/healthz").json()

    assert body["worker"]["alive"] is True
    assert body["worker"]["heartbeat_age_seconds"] == 5.0
    assert settings.WORKER_HEARTBEAT_STALE_SECONDS >= 5


@pytest.mark.django_db
def test_healthz_after_a_real_worker_beat(client: Client) -> None:
    loop = WorkerLoop()
    loop.beat()

    assert client.get("/healthz").json()["worker"]["alive"] is True
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
