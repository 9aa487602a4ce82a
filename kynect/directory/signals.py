"""Keep derived rows in step with edits made one record at a time (the admin screens, the shell).

Imports write in bulk, which sends no signals, and rebuild the opening hours and the search index
themselves. Here, a saved or deleted record schedules, after commit, the rebuild of the listings it
can change (`listings_touched`, as for an import): the opening windows of its locations and the
search entries of its services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_delete

from kynect.accounts.models import Organization as PlatformOrganization
from kynect.accounts.signals import organization_onboarding_changed
from kynect.directory import models as hsds
from kynect.directory.hours import opening_windows_rebuild
from kynect.directory.search.index import search_index_update
from kynect.directory.touched import listings_touched

# The directory's tables whose records change a listing, by the names an import gives them.
WATCHED: dict[type[Model], str] = {
    hsds.Service: "service",
    hsds.Organization: "organization",
    hsds.Location: "location",
    hsds.Address: "address",
    hsds.ServiceAtLocation: "service_at_location",
    hsds.Language: "language",
    hsds.Attribute: "attribute",
    hsds.Schedule: "schedule",
    hsds.Phone: "phone",
    hsds.ServiceArea: "service_area",
}


def _changed(instance: Model) -> dict[str, set[uuid.UUID]]:
    if isinstance(instance, PlatformOrganization):
        # Onboarding makes an organization a KY Partner; linking or unlinking a listing moves the badge.
        return {"organization": {instance.hsds_organization_id}} if instance.hsds_organization_id else {}
    return {WATCHED[type(instance)]: {instance.pk}}


def _schedule_rebuild(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    """Asked after a save and before a delete, while the record and the rows it points to exist."""
    if kwargs.get("raw"):
        return
    touched = listings_touched(changed=_changed(instance))
    if not touched.locations and not touched.services:
        return

    def rebuild() -> None:
        if touched.locations:
            opening_windows_rebuild(location_ids=touched.locations)
        if touched.services:
            search_index_update(service_ids=touched.services)

    transaction.on_commit(rebuild)


def _onboarding_changed(sender: type[Model], organization: PlatformOrganization, **kwargs: Any) -> None:
    """Approval or decline, a conditional UPDATE that sends no `post_save`: the same rebuild."""
    _schedule_rebuild(sender, organization)


def connect() -> None:
    organization_onboarding_changed.connect(_onboarding_changed, dispatch_uid="directory-rebuild-onboarding")
    models: list[type[Model]] = [*WATCHED, PlatformOrganization]
    for model in models:
        post_save.connect(
            _schedule_rebuild, sender=model, dispatch_uid=f"directory-rebuild-save-{model.__name__}"
        )
        pre_delete.connect(
            _schedule_rebuild, sender=model, dispatch_uid=f"directory-rebuild-delete-{model.__name__}"
        )
