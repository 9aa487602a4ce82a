"""Mask the link secrets that access events kept in clear in `path` before the audit masked them: each
becomes `[secret]`, as the access log writes it, and nothing else of any event changes.

The append-only trigger (migration 0002) is lifted for this one update only, inside the migration's
transaction, so no other write can slip through meanwhile.
"""

from django.db import migrations
from django.db.models import Q

from kynect.core.logging import mask_link_secrets

SQLITE_LIFT = "DROP TRIGGER IF EXISTS core_accessevent_no_update;"
SQLITE_RESTORE = """
CREATE TRIGGER core_accessevent_no_update BEFORE UPDATE ON core_accessevent
BEGIN SELECT RAISE(ABORT, 'access events are append-only'); END;
"""
POSTGRES_LIFT = "ALTER TABLE core_accessevent DISABLE TRIGGER core_accessevent_no_change;"
POSTGRES_RESTORE = "ALTER TABLE core_accessevent ENABLE TRIGGER core_accessevent_no_change;"
TRIGGER = {"sqlite": (SQLITE_LIFT, SQLITE_RESTORE), "postgresql": (POSTGRES_LIFT, POSTGRES_RESTORE)}

# The pages whose address carries a secret: a requester's status link and a helper's offer link.
SECRET_PAGES = Q(path__contains="/ondemand/help/") | Q(path__contains="/ondemand/offer/")


def mask_stored_link_secrets(apps, schema_editor):
    AccessEvent = apps.get_model("core", "AccessEvent")
    masked = {}
    for pk, path in AccessEvent.objects.filter(SECRET_PAGES).values_list("pk", "path").iterator():
        if mask_link_secrets(path) != path:
            masked[pk] = mask_link_secrets(path)
    if not masked:
        return
    lift, restore = TRIGGER[schema_editor.connection.vendor]
    schema_editor.execute(lift)
    for pk, path in masked.items():
        AccessEvent.objects.filter(pk=pk).update(path=path)
    schema_editor.execute(restore)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_recurring_jobs")]

    operations = [migrations.RunPython(mask_stored_link_secrets, migrations.RunPython.noop)]
