"""`manage.py import_hsds PATH [--full-feed] [--report FILE]`: see docs/reference/import_hsds.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.directory.importers import ENTITY_ORDER, ImportInputError, ImportResult, hsds_import
from kynect.directory.importers.report import Problem

BAR_WIDTH = 20


class Command(BaseCommand):
    help = "Import an HSDS 3.0 tabular datapackage (folder or .zip) or HSDS JSON file, upserting by id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="A datapackage folder or .zip, or an HSDS JSON file.")
        parser.add_argument(
            "--full-feed",
            action="store_true",
            help="The input is complete: imported services missing from it become inactive.",
        )
        parser.add_argument(
            "--report",
            type=Path,
            default=None,
            help=(
                "Where to write the CSV problem report (default var/import-reports/"
                "import-report-<timestamp>.csv in the project folder)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        is_tty = self.stderr.isatty()
        last_entity: list[str] = []

        def show_problem(problem: Problem) -> None:
            if is_tty and last_entity:
                self.stderr.write("")
            self.stderr.write(str(problem))

        def show_progress(entity: str, done: int, total: int) -> None:
            if is_tty:
                share = done / total if total else 1.0
                filled = round(share * BAR_WIDTH)
                bar = "#" * filled + "." * (BAR_WIDTH - filled)
                self.stderr.write(f"\r[{bar}] {share:4.0%} {entity} {done}/{total}", ending="")
                self.stderr.flush()
                last_entity[:] = [entity]
            elif done == total and total:
                self.stderr.write(f"{entity}: {done}/{total}")

        try:
            result = hsds_import(
                path=Path(options["path"]),
                full_feed=options["full_feed"],
                report_path=Path(options["report"]) if options["report"] else None,
                on_problem=show_problem,
                on_progress=show_progress,
            )
        except ImportInputError as exc:
            raise CommandError(str(exc)) from exc
        if is_tty:
            self.stderr.write("")
        self._summary(result, full_feed=options["full_feed"])

    def _summary(self, result: ImportResult, *, full_feed: bool) -> None:
        columns = ("entity", "created", "updated", "unchanged", "skipped", "warnings", "errors")
        lines = [f"{columns[0]:<24}" + "".join(f"{name:>10}" for name in columns[1:])]
        for entity in ENTITY_ORDER:
            counts = result.counts[entity]
            numbers = (
                counts.created,
                counts.updated,
                counts.unchanged,
                counts.skipped,
                counts.warnings,
                counts.errors,
            )
            lines.append(f"{entity:<24}" + "".join(f"{number:>10}" for number in numbers))
        self.stdout.write("\n".join(lines))
        if full_feed:
            self.stdout.write(f"Services missing from the full feed, now inactive: {result.deactivated}")
        self.stdout.write(
            f"{result.warnings} warnings, {result.errors} errors in {result.elapsed_seconds:.1f} s; "
            f"report: {result.report_path}"
        )
