"""`recurring_jobs list`: every recurring job, when it runs, how its last run went and when it is next due."""

from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandParser

from kynect.core import recurring
from kynect.core.models import RecurringJob


class Command(BaseCommand):
    help = "List the recurring jobs: schedule, last run and outcome, next due time."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="action", required=True)
        subcommands.add_parser("list", help="List the recurring jobs and their schedule rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        registered = recurring.jobs()
        rows = {row.name: row for row in RecurringJob.objects.all()}
        if not registered and not rows:
            self.stdout.write("No recurring jobs are registered.")
            return
        for name in sorted(registered.keys() | rows.keys()):
            row = rows.get(name)
            if row is None:
                job = registered[name]
                self.stdout.write(
                    f"{name}  {job.schedule.describe()} ({job.time_zone})  "
                    "no schedule row yet: made on migrate or when a worker starts"
                )
                continue
            zone = ZoneInfo(row.time_zone)
            last = "never run"
            if row.last_period and row.last_finished_at:
                finished = row.last_finished_at.astimezone(zone)
                last = f"last {row.last_period} {row.last_outcome} at {finished:%Y-%m-%d %H:%M %Z}"
            due = row.retry_at or row.next_due_at
            state = "" if name in registered else "  (no longer registered: never run)"
            self.stdout.write(
                f"{name}  {row.schedule} ({row.time_zone})  {last}  "
                f"next {row.next_period} due {due.astimezone(zone):%Y-%m-%d %H:%M %Z}{state}"
            )
