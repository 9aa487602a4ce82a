"""Make access events append-only in the database itself.

SQLite: a trigger rejects updates. (Deletes are refused by the model and queryset; a trigger on
DELETE would also block the test runner's table flush.) PostgreSQL: a trigger rejects updates and
deletes; TRUNCATE, which only the schema owner may run, still empties a test database.
"""

from django.db import migrations

SQLITE_FORWARD = """
CREATE TRIGGER core_accessevent_no_update BEFORE UPDATE ON core_accessevent
BEGIN SELECT RAISE(ABORT, 'access events are append-only'); END;
"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS core_accessevent_no_update;"

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION core_accessevent_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'access events are append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_accessevent_no_change BEFORE UPDATE OR DELETE ON core_accessevent
FOR EACH ROW EXECUTE FUNCTION core_accessevent_append_only();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS core_accessevent_no_change ON core_accessevent;
DROP FUNCTION IF EXISTS core_accessevent_append_only();
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
