"""Recurring jobs under real concurrency (PostgreSQL): workers that ask at the same moment run each period
once, and a worker never waits for a job another worker is running."""

from __future__ import annotations

import threading
import time as monotonic_time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
import time_machine

from kynect.core import recurring
from kynect.core.models import RecurringJob, RecurringJobRun
from kynect.core.tests.concurrency import in_threads, postgresql_only

pytestmark = [postgresql_only, pytest.mark.django_db(transaction=True)]

RUN_SECONDS = 1.0


@pytest.fixture
def job_names() -> Iterator[list[str]]:
    """The test's own jobs, alone: the apps' jobs (the nightly retention) are set aside and put back."""
    names: list[str] = []
    apps_jobs = recurring.jobs()
    for name in apps_jobs:
        recurring._jobs.pop(name)
    yield names
    for name in names:
        recurring._jobs.pop(name, None)
    recurring._jobs.update(apps_jobs)


def test_four_workers_asking_at_once_run_the_night_once_and_do_not_wait_for_it(job_names):
    ran: list[date] = []
    lock = threading.Lock()

    def slow_job(*, period: date, due_at: datetime) -> None:
        with lock:
            ran.append(period)
        monotonic_time.sleep(RUN_SECONDS)

    name = f"tests.{uuid.uuid4().hex[:12]}"
    recurring.register(name, schedule=recurring.daily(at=time(2, 0)), time_zone="America/New_York")(slow_job)
    job_names.append(name)

    with time_machine.travel(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), tick=False):
        recurring.recurring_jobs_sync()

    def worker(i: int) -> tuple[int, float]:
        started = monotonic_time.monotonic()
        succeeded = recurring.recurring_run_due(worker_id=f"worker-{i}")
        return succeeded, monotonic_time.monotonic() - started

    with time_machine.travel(datetime(2026, 12, 7, 7, 0, tzinfo=UTC), tick=False):
        results = in_threads(4, worker)

    assert ran == [date(2026, 12, 7)], results
    assert sorted(succeeded for succeeded, _seconds in results) == [0, 0, 0, 1]
    # The three that found the row taken skipped it (SKIP LOCKED) instead of waiting for the run.
    assert all(seconds < RUN_SECONDS for succeeded, seconds in results if succeeded == 0), results
    [run] = RecurringJobRun.objects.filter(job_id=name)
    assert (run.period, run.outcome, run.attempts) == (date(2026, 12, 7), RecurringJob.Outcome.SUCCEEDED, 1)
    assert RecurringJob.objects.get(name=name).next_period == date(2026, 12, 8)


def test_workers_catching_up_share_the_missed_months_and_run_each_once(job_names):
    ran: list[date] = []
    lock = threading.Lock()

    def monthly_report(*, period: date, due_at: datetime) -> None:
        with lock:
            ran.append(period)
        monotonic_time.sleep(0.05)

    name = f"tests.{uuid.uuid4().hex[:12]}"
    recurring.register(
        name,
        schedule=recurring.monthly(day=1, at=time(2, 0)),
        time_zone="America/Chicago",
        catch_up=recurring.CatchUp.EVERY_PERIOD,
    )(monthly_report)
    job_names.append(name)
    with time_machine.travel(datetime(2026, 6, 15, tzinfo=UTC), tick=False):
        recurring.recurring_jobs_sync()

    caught_up = date(2027, 1, 1)

    def worker(i: int) -> int:
        """Asks for due work until the job has caught up (a bounded number of times): a worker that
        finds the row locked by another skips it, so a fixed number of tries could end too early."""
        total = 0
        for _ in range(2000):
            done = recurring.recurring_run_due(worker_id=f"worker-{i}")
            total += done
            if not done:
                if RecurringJob.objects.get(name=name).next_period == caught_up:
                    break
                monotonic_time.sleep(0.01)
        return total

    with time_machine.travel(datetime(2026, 12, 15, tzinfo=UTC), tick=False):
        results = in_threads(3, worker)

    months = [date(2026, month, 1) for month in range(7, 13)]
    assert ran == months, results  # one at a time, oldest first
    assert sum(results) == len(months)
    assert sorted(RecurringJobRun.objects.filter(job_id=name).values_list("period", flat=True)) == months
    assert RecurringJob.objects.get(name=name).next_period == caught_up
