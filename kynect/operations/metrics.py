"""Operational metrics for Prometheus (ADR 0031), read from the database when Prometheus scrapes.

Every figure here is the platform's shared state in PostgreSQL, so any app server gives the same answer
and no process keeps counters of its own. Request counts and latency are not here: the load balancer
measures them for all app servers at once (ADR 0031).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kynect.core.periods import Window
from kynect.core.selectors import worker_heartbeats
from kynect.notifications.selectors import outbox_backlog
from kynect.ondemand.deadlines import deadlines_oldest_due
from kynect.ondemand.selectors_oversight import call_backs

# The On Demand call-back share is taken over requests whose 30-minute clock started this long ago or less.
CALL_BACK_WINDOW = timedelta(hours=24)


def _age_seconds(since: datetime | None, now: datetime) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


class PlatformCollector(Collector):
    """The platform's figures at `now`."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        yield from self._outbox()
        yield from self._deadlines()
        yield from self._workers()
        yield from self._call_backs()

    def _outbox(self) -> Iterator[Metric]:
        unsent = GaugeMetricFamily(
            "kynect_outbox_unsent_messages",
            "Outbox messages not sent yet, by channel and status: pending (waiting, retries included) or "
            "sending (claimed by a worker).",
            labels=["channel", "status"],
        )
        oldest = GaugeMetricFamily(
            "kynect_outbox_oldest_due_age_seconds",
            "Seconds since the oldest pending message that is due to be sent fell due (0 when none is due).",
            labels=["channel"],
        )
        for backlog in outbox_backlog(now=self.now):
            unsent.add_metric([backlog.channel, "pending"], backlog.pending)
            unsent.add_metric([backlog.channel, "sending"], backlog.sending)
            oldest.add_metric([backlog.channel], _age_seconds(backlog.oldest_due_at, self.now))
        yield unsent
        yield oldest

    def _deadlines(self) -> Iterator[Metric]:
        oldest = GaugeMetricFamily(
            "kynect_deadline_oldest_due_age_seconds",
            "Seconds since the oldest deadline of each kind that the sweeper has not applied yet fell due "
            "(0 when none is due).",
            labels=["deadline"],
        )
        for name, due_at in deadlines_oldest_due(now=self.now).items():
            oldest.add_metric([name], _age_seconds(due_at, self.now))
        yield oldest

    def _workers(self) -> Iterator[Metric]:
        heartbeats = worker_heartbeats(now=self.now)
        yield GaugeMetricFamily(
            "kynect_workers_alive",
            "Workers whose heartbeat is no older than WORKER_HEARTBEAT_STALE_SECONDS.",
            value=heartbeats.alive,
        )
        if heartbeats.newest_age_seconds is not None:
            yield GaugeMetricFamily(
                "kynect_worker_newest_heartbeat_age_seconds",
                "Seconds since the newest worker heartbeat (absent when no worker has ever beaten).",
                value=max(heartbeats.newest_age_seconds, 0.0),
            )

    def _call_backs(self) -> Iterator[Metric]:
        period = Window(start=self.now - CALL_BACK_WINDOW, end=self.now)
        figures = call_backs(period=period, now=self.now)
        counts = GaugeMetricFamily(
            "kynect_ondemand_call_backs",
            "On Demand help requests whose 30-minute clock started in the last 24 hours and that are due or "
            "called, by outcome (as on the On Demand dashboard).",
            labels=["outcome"],
        )
        counts.add_metric(["on_time"], figures.on_time)
        counts.add_metric(["late"], figures.late)
        counts.add_metric(["not_called"], figures.not_called)
        yield counts
        if figures.on_time_share is not None:
            yield GaugeMetricFamily(
                "kynect_ondemand_called_back_on_time_ratio",
                "Share of those requests called back within their 30 minutes (absent when none is due).",
                value=figures.on_time_share,
            )
