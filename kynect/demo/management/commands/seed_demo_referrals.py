"""Give the demo partner organizations directory listings and make demo referrals, and give the demo
residents risk factors, after `seed_demo` and `load_demo_directory`. Idempotent; demo only."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kynect.assessments.demo import demo_assessments_seed
from kynect.referrals.demo import demo_referrals_seed
from kynect.referrals.models import Referral


class Command(BaseCommand):
    help = "Create the demo listings, residents and referrals (only when DJANGO_ENV=demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DJANGO_ENV != "demo":
            raise CommandError(
                f"seed_demo_referrals only runs with DJANGO_ENV=demo (this is {settings.DJANGO_ENV!r})."
            )
        made = demo_referrals_seed()
        self.stdout.write(f"Demo referrals ready: {made} made, {Referral.objects.count()} in all.")
        ratings = demo_assessments_seed()
        self.stdout.write(f"Demo risk factors ready: {ratings} made.")
