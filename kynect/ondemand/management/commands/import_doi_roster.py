"""Load the Department of Insurance producer roster: upsert by NPN, report bad rows, keep good ones."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.interop.doi.roster import RosterFileError, roster_parse
from kynect.ondemand.services.roster import licence_roster_import


class Command(BaseCommand):
    help = (
        "Import the Department of Insurance licence roster (CSV). Good rows are loaded or updated by NPN; "
        "bad rows are printed and written to a CSV report (line, field, reason). Running it again on the "
        "same file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The roster CSV file.")
        parser.add_argument(
            "--report",
            type=Path,
            help="Where to write the bad-row report (default: FILE's name with .report.csv, beside it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        report: Path = options["report"] or path.with_name(f"{path.stem}.report.csv")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            roster = roster_parse(data)
        except RosterFileError as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from exc

        summary = licence_roster_import(roster=roster)

        for problem in summary.problems:
            field = f" {problem.field}" if problem.field else ""
            self.stderr.write(f"line {problem.line}{field}: {problem.reason}")
        try:
            with report.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "field", "reason"])
                for problem in summary.problems:
                    writer.writerow([problem.line, problem.field, problem.reason])
        except OSError as exc:
            raise CommandError(f"Imported, but cannot write the report {report}: {exc.strerror}.") from exc
        self.stdout.write(
            f"{len(roster.rows)} good rows: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged. {len(summary.problems)} bad rows (report: {report}). "
            f"{summary.deregistered} agents de-registered: their licence no longer qualifies."
        )
