"""Load a KHIE bundle of SDOH Observations (a file drop) as residents' risk factors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.assessments.services_import import khie_bundle_import


class Command(BaseCommand):
    help = (
        "Import a FHIR R4B Bundle of SDOH Observations from KHIE (docs/reference/fhir-sdoh.md) as "
        "risk factors with source KHIE, matched to residents by identifier or by name and date of "
        "birth. Exit 0 when the bundle was taken; 1 with every problem listed, nothing stored. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The Bundle, as FHIR JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        summary = khie_bundle_import(data=data)
        if summary.problems:
            for problem in summary.problems:
                self.stderr.write(f"{problem.path}: {problem.reason}")
            raise CommandError(f"{path}: {len(summary.problems)} problems. Nothing was stored.")
        for external_id in summary.unmatched:
            self.stdout.write(f"Observation {external_id}: its patient matches no resident")
        self.stdout.write(
            f"{summary.stored} ratings stored, {summary.unchanged} already there, {len(summary.unmatched)} "
            f"unmatched, {summary.skipped} Observations that rate nothing kynect knows."
        )
