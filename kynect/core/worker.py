"""The background worker: django-tasks' database worker, the deadline sweeper and the recurring jobs, in
one loop."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker

from kynect.core import clock, recurring, sweeper
from kynect.core.logging import log_context
from kynect.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = timedelta(seconds=5)
TASKS_PER_TURN = 50


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
        try:
            while not self.stopping.is_set():
                did = self.turn()
                if once:
                    break
                if not did:
                    self.stopping.wait(self.interval)
        finally:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
            close_old_connections()
            logger.info("Worker %s stopped", self.worker_id)

    def stop(self) -> None:
        """Finish the task in hand, then leave the loop."""
        self.stopping.set()
        if self._task_worker is not None:
            self._task_worker.running = False
