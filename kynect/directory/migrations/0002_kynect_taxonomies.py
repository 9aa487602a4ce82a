"""Load kynect's categories and life situations (shipped in data/kynect_taxonomies.json) as HSDS taxonomies."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from kynect.directory.taxonomy import kynect_taxonomies_delete, kynect_taxonomies_upsert


def load(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    kynect_taxonomies_upsert(
        apps.get_model("directory", "Taxonomy"), apps.get_model("directory", "TaxonomyTerm")
    )


def unload(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    kynect_taxonomies_delete(
        apps.get_model("directory", "Taxonomy"), apps.get_model("directory", "TaxonomyTerm")
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
