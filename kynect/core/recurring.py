"""Recurring jobs: "every night at 02:00 Kentucky time", "the 1st of each month" (DESIGN §5.6, ADR 0024).

Apps register a job in code, in their `AppConfig.ready()`, the way they register sweep handlers::

    @recurring.register(
        "reporting.incentive_monthly",
        schedule=recurring.monthly(day=1, at=time(2, 0)),
        time_zone="America/New_York",
        catch_up=recurring.CatchUp.EVERY_PERIOD,
    )
    def incentive_report_monthly(*, period: date, due_at: datetime) -> None: ...

Each job has a schedule row (`RecurringJob`) holding its next due time, created on migrate and on worker
start. The worker claims a due row like any deadline (`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL;
SQLite has one writer at a time) and runs the job for one period, a local day (`period`), inside the
transaction that holds the claim and records the period as done. So:

- a period that succeeded never runs again (its `RecurringJobRun` row is unique per job and period), with
  two workers or after a crash;
- a crash mid-run rolls the job's database work back with the claim, and the period stays due;
- a run that raises is rolled back too, recorded as failed, and tried again after `RETRY_AFTER`.

A job's database work therefore commits at most once per period. Work outside the database must follow
the platform's rule: outbox rows or tasks enqueued on commit, never a direct send, so that a rolled-back
run sends nothing. A job too big for one transaction enqueues its batches as tasks, each one safe to repeat.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from kynect.core import clock
from kynect.core.logging import log_context
from kynect.core.models import RecurringJob, RecurringJobRun

logger = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=10)


class Schedule(Protocol):
    """The local days a job runs on, and the local time it runs at."""

    @property
    def at(self) -> time: ...

    def day_on_or_before(self, day: date) -> date: ...

    def day_after(self, day: date) -> date: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Daily:
    at: time

    def day_on_or_before(self, day: date) -> date:
        return day

    def day_after(self, day: date) -> date:
        return day + timedelta(days=1)

    def describe(self) -> str:
        return f"daily at {self.at:%H:%M}"


@dataclass(frozen=True)
class Monthly:
    day: int
    at: time

    def day_on_or_before(self, day: date) -> date:
        if day.day >= self.day:
            return day.replace(day=self.day)
        previous_month = day.replace(day=1) - timedelta(days=1)
        return previous_month.replace(day=self.day)

    def day_after(self, day: date) -> date:
        if day.day < self.day:
            return day.replace(day=self.day)
        next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return next_month.replace(day=self.day)

    def describe(self) -> str:
        return f"monthly on day {self.day} at {self.at:%H:%M}"


def daily(*, at: time) -> Daily:
    _check_time(at)
    return Daily(at=at)


def monthly(*, day: int, at: time) -> Monthly:
    """On `day` of every month; days 29 to 31 are refused, since not every month has them."""
    if not 1 <= day <= 28:
        raise ValueError("A monthly job runs on a day from 1 to 28.")
    _check_time(at)
    return Monthly(day=day, at=at)


def _check_time(at: time) -> None:
    if at.tzinfo is not None:
        raise ValueError("A job's time is local to its time zone: give it without a tzinfo.")


class CatchUp(enum.Enum):
    """What a job does about the periods it missed while no worker ran."""

    LATEST_PERIOD = "latest"
    """Run once, for the latest period due; the earlier missed periods are skipped (a nightly pass
    that looks at everything due covers them)."""
    EVERY_PERIOD = "every"
    """Run every missed period once, oldest first (a monthly report owed for each month)."""


class JobHandler(Protocol):
    def __call__(self, *, period: date, due_at: datetime) -> None: ...


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    time_zone: str
    catch_up: CatchUp
    handler: JobHandler

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def due_at(self, period: date) -> datetime:
        """The moment (UTC) the job is due for a period. A local time skipped by the clock going forward
        (02:30 on the night daylight saving time starts) means the moment the clock jumps past it; a
        local time that happens twice (01:30 when it ends) means its first occurrence."""
        local = datetime.combine(period, self.schedule.at, tzinfo=self.zone)
        return local.astimezone(UTC)

    def latest_period(self, *, now: datetime) -> date:
        """The last period due at or before `now`."""
        period = self.schedule.day_on_or_before(now.astimezone(self.zone).date())
        while self.due_at(period) > now:
            period = self.schedule.day_on_or_before(period - timedelta(days=1))
        return period

    def next_period(self, *, after: datetime) -> date:
        """The first period due strictly after `after`."""
        period = self.latest_period(now=after)
        while self.due_at(period) <= after:
            period = self.schedule.day_after(period)
        return period


_jobs: dict[str, Job] = {}


def register(
    name: str, *, schedule: Schedule, time_zone: str, catch_up: CatchUp = CatchUp.LATEST_PERIOD
) -> Callable[[JobHandler], JobHandler]:
    """Register `handler(period=..., due_at=...)` as a recurring job.

    The handler's work must be idempotent per period: it runs inside the transaction that records the
    period as done, so its database work commits at most once; work outside the database goes through
    the outbox or tasks enqueued on commit.
    """
    ZoneInfo(time_zone)  # an unknown zone fails here, at start-up, not at 02:00

    def decorator(handler: JobHandler) -> JobHandler:
        job = Job(name=name, schedule=schedule, time_zone=time_zone, catch_up=catch_up, handler=handler)
        existing = _jobs.get(name)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"A recurring job named {name!r} is already registered.")
        _jobs[name] = job
        return handler

    return decorator


def jobs() -> dict[str, Job]:
    return dict(_jobs)


def recurring_jobs_sync(*, now: datetime | None = None) -> int:
    """Create the schedule row of every registered job that has none, and reschedule a row whose schedule
    or time zone changed in code; returns how many rows were written. Rows of jobs no longer registered
    are left as they are (their history stays readable) and are never run."""
    now = now or clock.now()
    written = 0
    for job in _jobs.values():
        current = RecurringJob.objects.filter(name=job.name).values_list("schedule", "time_zone").first()
        if current == (job.schedule.describe(), job.time_zone):
            continue
        period = job.next_period(after=now)
        RecurringJob.objects.update_or_create(
            name=job.name,
            defaults={
                "schedule": job.schedule.describe(),
                "time_zone": job.time_zone,
                "next_period": period,
                "next_due_at": job.due_at(period),
                "retry_at": None,
            },
        )
        written += 1
    return written


def recurring_run_due(*, now: datetime | None = None, worker_id: str = "") -> int:
    """Run each registered job that is due, for one period each; returns how many periods succeeded.
    A job whose row another worker holds is skipped, not waited for."""
    succeeded = 0
    for name, job in sorted(_jobs.items()):
        with log_context(job=name):
            try:
                succeeded += _run_if_due(job, now=now or clock.now(), worker_id=worker_id)
            except Exception:
                logger.exception("Recurring job %s could not be claimed", name)
    return succeeded


def _run_if_due(job: Job, *, now: datetime, worker_id: str) -> int:
    with transaction.atomic():
        row = (
            RecurringJob.objects.select_for_update(skip_locked=True)
            .filter(name=job.name, next_due_at__lte=now)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .first()
        )
        if row is None:
            return 0
        if job.catch_up is CatchUp.EVERY_PERIOD:
            period = row.next_period
        else:
            period = job.latest_period(now=now)
            if period != row.next_period:
                logger.warning(
                    "Recurring job %s missed the periods from %s; running %s only",
                    job.name,
                    row.next_period,
                    period,
                )
        due_at = job.due_at(period)
        run = RecurringJobRun.objects.filter(job=row, period=period).first()
        if run is not None and run.outcome == RecurringJob.Outcome.SUCCEEDED:
            _advance(row, job, period=period, due_at=due_at)
            return 0
        started_at = clock.now()
        try:
            with transaction.atomic():
                job.handler(period=period, due_at=due_at)
        except Exception as error:
            logger.exception("Recurring job %s failed for %s", job.name, period)
            _record(
                row,
                run,
                period=period,
                due_at=due_at,
                started_at=started_at,
                worker_id=worker_id,
                outcome=RecurringJob.Outcome.FAILED,
                error=type(error).__name__,
            )
            row.retry_at = now + RETRY_AFTER
            row.save(
                update_fields=[
                    "last_period",
                    "last_outcome",
                    "last_started_at",
                    "last_finished_at",
                    "retry_at",
                    "updated_at",
                ]
            )
            return 0
        _record(
            row,
            run,
            period=period,
            due_at=due_at,
            started_at=started_at,
            worker_id=worker_id,
            outcome=RecurringJob.Outcome.SUCCEEDED,
            error="",
        )
        _advance(row, job, period=period, due_at=due_at)
        return 1


def _record(
    row: RecurringJob,
    run: RecurringJobRun | None,
    *,
    period: date,
    due_at: datetime,
    started_at: datetime,
    worker_id: str,
    outcome: str,
    error: str,
) -> None:
    finished_at = clock.now()
    if run is None:
        # The unique (job, period) constraint turns a second writer of the same period into an error
        # that rolls its whole run back.
        run = RecurringJobRun(job=row, period=period, due_at=due_at)
    run.outcome = outcome
    run.attempts += 1
    run.error = error
    run.worker_id = worker_id[:64]
    run.started_at = started_at
    run.finished_at = finished_at
    run.save()
    row.last_period = period
    row.last_outcome = outcome
    row.last_started_at = started_at
    row.last_finished_at = finished_at


def _advance(row: RecurringJob, job: Job, *, period: date, due_at: datetime) -> None:
    row.next_period = job.next_period(after=due_at)
    row.next_due_at = job.due_at(row.next_period)
    row.retry_at = None
    row.save()
