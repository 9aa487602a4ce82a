"""Rebuild the directory search index (and, with --hours, every location's opening windows)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kynect.directory.hours import opening_windows_rebuild
from kynect.directory.search import search_index_update
from kynect.directory.search.backends import entry_time_zones_forget


class Command(BaseCommand):
    help = "Rebuild the search index from the directory tables. Safe to run at any time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours", action="store_true", help="Rebuild the opening windows from the schedules first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["hours"]:
            windows = opening_windows_rebuild()
            self.stdout.write(f"{windows:,} opening windows rebuilt.")
        entries = search_index_update()
        entry_time_zones_forget()
        self.stdout.write(f"{entries:,} search entries written in {time.monotonic() - started:.1f} s.")
