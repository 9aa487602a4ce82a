"""Search entries for inactive and temporarily closed services too, for the HSDS API (ADR 0026).

Existing entries are all of active services. The others get theirs at the next
`manage.py rebuild_search_index`.
"""

import django.db.models.manager
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0013_searchentrytext"),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="searchentry",
            managers=[
                ("every", django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddField(
            model_name="searchentry",
            name="listed",
            field=models.BooleanField(
                default=True, help_text="The service is active: the search page shows it."
            ),
        ),
    ]
