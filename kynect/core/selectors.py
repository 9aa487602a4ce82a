"""Reads of the platform's own state (health, worker heartbeat)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection

from kynect.core import clock
from kynect.core.models import WorkerHeartbeat


@dataclass(frozen=True)
class HealthReport:
    database_ok: bool
    worker_alive: bool
    heartbeat_age_seconds: float | None
    last_heartbeat_at: datetime | None

    @property
    def status(self) -> str:
        return "ok" if self.database_ok and self.worker_alive else "degraded"


def health_report() -> HealthReport:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        last = (
            WorkerHeartbeat.objects.order_by("-last_beat_at").values_list("last_beat_at", flat=True).first()
        )
    except DatabaseError:
        return HealthReport(
            database_ok=False, worker_alive=False, heartbeat_age_seconds=None, last_heartbeat_at=None
        )
    age = (clock.now() - last).total_seconds() if last else None
    alive = age is not None and age <= settings.WORKER_HEARTBEAT_STALE_SECONDS
    return HealthReport(
        database_ok=True, worker_alive=alive, heartbeat_age_seconds=age, last_heartbeat_at=last
    )
