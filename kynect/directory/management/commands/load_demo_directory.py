"""Generate the synthetic Kentucky directory and import it, once. Demo only."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.accounts.demo import demo_partners_onboard
from kynect.accounts.models import Organization as PlatformOrganization
from kynect.directory.generator import directory_generate
from kynect.directory.models import Organization, SearchEntry, Service
from kynect.directory.search import search_index_update


class Command(BaseCommand):
    help = "Load the demo directory (generate_directory + import_hsds) unless it is already loaded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--services", type=int, default=12_000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DJANGO_ENV != "demo":
            raise CommandError(
                f"load_demo_directory only runs with DJANGO_ENV=demo (this is {settings.DJANGO_ENV!r})."
            )
        if Service.objects.exists():
            if not SearchEntry.objects.exists():
                # Loaded by a version that had no search index yet.
                call_command("rebuild_search_index", stdout=self.stdout)
            self._partners_onboard()
            self.stdout.write("Demo directory already loaded.")
            return
        package = Path(settings.BASE_DIR) / "var" / "demo-directory"
        self.stdout.write(f"Generating {options['services']:,} demo services in {package} …")
        directory_generate(services=options["services"], seed=options["seed"], out=package)
        call_command(
            "import_hsds", str(package), report=str(package / "import-report.csv"), stdout=self.stdout
        )
        self._partners_onboard()

    def _partners_onboard(self) -> None:
        """KY Partners are onboarded organizations, never a feed's mark: the demo onboards some, once (a
        directory loaded before onboarding existed gets them on the next run)."""
        if PlatformOrganization.objects.filter(hsds_organization__isnull=False).exists():
            return
        partners = demo_partners_onboard(listings=Organization.objects.values_list("id", "name"))
        search_index_update(
            service_ids=list(
                Service.objects.filter(organization_id__in=partners).values_list("id", flat=True)
            )
        )
        self.stdout.write(f"{len(partners):,} demo organizations onboarded: KY Partners.")
