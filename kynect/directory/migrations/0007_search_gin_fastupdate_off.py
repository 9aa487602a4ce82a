from django.db import migrations

# GIN's pending list makes the first searches after a bulk index rebuild slow until a vacuum merges it;
# writing straight into the index costs the rebuild a little and keeps searches steady.
INDEXES = ["searchentry_document_gin", "searchentry_tags_gin"]


def fastupdate(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = {value})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0006_searchentry_card"),
    ]

    operations = [migrations.RunPython(fastupdate("off"), fastupdate("on"))]
