"""Recurring jobs: local times across daylight saving changes, one run per period, failures, crashes,
catch-up after downtime, the schedule rows, and what state administrators see."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from kynect.core import recurring
from kynect.core.logging import log_context_current
from kynect.core.models import RecurringJob, RecurringJobRun, WorkerHeartbeat
from kynect.core.worker import WorkerLoop

EASTERN = "America/New_York"  # Louisville, Lexington, Frankfort
CENTRAL = "America/Chicago"  # Bowling Green, Paducah
NIGHTLY = recurring.daily(at=time(2, 0))
FIRST_OF_MONTH = recurring.monthly(day=1, at=time(2, 0))

Register = Callable[..., str]


@pytest.fixture
def register_job() -> Iterator[Register]:
    """Register recurring jobs under unique names, alone: the apps' own jobs (the nightly retention) are set
    aside during the test and put back after it."""
    added: list[str] = []
    apps_jobs = recurring.jobs()
    for name in apps_jobs:
        recurring._jobs.pop(name)

    def _register(
        handler: recurring.JobHandler,
        *,
        schedule: recurring.Schedule = NIGHTLY,
        time_zone: str = EASTERN,
        catch_up: recurring.CatchUp = recurring.CatchUp.LATEST_PERIOD,
    ) -> str:
        name = f"tests.{uuid.uuid4().hex[:12]}"
        recurring.register(name, schedule=schedule, time_zone=time_zone, catch_up=catch_up)(handler)
        added.append(name)
        return name

    yield _register
    for name in added:
        recurring._jobs.pop(name, None)
    recurring._jobs.update(apps_jobs)


class Recorder:
    """A job handler that remembers each period it ran for, and when."""

    def __init__(self) -> None:
        self.calls: list[tuple[date, datetime]] = []

    def __call__(self, *, period: date, due_at: datetime) -> None:
        self.calls.append((period, due_at))

    @property
    def periods(self) -> list[date]:
        return [period for period, _due in self.calls]


def at(moment: datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def run_through(start: datetime, end: datetime, step: timedelta = timedelta(minutes=15)) -> list[datetime]:
    """Run the due jobs at every step from start to end; returns the moments a period succeeded."""
    moments = []
    moment = start
    while moment <= end:
        with at(moment):
            if recurring.recurring_run_due():
                moments.append(moment)
        moment += step
    return moments


# Times in a job's zone


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # Daylight saving time starts on 8 March 2026: 02:00 does not exist; the run is at 03:00 EDT.
        (date(2026, 3, 7), datetime(2026, 3, 7, 7, 0, tzinfo=UTC)),
        (date(2026, 3, 8), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        (date(2026, 3, 9), datetime(2026, 3, 9, 6, 0, tzinfo=UTC)),
        # It ends on 1 November 2026: 01:00 to 02:00 happens twice, 02:00 once (EST).
        (date(2026, 10, 31), datetime(2026, 10, 31, 6, 0, tzinfo=UTC)),
        (date(2026, 11, 1), datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
        (date(2026, 11, 2), datetime(2026, 11, 2, 7, 0, tzinfo=UTC)),
    ],
)
def test_the_nightly_time_is_local_across_daylight_saving_changes(period, expected):
    job = recurring.Job("t", NIGHTLY, EASTERN, recurring.CatchUp.LATEST_PERIOD, Recorder())
    assert job.due_at(period) == expected


def test_a_time_that_happens_twice_means_its_first_occurrence():
    job = recurring.Job(
        "t", recurring.daily(at=time(1, 30)), EASTERN, recurring.CatchUp.LATEST_PERIOD, Recorder()
    )
    assert job.due_at(date(2026, 11, 1)) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


def test_next_and_latest_periods_of_a_monthly_job_cross_the_year():
    job = recurring.Job(
        "t", recurring.monthly(day=15, at=time(6, 0)), CENTRAL, recurring.CatchUp.LATEST_PERIOD, Recorder()
    )
    # 15 December 2026, 06:00 CST is 12:00 UTC.
    assert job.latest_period(now=datetime(2026, 12, 15, 11, 59, tzinfo=UTC)) == date(2026, 11, 15)
    assert job.latest_period(now=datetime(2026, 12, 15, 12, 0, tzinfo=UTC)) == date(2026, 12, 15)
    assert job.next_period(after=datetime(2026, 12, 15, 12, 0, tzinfo=UTC)) == date(2027, 1, 15)
    assert job.next_period(after=datetime(2026, 12, 1, tzinfo=UTC)) == date(2026, 12, 15)
    assert job.latest_period(now=datetime(2027, 1, 3, tzinfo=UTC)) == date(2026, 12, 15)


@pytest.mark.parametrize("day", [0, 29, 31])
def test_a_monthly_day_some_months_lack_is_refused(day):
    with pytest.raises(ValueError, match="from 1 to 28"):
        recurring.monthly(day=day, at=time(2, 0))


def test_a_time_with_its_own_zone_and_an_unknown_zone_are_refused():
    with pytest.raises(ValueError, match="local"):
        recurring.daily(at=time(2, 0, tzinfo=UTC))
    with pytest.raises(Exception, match="Kentucky"):
        recurring.register("tests.bad_zone", schedule=NIGHTLY, time_zone="America/Kentucky")


def test_a_name_cannot_be_registered_twice_for_two_handlers(register_job):
    name = register_job(Recorder())
    with pytest.raises(ValueError, match="already registered"):
        recurring.register(name, schedule=NIGHTLY, time_zone=EASTERN)(Recorder())


# Running


@pytest.mark.django_db
def test_the_nightly_job_runs_once_a_night_at_two_across_the_spring_change(register_job):
    job = Recorder()
    register_job(job)
    with at(datetime(2026, 3, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    moments = run_through(datetime(2026, 3, 6, 12, 0, tzinfo=UTC), datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    assert job.periods == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    assert moments == [
        datetime(2026, 3, 7, 7, 0, tzinfo=UTC),  # 02:00 EST
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 EDT, when the clock skips 02:00
        datetime(2026, 3, 9, 6, 0, tzinfo=UTC),  # 02:00 EDT
    ]


@pytest.mark.django_db
def test_the_nightly_job_runs_once_on_the_night_an_hour_repeats(register_job):
    job = Recorder()
    register_job(job, time_zone=CENTRAL)
    with at(datetime(2026, 10, 30, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    moments = run_through(datetime(2026, 10, 30, 12, 0, tzinfo=UTC), datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
    assert job.periods == [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    assert moments == [
        datetime(2026, 10, 31, 7, 0, tzinfo=UTC),  # 02:00 CDT
        datetime(2026, 11, 1, 8, 0, tzinfo=UTC),  # 02:00 CST, after 01:00 to 02:00 came twice
        datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
    ]


@pytest.mark.django_db
def test_the_first_of_the_month_comes_an_hour_later_in_central_time(register_job):
    eastern, central = Recorder(), Recorder()
    register_job(eastern, schedule=FIRST_OF_MONTH, time_zone=EASTERN)
    register_job(central, schedule=FIRST_OF_MONTH, time_zone=CENTRAL)
    with at(datetime(2026, 11, 20, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 1, 7, 30, tzinfo=UTC)):  # 02:30 in Louisville, 01:30 in Paducah
        assert recurring.recurring_run_due() == 1
    assert eastern.calls == [(date(2026, 12, 1), datetime(2026, 12, 1, 7, 0, tzinfo=UTC))]
    assert central.calls == []
    with at(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)):
        assert recurring.recurring_run_due() == 1
    assert central.calls == [(date(2026, 12, 1), datetime(2026, 12, 1, 8, 0, tzinfo=UTC))]
    rows = {row.time_zone: row for row in RecurringJob.objects.all()}
    assert rows[EASTERN].next_due_at == datetime(2027, 1, 1, 7, 0, tzinfo=UTC)
    assert rows[CENTRAL].next_due_at == datetime(2027, 1, 1, 8, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_period_runs_once_however_often_the_worker_asks(register_job):
    job = Recorder()
    name = register_job(job)
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 7, 7, 1, tzinfo=UTC)):
        assert recurring.recurring_run_due(worker_id="worker-a") == 1
        assert recurring.recurring_run_due(worker_id="worker-b") == 0
    assert job.periods == [date(2026, 12, 7)]
    run = RecurringJobRun.objects.get(job_id=name)
    assert (run.period, run.outcome, run.attempts, run.worker_id) == (
        date(2026, 12, 7),
        RecurringJob.Outcome.SUCCEEDED,
        1,
        "worker-a",
    )
    row = RecurringJob.objects.get(name=name)
    assert (row.last_period, row.last_outcome, row.next_period) == (
        date(2026, 12, 7),
        RecurringJob.Outcome.SUCCEEDED,
        date(2026, 12, 8),
    )
    assert row.last_finished_at == datetime(2026, 12, 7, 7, 1, tzinfo=UTC)


@pytest.mark.django_db
def test_a_period_that_succeeded_never_runs_again_even_if_its_row_says_it_is_due(register_job):
    job = Recorder()
    name = register_job(job)
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 7, 7, 1, tzinfo=UTC)):
        recurring.recurring_run_due()
        RecurringJob.objects.filter(name=name).update(
            next_period=date(2026, 12, 7), next_due_at=datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
        )
        assert recurring.recurring_run_due() == 0
    assert job.periods == [date(2026, 12, 7)]
    assert RecurringJob.objects.get(name=name).next_period == date(2026, 12, 8)


def _work_marker(period: date) -> str:
    return f"job-work-{period}"


def _write_work(period: date) -> None:
    """Database work a job does: a row the test can look for afterwards."""
    WorkerHeartbeat.objects.create(
        worker_id=_work_marker(period),
        hostname="job",
        pid=1,
        started_at=datetime.now(UTC),
        last_beat_at=datetime.now(UTC),
    )


@pytest.mark.django_db
def test_a_failed_run_is_rolled_back_recorded_and_tried_again_later(register_job):
    attempts: list[date] = []

    def flaky(*, period: date, due_at: datetime) -> None:
        attempts.append(period)
        _write_work(period)
        if len(attempts) == 1:
            raise ConnectionError("the report store did not answer")

    name = register_job(flaky)
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    failed_at = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    with at(failed_at):
        assert recurring.recurring_run_due() == 0
    assert not WorkerHeartbeat.objects.filter(worker_id=_work_marker(date(2026, 12, 7))).exists()
    run = RecurringJobRun.objects.get(job_id=name)
    assert (run.outcome, run.attempts, run.error) == (RecurringJob.Outcome.FAILED, 1, "ConnectionError")
    row = RecurringJob.objects.get(name=name)
    assert (row.last_outcome, row.next_period, row.retry_at) == (
        RecurringJob.Outcome.FAILED,
        date(2026, 12, 7),
        failed_at + recurring.RETRY_AFTER,
    )

    with at(failed_at + recurring.RETRY_AFTER - timedelta(seconds=1)):
        assert recurring.recurring_run_due() == 0
    with at(failed_at + recurring.RETRY_AFTER):
        assert recurring.recurring_run_due() == 1
    assert attempts == [date(2026, 12, 7), date(2026, 12, 7)]
    assert WorkerHeartbeat.objects.filter(worker_id=_work_marker(date(2026, 12, 7))).count() == 1
    run = RecurringJobRun.objects.get(job_id=name)
    assert (run.outcome, run.attempts, run.error) == (RecurringJob.Outcome.SUCCEEDED, 2, "")
    row = RecurringJob.objects.get(name=name)
    assert (row.last_outcome, row.next_period, row.retry_at) == (
        RecurringJob.Outcome.SUCCEEDED,
        date(2026, 12, 8),
        None,
    )


class WorkerKilled(BaseException):
    """Stands for the process dying mid-run: nothing in the worker catches it."""


@pytest.mark.django_db
def test_a_run_cut_short_by_a_crash_leaves_no_trace_and_its_period_still_due(register_job):
    crashes = [False, True]  # popped from the end: the first run crashes, the second does not
    done: list[date] = []

    def job(*, period: date, due_at: datetime) -> None:
        _write_work(period)
        if crashes.pop():
            raise WorkerKilled
        done.append(period)

    name = register_job(job)
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 7, 7, 0, tzinfo=UTC)), pytest.raises(WorkerKilled):
        recurring.recurring_run_due()
    assert not WorkerHeartbeat.objects.filter(worker_id=_work_marker(date(2026, 12, 7))).exists()
    assert not RecurringJobRun.objects.filter(job_id=name).exists()
    row = RecurringJob.objects.get(name=name)
    assert (row.next_period, row.last_outcome, row.retry_at) == (date(2026, 12, 7), "", None)

    with at(datetime(2026, 12, 7, 7, 1, tzinfo=UTC)):
        assert recurring.recurring_run_due() == 1
        assert recurring.recurring_run_due() == 0
    assert done == [date(2026, 12, 7)]
    assert WorkerHeartbeat.objects.filter(worker_id=_work_marker(date(2026, 12, 7))).count() == 1
    assert RecurringJobRun.objects.get(job_id=name).outcome == RecurringJob.Outcome.SUCCEEDED


@pytest.mark.django_db
def test_after_downtime_a_nightly_job_runs_once_for_the_latest_night(register_job):
    job = Recorder()
    name = register_job(job)
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 10, 15, 0, tzinfo=UTC)):  # no worker ran for three nights
        assert recurring.recurring_run_due() == 1
        assert recurring.recurring_run_due() == 0
    assert job.periods == [date(2026, 12, 10)]
    assert list(RecurringJobRun.objects.filter(job_id=name).values_list("period", flat=True)) == [
        date(2026, 12, 10)
    ]
    assert RecurringJob.objects.get(name=name).next_due_at == datetime(2026, 12, 11, 7, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_after_downtime_a_job_owed_every_period_runs_each_missed_one_oldest_first(register_job):
    job = Recorder()
    name = register_job(job, schedule=FIRST_OF_MONTH, catch_up=recurring.CatchUp.EVERY_PERIOD)
    with at(datetime(2026, 8, 20, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 11, 15, tzinfo=UTC)):  # September, October and November were missed
        assert [recurring.recurring_run_due() for _ in range(4)] == [1, 1, 1, 0]
    assert job.periods == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert [due for _period, due in job.calls] == [
        datetime(2026, 9, 1, 6, 0, tzinfo=UTC),
        datetime(2026, 10, 1, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 7, 0, tzinfo=UTC),  # standard time: daylight time ended at 02:00 that night
    ]
    assert RecurringJob.objects.get(name=name).next_period == date(2026, 12, 1)


# Schedule rows


@pytest.mark.django_db
def test_sync_creates_a_row_due_at_the_next_period_and_is_idempotent(register_job):
    name = register_job(Recorder(), schedule=FIRST_OF_MONTH, time_zone=CENTRAL)
    with at(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)):  # the 02:00 CST run of December has passed
        assert recurring.recurring_jobs_sync() == 1
        assert recurring.recurring_jobs_sync() == 0
        assert recurring.recurring_run_due() == 0
    row = RecurringJob.objects.get(name=name)
    assert (row.schedule, row.time_zone, row.next_period, row.next_due_at) == (
        "monthly on day 1 at 02:00",
        CENTRAL,
        date(2027, 1, 1),
        datetime(2027, 1, 1, 8, 0, tzinfo=UTC),
    )


@pytest.mark.django_db
def test_sync_reschedules_a_job_whose_schedule_changed_in_code(register_job):
    handler = Recorder()
    name = register_job(handler)
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
        recurring._jobs[name] = recurring.Job(
            name, recurring.daily(at=time(23, 30)), EASTERN, recurring.CatchUp.LATEST_PERIOD, handler
        )
        assert recurring.recurring_jobs_sync() == 1
    row = RecurringJob.objects.get(name=name)
    assert (row.schedule, row.next_period, row.next_due_at) == (
        "daily at 23:30",
        date(2026, 12, 6),
        datetime(2026, 12, 7, 4, 30, tzinfo=UTC),
    )


@pytest.mark.django_db
def test_a_row_whose_job_is_no_longer_registered_is_kept_and_never_run(register_job):
    RecurringJob.objects.create(
        name="tests.removed",
        schedule="daily at 02:00",
        time_zone=EASTERN,
        next_period=date(2026, 12, 7),
        next_due_at=datetime(2026, 12, 7, 7, 0, tzinfo=UTC),
    )
    with at(datetime(2026, 12, 8, tzinfo=UTC)):
        assert recurring.recurring_jobs_sync() == 0
        assert recurring.recurring_run_due() == 0
    assert RecurringJob.objects.get(name="tests.removed").last_outcome == ""


@pytest.mark.django_db(transaction=True)
def test_the_worker_makes_the_rows_on_start_and_runs_what_is_due(register_job):
    job = Recorder()
    name = register_job(job)
    with at(datetime(2026, 12, 7, 6, 59, tzinfo=UTC)):
        WorkerLoop(interval=0).run(once=True)
    assert job.calls == []
    assert RecurringJob.objects.get(name=name).next_period == date(2026, 12, 7)
    with at(datetime(2026, 12, 7, 7, 0, tzinfo=UTC)):
        loop = WorkerLoop(interval=0)
        loop.run(once=True)
    assert job.periods == [date(2026, 12, 7)]
    assert RecurringJobRun.objects.get(job_id=name).worker_id == loop.worker_id


# What state administrators see


@pytest.mark.django_db
def test_the_list_command_shows_schedule_last_run_outcome_and_next_due(register_job):
    ran = register_job(Recorder())
    waiting = register_job(Recorder(), schedule=FIRST_OF_MONTH, time_zone=CENTRAL)
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 7, 7, 5, tzinfo=UTC)):
        recurring.recurring_run_due()
    out = StringIO()
    call_command("recurring_jobs", "list", stdout=out)
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()}
    assert lines[ran] == (
        f"{ran}  daily at 02:00 (America/New_York)  last 2026-12-07 succeeded at 2026-12-07 02:05 EST  "
        "next 2026-12-08 due 2026-12-08 02:00 EST"
    )
    assert lines[waiting] == (
        f"{waiting}  monthly on day 1 at 02:00 (America/Chicago)  never run  "
        "next 2027-01-01 due 2027-01-01 02:00 CST"
    )


@pytest.mark.django_db
def test_the_list_command_names_a_job_without_a_row_yet(register_job):
    name = register_job(Recorder())
    out = StringIO()
    call_command("recurring_jobs", "list", stdout=out)
    assert f"{name}  daily at 02:00 (America/New_York)  no schedule row yet" in out.getvalue()


@pytest.mark.django_db
def test_state_administrators_read_jobs_and_runs_in_the_admin_and_change_nothing(
    client, django_user_model, register_job
):
    name = register_job(Recorder())
    with at(datetime(2026, 12, 6, 12, 0, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 7, 7, 0, tzinfo=UTC)):
        recurring.recurring_run_due()
    admin_user = django_user_model.objects.create_superuser(
        email="state-admin@example.org", password="x-long-password-1"
    )
    client.force_login(admin_user)

    listing = client.get(reverse("admin:core_recurringjob_changelist"))
    assert listing.status_code == 200
    assert name in listing.content.decode()
    detail = client.get(reverse("admin:core_recurringjob_change", args=[name]))
    assert detail.status_code == 200
    assert "Dec. 7, 2026" in detail.content.decode()  # its last period, and its runs
    assert client.get(reverse("admin:core_recurringjobrun_changelist")).status_code == 200
    assert client.get(reverse("admin:core_recurringjob_add")).status_code == 403
    assert client.post(reverse("admin:core_recurringjob_delete", args=[name])).status_code == 403
    assert RecurringJob.objects.filter(name=name).exists()


@pytest.mark.django_db
def test_a_job_logs_with_its_name(register_job):
    seen: list[dict[str, str]] = []
    name = register_job(lambda *, period, due_at: seen.append(log_context_current()), schedule=FIRST_OF_MONTH)
    with at(datetime(2026, 11, 20, tzinfo=UTC)):
        recurring.recurring_jobs_sync()
    with at(datetime(2026, 12, 1, 7, 30, tzinfo=UTC)):
        assert recurring.recurring_run_due() == 1

    assert seen == [{"job": name}]
    assert log_context_current() == {}
