"""Make or re-make a month's Community Partner Incentive report and print the path of its CSV."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.reporting.incentive import (
    IncentiveReportError,
    incentive_report_file,
    incentive_report_make,
    month_parse,
)


class Command(BaseCommand):
    help = "Make (or re-make) the incentive report of a month, YYYY-MM, and print the path of its CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="The month to report, YYYY-MM (Kentucky's clock).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = incentive_report_make(month=month_parse(options["month"]))
        except IncentiveReportError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(incentive_report_file(report)))
