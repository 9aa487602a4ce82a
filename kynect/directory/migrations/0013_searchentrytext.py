"""The SQLite full-text table declared as an unmanaged model, so that searches join it with the ORM.

No schema change: migration 0004 creates the table on SQLite; PostgreSQL has none.
"""

import django.db.models.deletion
from django.db import migrations, models

import kynect.directory.models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0012_searchentry_place_cells"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntryText",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        db_column="rowid",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="text",
                        serialize=False,
                        to="directory.searchentry",
                    ),
                ),
                (
                    "document",
                    kynect.directory.models.FullTextTableField(db_column="directory_searchentry_fts"),
                ),
                ("rank", kynect.directory.models.FullTextTableField(db_column="rank")),
            ],
            options={
                "db_table": "directory_searchentry_fts",
                "managed": False,
            },
        ),
    ]
