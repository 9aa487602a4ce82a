from django.db import migrations

# PostgreSQL: the weight-A part of `document` (service and category names) on its own, with a GIN
# index. Best-match searches rank the entries whose names match first (ADR 0015).
POSTGRES_FORWARD = [
    """
    ALTER TABLE directory_searchentry ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, coalesce(name, ''))
        || to_tsvector('english'::regconfig, coalesce(categories_en, ''))
        || to_tsvector('spanish'::regconfig, coalesce(categories_es, ''))
    ) STORED
    """,
    "CREATE INDEX searchentry_title_gin ON directory_searchentry USING gin (title_vector)"
    " WITH (fastupdate = off)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS searchentry_title_gin",
    "ALTER TABLE directory_searchentry DROP COLUMN IF EXISTS title_vector",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0008_searchentry_unit_vector"),
    ]

    operations = [migrations.RunPython(run(POSTGRES_FORWARD), run(POSTGRES_BACKWARD))]
