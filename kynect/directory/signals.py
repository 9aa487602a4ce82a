"""Keep derived rows in step with edits made one record at a time (the admin screens, the shell).

Imports write in bulk, which sends no signals, and rebuild the opening hours and the search index
themselves. Here, a saved or deleted record schedules, after commit, the rebuild of the listings it
can change: the opening windows of its locations and the search entries of its services.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from kynect.accounts.models import Organization as PlatformOrganization
from kynect.directory import models as hsds
from kynect.directory.hours import opening_windows_rebuild
from kynect.directory.search.index import search_index_update


def _affected(instance: Model) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """(location ids whose hours to rebuild, service ids whose entries to rebuild)."""
    locations: set[uuid.UUID] = set()
    services: set[uuid.UUID] = set()
    if isinstance(instance, hsds.Service):
        services.add(instance.pk)
    elif isinstance(instance, hsds.Organization):
        services.update(hsds.Service.objects.filter(organization_id=instance.pk).values_list("pk", flat=True))
    elif isinstance(instance, hsds.Location | hsds.Address):
        location_id = instance.pk if isinstance(instance, hsds.Location) else instance.location_id
        services.update(
            hsds.ServiceAtLocation.objects.filter(location_id=location_id).values_list(
                "service_id", flat=True
            )
        )
    elif isinstance(instance, hsds.ServiceAtLocation):
        services.add(instance.service_id)
        locations.add(instance.location_id)
    elif isinstance(instance, PlatformOrganization) and instance.hsds_organization_id:
        # Onboarding makes an organization a KY Partner.
        services.update(
            hsds.Service.objects.filter(organization_id=instance.hsds_organization_id).values_list(
                "pk", flat=True
            )
        )
    elif isinstance(instance, hsds.Phone):
        if instance.service_id:
            services.add(instance.service_id)
        elif instance.location_id:
            services.update(
                hsds.ServiceAtLocation.objects.filter(location_id=instance.location_id).values_list(
                    "service_id", flat=True
                )
            )
        elif instance.organization_id:
            services.update(
                hsds.Service.objects.filter(organization_id=instance.organization_id).values_list(
                    "pk", flat=True
                )
            )
    elif isinstance(instance, hsds.Language) and instance.service_id:
        services.add(instance.service_id)
    elif isinstance(instance, hsds.Attribute) and instance.link_entity == "service":
        services.add(instance.link_id)
    elif isinstance(instance, hsds.Schedule):
        if instance.location_id:
            locations.add(instance.location_id)
        service_id = instance.service_id
        if instance.service_at_location_id:
            found = hsds.ServiceAtLocation.objects.filter(pk=instance.service_at_location_id).first()
            if found is not None:
                locations.add(found.location_id)
                service_id = service_id or found.service_id
        if service_id:
            services.add(service_id)
            if not instance.location_id and not instance.service_at_location_id:
                locations.update(
                    hsds.ServiceAtLocation.objects.filter(service_id=service_id).values_list(
                        "location_id", flat=True
                    )
                )
    return locations, services


def _schedule_rebuild(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    locations, services = _affected(instance)
    if not locations and not services:
        return

    def rebuild() -> None:
        listed = set(services)
        if locations:
            opening_windows_rebuild(location_ids=locations)
            # Each listing there keeps its hours of the week (`SearchEntry.open_slots`).
            listed.update(
                hsds.ServiceAtLocation.objects.filter(location_id__in=locations).values_list(
                    "service_id", flat=True
                )
            )
        if listed:
            search_index_update(service_ids=listed)

    transaction.on_commit(rebuild)


WATCHED = (
    hsds.Service,
    hsds.Organization,
    hsds.Location,
    hsds.Address,
    hsds.ServiceAtLocation,
    hsds.Language,
    hsds.Attribute,
    hsds.Schedule,
    hsds.Phone,
    PlatformOrganization,
)


def connect() -> None:
    for model in WATCHED:
        post_save.connect(
            _schedule_rebuild, sender=model, dispatch_uid=f"directory-rebuild-save-{model.__name__}"
        )
        post_delete.connect(
            _schedule_rebuild, sender=model, dispatch_uid=f"directory-rebuild-delete-{model.__name__}"
        )
