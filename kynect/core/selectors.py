"""Reads of the platform's own state (health, workers' heartbeats)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Max, Q

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


def database_ready() -> bool:
    """Whether the database answers a query: what an app server needs to serve."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True


def health_report() -> HealthReport:
    """The database and the newest worker heartbeat: whether the whole platform works."""
    down = HealthReport(
        database_ok=False, worker_alive=False, heartbeat_age_seconds=None, last_heartbeat_at=None
    )
    if not database_ready():
        return down
    try:
        last = (
            WorkerHeartbeat.objects.order_by("-last_beat_at").values_list("last_beat_at", flat=True).first()
        )
    except DatabaseError:
        return down
    age = (clock.now() - last).total_seconds() if last else None
    alive = age is not None and age <= settings.WORKER_HEARTBEAT_STALE_SECONDS
    return HealthReport(
        database_ok=True, worker_alive=alive, heartbeat_age_seconds=age, last_heartbeat_at=last
    )


@dataclass(frozen=True)
class WorkerHeartbeats:
    """The workers' signs of life: how many beat within WORKER_HEARTBEAT_STALE_SECONDS, and the age of the
    newest beat (None when no worker has beaten)."""

    alive: int
    newest_age_seconds: float | None


def worker_heartbeats(*, now: datetime) -> WorkerHeartbeats:
    fresh_since = now - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    figures = WorkerHeartbeat.objects.aggregate(
        alive=Count("pk", filter=Q(last_beat_at__gte=fresh_since)), newest=Max("last_beat_at")
    )
    newest = figures["newest"]
    return WorkerHeartbeats(
        alive=figures["alive"], newest_age_seconds=(now - newest).total_seconds() if newest else None
    )
