from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.directory.generator import directory_generate


class Command(BaseCommand):
    help = "Write a synthetic Kentucky HSDS 3.0 datapackage (CSV files and datapackage.json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--services", type=int, default=12_000, help="How many services (default 12,000)."
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument("--out", type=Path, required=True, help="Folder to write the datapackage into.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["services"] < 1 or options["services"] > 2_000_000:
            raise CommandError("--services must be between 1 and 2,000,000.")
        out: Path = options["out"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} exists and is not a folder.")
        result = directory_generate(services=options["services"], seed=options["seed"], out=out)
        summary = ", ".join(f"{count} {name}" for name, count in result.counts.items())
        self.stdout.write(f"Wrote {out}/datapackage.json: {summary}.")
