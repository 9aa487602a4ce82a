"""Place cells in the tags' full-text vector, so that one GIN scan finds a category in a box (ADR 0020).

On PostgreSQL `tag_vector` also holds the entry's grid cell at every size of
`kynect.core.geo.CELL_SIZES`, and a search near a place asks for its category (or language) and for
any of the cells covering its box together. GIN intersects the two inside the index. SQLite, whose
full-text table does not hold them, is unchanged.
"""

from django.db import migrations

POSTGRES_TAG_VECTOR = """
ALTER TABLE directory_searchentry ADD COLUMN tag_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig, coalesce(tags, ''))
    || CASE WHEN latitude IS NULL OR longitude IS NULL THEN ''::tsvector ELSE array_to_tsvector(ARRAY[
        'geo0x' || floor((latitude + 90) / 2.0::float8)::integer::text
            || 'y' || floor((longitude + 180) / 2.0::float8)::integer::text,
        'geo1x' || floor((latitude + 90) / 1.0::float8)::integer::text
            || 'y' || floor((longitude + 180) / 1.0::float8)::integer::text,
        'geo2x' || floor((latitude + 90) / 0.5::float8)::integer::text
            || 'y' || floor((longitude + 180) / 0.5::float8)::integer::text,
        'geo3x' || floor((latitude + 90) / 0.25::float8)::integer::text
            || 'y' || floor((longitude + 180) / 0.25::float8)::integer::text,
        'geo4x' || floor((latitude + 90) / 0.125::float8)::integer::text
            || 'y' || floor((longitude + 180) / 0.125::float8)::integer::text,
        'geo5x' || floor((latitude + 90) / 0.0625::float8)::integer::text
            || 'y' || floor((longitude + 180) / 0.0625::float8)::integer::text
    ]) END
) STORED
"""
POSTGRES_FORWARD = [
    "DROP INDEX IF EXISTS searchentry_tags_gin",
    "ALTER TABLE directory_searchentry DROP COLUMN tag_vector",
    POSTGRES_TAG_VECTOR,
    "CREATE INDEX searchentry_tags_gin ON directory_searchentry USING gin (tag_vector) WITH (fastupdate = off)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS searchentry_tags_gin",
    "ALTER TABLE directory_searchentry DROP COLUMN tag_vector",
    "ALTER TABLE directory_searchentry ADD COLUMN tag_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(tags, ''))) STORED",
    "CREATE INDEX searchentry_tags_gin ON directory_searchentry USING gin (tag_vector) WITH (fastupdate = off)",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0011_searchentry_open_slots"),
    ]

    operations = [migrations.RunPython(run(POSTGRES_FORWARD), run(POSTGRES_BACKWARD))]
