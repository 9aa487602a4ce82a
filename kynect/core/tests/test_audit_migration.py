"""The migration that masks the link secrets access events kept in clear in `path`: the secrets go,
everything else stays, and the append-only trigger is back afterwards."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from kynect.core import clock
from kynect.core.models import AccessEvent

MIGRATION = "0004_accessevent_mask_link_secrets"
migration = importlib.import_module(f"kynect.core.migrations.{MIGRATION}")

ROW_ID = "0b0c4f4e-3a8e-4b7b-9d39-5c7a9b1d2e3f"
SECRET = "bSTwg3jnyLCc3mi5XXrxfx0vVTeAYW7d9_Uo_3R19KU"


def recorded(path: str) -> AccessEvent:
    return AccessEvent.objects.create(
        occurred_at=clock.now(),
        actor_label="anonymous",
        subject_type="ondemand.helprequest",
        subject_id="r",
        action=AccessEvent.Action.VIEW,
        detail="status by the requester's secret link",
        path=path,
    )


def db_id(event: AccessEvent) -> Any:
    return AccessEvent._meta.pk.get_db_prep_value(event.pk, connection)


@pytest.mark.django_db(transaction=True)  # the schema editor runs outside a test's transaction on SQLite
def test_stored_link_secrets_are_masked_and_the_trigger_is_back():
    status = recorded(f"/ondemand/help/{ROW_ID}/{SECRET}/")
    details = recorded(f"/es/ondemand/offer/{ROW_ID}/{SECRET}/details/")
    other = recorded(f"/ondemand/referrals/{ROW_ID}/")

    loader = MigrationExecutor(connection).loader
    before = loader.project_state(loader.get_migration("core", MIGRATION).dependencies).apps
    with connection.schema_editor() as editor:
        migration.mask_stored_link_secrets(before, editor)

    assert AccessEvent.objects.get(pk=status.pk).path == f"/ondemand/help/{ROW_ID}/[secret]/"
    assert AccessEvent.objects.get(pk=details.pk).path == f"/es/ondemand/offer/{ROW_ID}/[secret]/details/"
    assert AccessEvent.objects.get(pk=other.pk).path == other.path
    unchanged = AccessEvent.objects.get(pk=status.pk)
    assert (unchanged.occurred_at, unchanged.detail, unchanged.subject_id) == (
        status.occurred_at,
        status.detail,
        "r",
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_accessevent SET path = %s WHERE id = %s", ["x", db_id(other)])
