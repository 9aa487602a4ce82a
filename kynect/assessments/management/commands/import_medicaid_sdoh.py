"""Load the Medicaid application's SDoH answers (JSON Lines from IEES) as residents' risk factors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.assessments.services_import import medicaid_sdoh_import
from kynect.interop.iees.medicaid_sdoh import medicaid_sdoh_parse


class Command(BaseCommand):
    help = (
        "Import the Medicaid application's SDoH answers (JSON Lines, docs/reference/medicaid-sdoh.md) as "
        "risk factors with source 'Medicaid application', matched to residents by client ID. A file with a "
        "bad line imports nothing and lists every problem; records matching no resident are listed, not "
        "guessed. Running it again on the same file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The JSON Lines file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        records, problems = medicaid_sdoh_parse(data)
        if problems:
            for problem in problems:
                self.stderr.write(f"line {problem.line}: {problem.reason}")
            raise CommandError(f"{path}: {len(problems)} bad lines. Nothing was imported.")
        summary = medicaid_sdoh_import(records=records)
        for record in summary.unmatched:
            self.stdout.write(
                f"line {record.line}: record {record.record_id} matches no resident by client ID"
            )
        self.stdout.write(
            f"{len(records)} records: {summary.matched_records} matched, {len(summary.unmatched)} unmatched. "
            f"{summary.stored} ratings stored, {summary.unchanged} already there."
        )
