"""api_token: create for a user or a client (the token alone on the last line), revoke, list; bad input
is a clear error that changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kynect.accounts.models import ApiToken
from kynect.accounts.tests.factories import UserFactory
from kynect.accounts.tokens import api_token_authenticate

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue()


def test_create_for_a_user_prints_the_token_alone_on_the_last_line():
    user = UserFactory(email="ana@example.org")
    printed = run("create", "--user", "ANA@example.org ")
    token = printed.strip().splitlines()[-1]
    api_token = ApiToken.objects.get()
    assert token.startswith(f"kyt_{api_token.prefix}_")
    assert token not in api_token.token_hash
    assert api_token.user == user
    assert api_token.scopes == []
    assert api_token.rate_limited is True
    assert api_token_authenticate(token=token) == api_token


def test_create_for_a_client_with_scopes_and_no_rate_limit():
    printed = run("create", "--client", "kynect.ky.gov", "--scope", "ondemand.intake", "--no-rate-limit")
    token = printed.strip().splitlines()[-1]
    api_token = ApiToken.objects.get()
    assert api_token.client == "kynect.ky.gov"
    assert api_token.user is None
    assert api_token.scopes == ["ondemand.intake"]
    assert api_token.rate_limited is False
    assert api_token_authenticate(token=token) == api_token


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody@example.org"], "No user has the email address nobody@example.org"),
        (["--client", "KHIE", "--scope", "referrals.write"], "Unknown scope referrals.write"),
        (["--client", "KHIE"], "needs at least one scope"),
        (["--client", " ", "--scope", "ondemand.intake"], "either to a user or to a named client"),
        (["--user", "ana@example.org", "--scope", "ondemand.intake"], "scopes are for client tokens"),
    ],
)
def test_bad_input_is_a_clear_error_that_changes_nothing(args, message):
    UserFactory(email="ana@example.org")
    with pytest.raises(CommandError, match=message):
        run("create", *args)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "args",
    [[], ["--user", "ana@example.org", "--client", "KHIE", "--scope", "ondemand.intake"]],
)
def test_create_needs_exactly_one_of_user_and_client(args):
    UserFactory(email="ana@example.org")
    with pytest.raises(CommandError, match="--user"):
        run("create", *args)
    assert not ApiToken.objects.exists()


def test_list_shows_tokens_but_never_the_token_and_revoke_stops_one():
    UserFactory(email="ana@example.org")
    client_token = run("create", "--client", "KHIE", "--scope", "ondemand.intake").strip().splitlines()[-1]
    user_token = run("create", "--user", "ana@example.org").strip().splitlines()[-1]
    khie = ApiToken.objects.get(client="KHIE")
    listed = run("list")
    assert f"{khie.prefix}  client KHIE  ondemand.intake  active  rate limited  never used" in listed
    assert "user ana@example.org  -  active" in listed
    assert client_token not in listed
    assert user_token not in listed
    assert "Revoked API token" in run("revoke", khie.prefix)
    assert api_token_authenticate(token=client_token) is None
    assert api_token_authenticate(token=user_token) is not None
    assert f"{khie.prefix}  client KHIE  ondemand.intake  revoked" in run("list")


def test_revoking_an_unknown_prefix_is_an_error():
    with pytest.raises(CommandError, match="No API token has the prefix 12345678"):
        run("revoke", "12345678")
