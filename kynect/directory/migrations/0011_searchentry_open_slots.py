"""The hours of the week in which each search entry opens at least a moment (ADR 0019).

On PostgreSQL they join the place in one GiST index, `(geo_point, open_slots)`, which replaces the
place-only one: a nearest-first search for what is open then skips what is closed inside the index.
"""

from collections import defaultdict

from django.db import migrations

import kynect.directory.models
from kynect.directory.search.slots import hour_slots

# The slots of every entry, as `hour_slots` computes them, in one statement: each window's first
# second and the second after its last (23:59:59 is open, next-day windows run on, what the display
# counts as 24 hours runs to midnight), then every hour between, folded into the week.
POSTGRES_FILL = """
UPDATE directory_searchentry e SET open_slots = s.slots FROM (
    SELECT e2.id, array_agg(DISTINCT mod(h.hour, 168) ORDER BY mod(h.hour, 168)) AS slots
    FROM directory_searchentry e2
    JOIN directory_openingwindow w ON w.location_id = e2.location_id
        AND w.service_id IS NOT DISTINCT FROM (CASE WHEN e2.own_hours THEN e2.service_id END)
    CROSS JOIN LATERAL (SELECT
        w.weekday * 86400 + EXTRACT(EPOCH FROM w.opens_at)::integer AS first_second,
        w.weekday * 86400 + EXTRACT(EPOCH FROM w.closes_at)::integer
            + CASE WHEN w.closes_next_day THEN 86400 ELSE 0 END
            + CASE WHEN w.closes_at = TIME '23:59:59' THEN 1 ELSE 0 END AS end_second,
        w.opens_at = TIME '00:00' AND NOT w.closes_next_day
            AND (w.closes_at = TIME '00:00' OR w.closes_at >= TIME '23:59') AS all_day) a
    CROSS JOIN LATERAL (SELECT a.first_second,
        CASE WHEN a.all_day THEN GREATEST(a.end_second, (w.weekday + 1) * 86400)
        ELSE a.end_second END AS end_second) b
    CROSS JOIN LATERAL generate_series(b.first_second / 3600, (b.end_second - 1) / 3600) AS h(hour)
    WHERE b.end_second > b.first_second
    GROUP BY e2.id
) s WHERE s.id = e.id
"""
# `intarray` is a trusted contrib extension. Its signature opclass with 24 bytes keeps one bit per
# hour of the week (168 of 192), so the index's test is exact and a page's union is their OR.
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS intarray",
    POSTGRES_FILL,
    "DROP INDEX IF EXISTS searchentry_geo_point_gist",
    "CREATE INDEX searchentry_place_open_gist ON directory_searchentry"
    " USING gist (geo_point, open_slots gist__intbig_ops (siglen = 24))",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS searchentry_place_open_gist",
    "CREATE INDEX IF NOT EXISTS searchentry_geo_point_gist ON directory_searchentry USING gist (geo_point)",
]


def sqlite_fill(apps, schema_editor):
    """SQLite does not search by the slots; they are kept right all the same."""
    entry_model = apps.get_model("directory", "SearchEntry")
    window_model = apps.get_model("directory", "OpeningWindow")
    windows = defaultdict(list)
    for location_id, service_id, weekday, opens, closes, next_day in window_model.objects.values_list(
        "location_id", "service_id", "weekday", "opens_at", "closes_at", "closes_next_day"
    ):
        windows[(location_id, service_id)].append((weekday, opens, closes, next_day))
    changed = []
    for entry in entry_model.objects.exclude(location_id=None).only(
        "id", "location_id", "service_id", "own_hours"
    ):
        owner = entry.service_id if entry.own_hours else None
        entry.open_slots = hour_slots(windows.get((entry.location_id, owner), []))
        changed.append(entry)
    entry_model.objects.bulk_update(changed, ["open_slots"], batch_size=500)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement)
    else:
        sqlite_fill(apps, schema_editor)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0010_openingwindow_close_lookup"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="open_slots",
            field=kynect.directory.models.HourSlotsField(
                default=list,
                editable=False,
                help_text="Hours of the week in which its hours open at least a moment (a superset: no dates).",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
