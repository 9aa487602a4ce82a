"""The background worker: django-tasks' database worker, the deadline sweeper and the recurring jobs, in
one loop; beside it, in threads of their own, the side loops apps register (the outbox's senders)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker

from kynect.core import clock, recurring, sweeper
from kynect.core.logging import log_context
from kynect.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=5)
TASKS_PER_TURN = 50

# One pass of a side loop: does a piece of work and returns how many seconds to wait before the next.
SidePass = Callable[[], float]
_side_loops: dict[str, SidePass] = {}


def side_loop_register(name: str, one_pass: SidePass) -> None:
    """Run `one_pass` again and again in a thread of its own in every worker, beside the main loop, so
    that its work (sending the outbox) neither waits for tasks and sweeps nor holds them up."""
    existing = _side_loops.get(name)
    if existing is not None and existing is not one_pass:
        raise ValueError(f"A side loop named {name!r} is already registered.")
    _side_loops[name] = one_pass


def side_loops() -> dict[str, SidePass]:
    return dict(_side_loops)


def side_loop_once(name: str, *, worker_id: str | None = None) -> float:
    """One pass of the side loop `name`, in this thread, its log lines tagged as the loop's; returns the
    seconds it asks to wait. A worker started with `once` runs each loop this way."""
    fields = {"loop": name, **({"worker": worker_id} if worker_id else {})}
    with log_context(**fields):
        return _side_loops[name]()


def _side_loop_run(
    name: str, one_pass: SidePass, stopping: threading.Event, error_wait: float, worker_id: str
) -> None:
    with log_context(worker=worker_id, loop=name):
        _side_loop_turns(name, one_pass, stopping, error_wait)


def _side_loop_turns(name: str, one_pass: SidePass, stopping: threading.Event, error_wait: float) -> None:
    try:
        while not stopping.is_set():
            close_old_connections()
            try:
                wait = one_pass()
            except Exception:
                logger.exception("Side loop %s failed", name)
                wait = error_wait
            if wait > 0:
                stopping.wait(wait)
    finally:
        connection.close()


@dataclass
class WorkerLoop:
    """One turn: beat, sweep due rows, run the recurring jobs due, run up to TASKS_PER_TURN ready tasks.
    Idle turns sleep."""

    interval: float = 1.0
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:12]}")
    stopping: threading.Event = field(default_factory=threading.Event)
    started_at: datetime = field(default_factory=clock.now)
    _last_beat: datetime | None = None
    _task_worker: Worker | None = None
    _side_threads: list[threading.Thread] = field(default_factory=list)

    def beat(self, *, force: bool = False) -> None:
        now = clock.now()
        if not force and self._last_beat is not None and now - self._last_beat < HEARTBEAT_EVERY:
            return
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": self.started_at,
                "last_beat_at": now,
            },
        )
        self._last_beat = now

    def run_tasks(self) -> int:
        self._task_worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=TASKS_PER_TURN,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        if self.stopping.is_set():
            return 0
        self._task_worker.run()
        processed = self._task_worker._run_tasks
        self._task_worker = None
        return processed

    def turn(self) -> int:
        close_old_connections()
        self.beat()
        swept = sum(count for count in sweeper.sweep_once().values() if count > 0)
        periods = recurring.recurring_run_due(worker_id=self.worker_id)
        return swept + periods + self.run_tasks()

    def run(self, *, once: bool = False) -> None:
        with log_context(worker=self.worker_id):
            self._run(once=once)

    def _run(self, *, once: bool) -> None:
        logger.info(
            "Worker %s started with sweep handlers: %s", self.worker_id, ", ".join(sweeper.handlers())
        )
        self.beat(force=True)
        recurring.recurring_jobs_sync()
        if not once:
            self._side_threads = [
                threading.Thread(
                    target=_side_loop_run,
                    args=(name, one_pass, self.stopping, max(self.interval, 0.1), self.worker_id),
                    name=name,
                    daemon=True,
                )
                for name, one_pass in sorted(_side_loops.items())
            ]
            for thread in self._side_threads:
                thread.start()
        try:
            while not self.stopping.is_set():
                did = self.turn()
                if once:
                    for name in sorted(_side_loops):
                        side_loop_once(name, worker_id=self.worker_id)
                    break
                if not did:
                    self.stopping.wait(self.interval)
        finally:
            self.stopping.set()
            for thread in self._side_threads:
                thread.join()
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            close_old_connections()
            logger.info("Worker %s stopped", self.worker_id)

    def stop(self) -> None:
        """Finish the task in hand, then leave the loop."""
        self.stopping.set()
        if self._task_worker is not None:
            self._task_worker.running = False
