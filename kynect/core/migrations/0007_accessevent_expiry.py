"""Access events expire as a whole after their retention period (`ACCESS_EVENT_RETENTION_YEARS`). On
PostgreSQL the append-only trigger still refuses every update, and lets a delete through only for an event
older than the moment the deleting transaction names in `kynect.access_events_expire_before`
(`core.audit.access_events_expire`, the retention job's); any other delete is refused as before."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION core_accessevent_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE'
     AND NULLIF(current_setting('kynect.access_events_expire_before', true), '') IS NOT NULL
     AND OLD.occurred_at < current_setting('kynect.access_events_expire_before', true)::timestamptz THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'access events are append-only';
END;
$$ LANGUAGE plpgsql;
"""
POSTGRES_REVERSE = """
CREATE OR REPLACE FUNCTION core_accessevent_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'access events are append-only'; END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_accessevent_consent"),
    ]

    operations = [migrations.RunPython(forward, reverse)]
