"""Count every whole month into the metrics' summary now, as the nightly job does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kynect.core import clock
from kynect.reporting.counts import metrics_recount
from kynect.reporting.models import MonthlyCount


class Command(BaseCommand):
    help = "Count every whole month into the metrics' summary (the nightly job does it at 01:30 Eastern)."

    def handle(self, *args: Any, **options: Any) -> None:
        run = metrics_recount(now=clock.now())
        months = (
            f"{run.first_month:%Y-%m} to {run.last_month:%Y-%m}" if run.last_month else "no whole month yet"
        )
        self.stdout.write(f"counted {months}: {MonthlyCount.objects.count():,} rows")
