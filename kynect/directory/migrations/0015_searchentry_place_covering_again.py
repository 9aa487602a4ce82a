"""SQLite: the covering index for searches near a place, again, with `listed`.

Migration 0008 made it, but SQLite rebuilds a table to add a column with a default (0011, 0014), and the
rebuilt table keeps only the indexes Django declares: databases migrated since lack it, and a 50-mile
search reads each candidate's row (x, y and z sit behind the description, often on an overflow page).
A test checks that the index exists after the migrations, so that the next rebuild cannot drop it
unnoticed. PostgreSQL answers places from its GiST index and needs none.
"""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS searchentry_place_covering",
    "CREATE INDEX searchentry_place_covering ON directory_searchentry"
    " (latitude, longitude, x, y, z, listed, own_hours, time_zone, location_id, service_id, name)",
]
BACKWARD = ["DROP INDEX IF EXISTS searchentry_place_covering"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0014_searchentry_listed"),
    ]

    operations = [migrations.RunPython(forward, backward)]
