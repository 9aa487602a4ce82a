"""Make, revoke and list API tokens (ADR 0023)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kynect.accounts.models import ApiScope, ApiToken, User
from kynect.accounts.tokens import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = (
        "Manage API tokens. `create --user EMAIL` makes a token that acts as that user; `create --client "
        "NAME --scope S...` makes one for a system client. The new token is printed once, alone on the "
        "last line: it is not stored and cannot be shown again. `revoke PREFIX` stops a token. `list` "
        "shows the tokens, never the tokens themselves."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Make a token and print it once.")
        owner = create.add_mutually_exclusive_group(required=True)
        owner.add_argument("--user", metavar="EMAIL", help="The user the token acts as.")
        owner.add_argument(
            "--client", metavar="NAME", help="The system that uses the token, like 'kynect.ky.gov'."
        )
        create.add_argument(
            "--scope",
            dest="scopes",
            action="extend",
            nargs="+",
            default=[],
            metavar="SCOPE",
            help=f"What a client token may do (one or more of: {', '.join(ApiScope.values)}).",
        )
        create.add_argument(
            "--no-rate-limit",
            action="store_true",
            help="Exempt this trusted caller from per-token limits.",
        )
        revoke = actions.add_parser("revoke", help="Stop a token from working.")
        revoke.add_argument("prefix", help="The token's prefix (the 8 characters after 'kyt_' or 'kod_').")
        actions.add_parser("list", help="List the tokens (prefix, owner, scopes, state, last use).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "revoke":
            try:
                api_token = api_token_revoke(prefix=options["prefix"].strip())
            except ValidationError as error:
                raise CommandError(error.messages[0]) from error
            self.stdout.write(f"Revoked API token {api_token}.")
        else:
            for api_token in ApiToken.objects.select_related("user").order_by("client", "user__email"):
                owner = f"user {api_token.user.email}" if api_token.user else f"client {api_token.client}"
                scopes = ",".join(api_token.scopes) or "-"
                state = "active" if api_token.is_active else "revoked"
                limit = "rate limited" if api_token.rate_limited else "not rate limited"
                used = api_token.last_used_at.isoformat() if api_token.last_used_at else "never used"
                self.stdout.write(f"{api_token.prefix}  {owner}  {scopes}  {state}  {limit}  {used}")

    def _create(self, options: dict[str, Any]) -> None:
        user = None
        if options["user"] is not None:
            email = options["user"].strip()
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(f"No user has the email address {email}.")
        try:
            api_token, token = api_token_create(
                user=user,
                client=options["client"] or "",
                scopes=options["scopes"],
                rate_limited=not options["no_rate_limit"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Created API token {api_token}.")
        self.stdout.write(
            "The token is shown only now. Keep it secret; send it as 'Authorization: Bearer <token>':"
        )
        self.stdout.write(token)
