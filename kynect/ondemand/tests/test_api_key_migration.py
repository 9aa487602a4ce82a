"""The migration that moves On Demand API keys onto API tokens: keys made the old way keep their id,
prefix and hash, and keep authenticating."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.crypto import salted_hmac

from kynect.accounts.models import ApiToken
from kynect.accounts.tokens import api_token_authenticate
from kynect.core.codes import secret_new

MIGRATION = "0007_api_keys_to_tokens"
migration = importlib.import_module(f"kynect.ondemand.migrations.{MIGRATION}")

USED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REVOKED = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def old_key(prefix: str) -> tuple[str, str]:
    """A key and its hash, as the On Demand API made them."""
    key = f"kod_{prefix}_{secret_new()}"
    return key, salted_hmac("kynect.ondemand.api-key", key, algorithm="sha256").hexdigest()


@pytest.mark.django_db(transaction=True)  # the schema editor makes the old table outside a transaction
def test_old_api_keys_become_client_tokens_that_still_authenticate():
    loader = MigrationExecutor(connection).loader
    before = loader.project_state(loader.get_migration("ondemand", MIGRATION).dependencies).apps
    ApiKey = before.get_model("ondemand", "ApiKey")
    with connection.schema_editor() as editor:
        editor.create_model(ApiKey)
    try:
        active_key, active_hash = old_key("1a2b3c4d")
        revoked_key, revoked_hash = old_key("5e6f7a8b")
        active = ApiKey.objects.create(
            name="Call centre", prefix="1a2b3c4d", key_hash=active_hash, last_used_at=USED
        )
        revoked = ApiKey.objects.create(
            name="kynect.ky.gov",
            prefix="5e6f7a8b",
            key_hash=revoked_hash,
            rate_limited=False,
            is_active=False,
            revoked_at=REVOKED,
        )
        with connection.schema_editor() as editor:
            migration.api_keys_to_tokens(before, editor)
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(ApiKey)

    token = ApiToken.objects.get(pk=active.pk)  # the same id: help requests keep pointing at it
    assert (token.prefix, token.token_hash, token.client) == ("1a2b3c4d", active_hash, "Call centre")
    assert token.user is None
    assert token.scopes == ["ondemand.intake"]
    assert token.rate_limited is True
    assert token.last_used_at == USED
    assert token.revoked_at is None
    assert token.created_at == active.created_at
    assert api_token_authenticate(token=active_key) == token

    stopped = ApiToken.objects.get(pk=revoked.pk)
    assert (stopped.prefix, stopped.client, stopped.rate_limited) == ("5e6f7a8b", "kynect.ky.gov", False)
    assert stopped.revoked_at == REVOKED
    assert api_token_authenticate(token=revoked_key) is None
