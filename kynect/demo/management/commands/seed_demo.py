"""Create the demo organizations, one demo user for every role and the On Demand demo helpers.

Idempotent; demo only. Each app seeds its own data; this command only composes them, in order.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kynect.accounts.demo import USERS, demo_accounts_seed, demo_state_admin
from kynect.ondemand.demo import demo_helpers_seed


class Command(BaseCommand):
    help = "Create demo organizations and one demo user per role (only when DJANGO_ENV=demo)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DJANGO_ENV != "demo":
            raise CommandError(f"seed_demo only runs with DJANGO_ENV=demo (this is {settings.DJANGO_ENV!r}).")
        with transaction.atomic():
            created_users = demo_accounts_seed()
            helpers = demo_helpers_seed(state_admin=demo_state_admin())
        self.stdout.write(
            f"Demo data ready: {created_users} users created, {len(USERS)} demo users in all; "
            f"{helpers} kynect On Demand helpers registered."
        )
