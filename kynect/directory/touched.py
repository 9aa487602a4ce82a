"""Which listings a change to the directory's tables touches: the one answer for an import (the ids it
accepted per table) and for a record saved or deleted one at a time (see `signals`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kynect.directory import models as hsds
from kynect.directory.hours import chunked


@dataclass
class Touched:
    """The locations whose opening windows to rebuild, and the services whose search entries to rebuild
    (every service listed at one of those locations among them: each entry keeps its hours)."""

    locations: set[uuid.UUID] = field(default_factory=set)
    services: set[uuid.UUID] = field(default_factory=set)


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    return (list(chunk) for chunk in chunked(sorted(set(ids), key=str)))


def _services_of_organizations(ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        found.update(hsds.Service.objects.filter(organization_id__in=chunk).values_list("pk", flat=True))
    return found


def _services_at(location_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(location_ids):
        found.update(
            hsds.ServiceAtLocation.objects.filter(location_id__in=chunk).values_list("service_id", flat=True)
        )
    return found


def listings_touched(*, changed: Mapping[str, Iterable[uuid.UUID]]) -> Touched:
    """What a change to these rows (ids per HSDS table name, as the importer names them) touches.

    Rows must still exist: a deletion asks before it deletes.
    """
    touched = Touched(locations=set(changed.get("location", ())), services=set(changed.get("service", ())))
    organizations = set(changed.get("organization", ()))
    # Locations whose address or phones changed: their listings change, not their hours.
    listed_at: set[uuid.UUID] = set()
    for chunk in _chunks(changed.get("service_at_location", ())):
        for service_id, location_id in hsds.ServiceAtLocation.objects.filter(pk__in=chunk).values_list(
            "service_id", "location_id"
        ):
            touched.services.add(service_id)
            touched.locations.add(location_id)
    for chunk in _chunks(changed.get("address", ())):
        listed_at.update(hsds.Address.objects.filter(pk__in=chunk).values_list("location_id", flat=True))
    for chunk in _chunks(changed.get("phone", ())):
        for service_id, location_id, organization_id, sal_service_id in hsds.Phone.objects.filter(
            pk__in=chunk
        ).values_list("service_id", "location_id", "organization_id", "service_at_location__service_id"):
            if service_id or sal_service_id:
                touched.services.add(service_id or sal_service_id)
            elif location_id:
                listed_at.add(location_id)
            elif organization_id:
                organizations.add(organization_id)
    for chunk in _chunks(changed.get("language", ())):
        touched.services.update(
            service_id
            for service_id in hsds.Language.objects.filter(pk__in=chunk).values_list("service_id", flat=True)
            if service_id
        )
    for chunk in _chunks(changed.get("service_area", ())):  # what a listing covers (`coverage`)
        touched.services.update(
            service_id
            for service_id in hsds.ServiceArea.objects.filter(pk__in=chunk).values_list(
                "service_id", flat=True
            )
            if service_id
        )
    for chunk in _chunks(changed.get("attribute", ())):
        for link_entity, link_id in hsds.Attribute.objects.filter(pk__in=chunk).values_list(
            "link_entity", "link_id"
        ):
            if link_entity == "service":
                touched.services.add(link_id)
            elif link_entity == "organization":  # shown on every listing of the organization
                organizations.add(link_id)
    whole_services: set[uuid.UUID] = set()
    for chunk in _chunks(changed.get("schedule", ())):
        for location_id, service_id, sal_service_id, sal_location_id in hsds.Schedule.objects.filter(
            pk__in=chunk
        ).values_list(
            "location_id", "service_id", "service_at_location__service_id", "service_at_location__location_id"
        ):
            if service_id or sal_service_id:
                touched.services.add(service_id or sal_service_id)
            if location_id or sal_location_id:
                touched.locations.add(location_id or sal_location_id)
            elif service_id:
                whole_services.add(service_id)  # a service's own hours wherever it is offered
    for chunk in _chunks(whole_services):
        touched.locations.update(
            hsds.ServiceAtLocation.objects.filter(service_id__in=chunk).values_list("location_id", flat=True)
        )
    touched.services |= _services_of_organizations(organizations) | _services_at(
        touched.locations | listed_at
    )
    return touched
