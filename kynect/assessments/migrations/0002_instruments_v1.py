"""The first version of each instrument: the kynect SDoH assessment, the CMS AHC HRSN screening tool and
the MCO needs assessment, from their files (`instruments/<code>-v1.json`)."""

from django.db import migrations

from kynect.assessments.definitions import published_load


def load(apps, schema_editor):
    published_load(apps.get_model("assessments", "Instrument"))


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
