"""Make, revoke and list the API keys of the kynect On Demand help-request API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.ondemand.models import ApiKey
from kynect.ondemand.services.api_keys import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = (
        "Manage API keys for POST /api/ondemand/help-requests. `create NAME` prints the new key once: "
        "it is not stored and cannot be shown again. `revoke PREFIX` stops a key. `list` shows the keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a key and print it once.")
        create.add_argument("name", help="Who uses the key, like 'kynect.ky.gov' or 'Call centre'.")
        create.add_argument(
            "--no-rate-limit",
            action="store_true",
            help="Exempt this trusted caller from the per-key limit.",
        )
        revoke = actions.add_parser("revoke", help="Stop a key from working.")
        revoke.add_argument("prefix", help="The key's prefix (the 8 characters after 'kod_').")
        actions.add_parser("list", help="List the keys (prefix, name, state, last use).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            name = options["name"].strip()
            if not name:
                raise CommandError("Give the key a name.")
            api_key, key = api_key_create(name=name, rate_limited=not options["no_rate_limit"])
            self.stdout.write(f"Created API key {api_key.prefix} for {api_key.name}.")
            self.stdout.write("The key is shown only now. Keep it secret; send it in the X-API-Key header:")
            self.stdout.write(key)
        elif action == "revoke":
            try:
                api_key = api_key_revoke(prefix=options["prefix"].strip())
            except ValidationError as error:
                raise CommandError(error.messages[0]) from error
            self.stdout.write(f"Revoked API key {api_key.prefix} ({api_key.name}).")
        else:
            for api_key in ApiKey.objects.order_by("name"):
                state = "active" if api_key.is_active else "revoked"
                limit = "rate limited" if api_key.rate_limited else "not rate limited"
                used = api_key.last_used_at.isoformat() if api_key.last_used_at else "never used"
                self.stdout.write(f"{api_key.prefix}  {api_key.name}  {state}  {limit}  {used}")
