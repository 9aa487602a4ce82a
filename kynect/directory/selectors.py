"""Reads of the HSDS directory. Every function takes keyword arguments and returns a lazy QuerySet.

Defunct services are never returned (see docs/reference/hsds_api.md); inactive and temporarily closed
services are, with their status, so that a feed consumer can keep its copy in step.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from kynect.core.geo import haversine_miles, zip_lookup
from kynect.directory.models import (
    Attribute,
    Organization,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

METRES_PER_MILE = 1609.344
MILES_PER_DEGREE_LATITUDE = 69.0


@dataclass(frozen=True)
class Proximity:
    """A circle around a ZIP code's centroid."""

    latitude: float
    longitude: float
    metres: float


def proximity_from_postcode(*, postcode: str, metres: float) -> Proximity:
    """The circle of `metres` around the centroid of `postcode`. Raises UnknownZipCodeError."""
    info = zip_lookup(postcode)
    return Proximity(latitude=info.latitude, longitude=info.longitude, metres=metres)


def visible_services() -> QuerySet[Service]:
    return Service.objects.exclude(status=Service.Status.DEFUNCT)


def _service_has_term(*, taxonomy_term_id: uuid.UUID | None, taxonomy_id: uuid.UUID | None) -> Exists:
    links = Attribute.objects.filter(link_entity="service", link_id=OuterRef("pk"))
    if taxonomy_term_id is not None:
        links = links.filter(taxonomy_term_id=taxonomy_term_id)
    if taxonomy_id is not None:
        links = links.filter(taxonomy_term__taxonomy_detail_id=taxonomy_id)
    return Exists(links)


def service_list(
    *,
    search: str | None = None,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
) -> QuerySet[Service]:
    services = visible_services()
    if search:
        services = services.filter(
            Q(name__icontains=search)
            | Q(description__icontains=search)
            | Q(organization__name__icontains=search)
        )
    if taxonomy_term_id is not None or taxonomy_id is not None:
        services = services.filter(
            _service_has_term(taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id)
        )
    if organization_id is not None:
        services = services.filter(organization_id=organization_id)
    if modified_after is not None:
        services = services.filter(last_modified__gte=modified_after)
    return services.order_by("name", "id")


def _within(*, candidates: QuerySet[ServiceAtLocation], proximity: Proximity) -> list[uuid.UUID]:
    """Ids of the candidates whose location lies inside the circle: a bounding box in SQL, then haversine."""
    miles = proximity.metres / METRES_PER_MILE
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(proximity.latitude)), 0.01)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    boxed = candidates.filter(
        location__latitude__range=(proximity.latitude - dlat, proximity.latitude + dlat),
        location__longitude__range=(proximity.longitude - dlon, proximity.longitude + dlon),
    ).values_list("id", "location__latitude", "location__longitude")
    return [
        sal_id
        for sal_id, lat, lon in boxed
        if lat is not None
        and lon is not None
        and haversine_miles(proximity.latitude, proximity.longitude, lat, lon) <= miles
    ]


def service_at_location_list(
    *,
    search: str | None = None,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    postcode: str | None = None,
    proximity: Proximity | None = None,
) -> QuerySet[ServiceAtLocation]:
    rows = ServiceAtLocation.objects.exclude(service__status=Service.Status.DEFUNCT)
    if search:
        rows = rows.filter(
            Q(service__name__icontains=search)
            | Q(service__description__icontains=search)
            | Q(service__organization__name__icontains=search)
            | Q(location__name__icontains=search)
        )
    if taxonomy_term_id is not None or taxonomy_id is not None:
        links = Attribute.objects.filter(link_entity="service", link_id=OuterRef("service_id"))
        if taxonomy_term_id is not None:
            links = links.filter(taxonomy_term_id=taxonomy_term_id)
        if taxonomy_id is not None:
            links = links.filter(taxonomy_term__taxonomy_detail_id=taxonomy_id)
        rows = rows.filter(Exists(links))
    if organization_id is not None:
        rows = rows.filter(service__organization_id=organization_id)
    if modified_after is not None:
        rows = rows.filter(service__last_modified__gte=modified_after)
    if proximity is not None:
        rows = rows.filter(id__in=_within(candidates=rows, proximity=proximity))
    elif postcode:
        rows = rows.filter(location__addresses__postal_code__startswith=postcode.strip()[:5]).distinct()
    return rows.order_by("service__name", "id")


def organization_list(*, search: str | None = None) -> QuerySet[Organization]:
    organizations = Organization.objects.all()
    if search:
        organizations = organizations.filter(
            Q(name__icontains=search) | Q(alternate_name__icontains=search) | Q(description__icontains=search)
        )
    return organizations.order_by("name", "id")


def taxonomy_list(*, search: str | None = None) -> QuerySet[Taxonomy]:
    taxonomies = Taxonomy.objects.all()
    if search:
        taxonomies = taxonomies.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return taxonomies.order_by("name", "id")


def taxonomy_term_list(
    *,
    search: str | None = None,
    taxonomy_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    top_only: bool = False,
) -> QuerySet[TaxonomyTerm]:
    terms = TaxonomyTerm.objects.select_related("taxonomy_detail")
    if search:
        terms = terms.filter(Q(name__icontains=search) | Q(code__icontains=search))
    if taxonomy_id is not None:
        terms = terms.filter(taxonomy_detail_id=taxonomy_id)
    if parent_id is not None:
        terms = terms.filter(parent_id=parent_id)
    if top_only:
        terms = terms.filter(parent__isnull=True)
    return terms.order_by("taxonomy", "name", "id")
