"""Reads of the HSDS directory. Every function takes keyword arguments and returns a lazy QuerySet.

Defunct services are never returned (see docs/reference/hsds_api.md); inactive and temporarily closed
services are, with their status, so that a feed consumer can keep its copy in step.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Cos, Power, Radians, Sin

from kynect.core.geo import EARTH_RADIUS_MILES, KENTUCKY_COUNTIES, UnknownZipCodeError, zip_lookup
from kynect.directory.models import (
    Address,
    Attribute,
    Organization,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

METRES_PER_MILE = 1609.344
MILES_PER_DEGREE_LATITUDE = 69.0
EARTH_RADIUS_METRES = EARTH_RADIUS_MILES * METRES_PER_MILE

# Service-area names this API reads as places (case-insensitive, spaces around ignored): a Kentucky
# county, with or without "County" and a trailing ", KY" / ", Kentucky" ("Franklin County",
# "franklin, KY"), or the whole state.
_KY_SUFFIX = r"(?:\s*,\s*(?:ky|kentucky))?"
_STATEWIDE = r"kentucky|ky|statewide|state of kentucky|all of kentucky"


def _area_pattern(county_names: list[str]) -> str:
    counties = "|".join(re.escape(name.lower()) for name in county_names)
    places = f"(?:{counties})(?:\\s+county)?{_KY_SUFFIX}|{_STATEWIDE}" if counties else _STATEWIDE
    return f"^\\s*(?:{places})\\s*$"


ANY_PLACE_PATTERN = _area_pattern([county.name for county in KENTUCKY_COUNTIES])


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


def _nearest_first(rows: QuerySet[ServiceAtLocation], proximity: Proximity) -> QuerySet[ServiceAtLocation]:
    """The rows whose location lies inside the circle, nearest first.

    A bounding box on latitude and longitude (indexed), then the haversine term
    sin²(Δφ/2) + cos φ₁·cos φ₂·sin²(Δλ/2), which grows with the great-circle distance: comparing it
    with the same term for the radius filters exactly, and ordering by it orders by distance.
    """
    miles = proximity.metres / METRES_PER_MILE
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(proximity.latitude)), 0.01)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    lat0, lon0 = math.radians(proximity.latitude), math.radians(proximity.longitude)
    lat, lon = Radians(F("location__latitude")), Radians(F("location__longitude"))
    term = Power(Sin((lat - lat0) / 2), 2) + math.cos(lat0) * Cos(lat) * Power(Sin((lon - lon0) / 2), 2)
    limit = math.sin(min(proximity.metres / EARTH_RADIUS_METRES, math.pi) / 2) ** 2
    return (
        rows.filter(
            location__latitude__range=(proximity.latitude - dlat, proximity.latitude + dlat),
            location__longitude__range=(proximity.longitude - dlon, proximity.longitude + dlon),
        )
        .annotate(distance_term=term)
        .filter(distance_term__lte=limit)
    )


def _service_area_matches(pattern: str) -> Exists:
    return Exists(ServiceArea.objects.filter(service_id=OuterRef("service_id"), name__iregex=pattern))


def _covering_pattern(postcode: str) -> str | None:
    """The service-area names that cover a postcode: its Kentucky county or the whole state. None for a
    postcode outside Kentucky (or unknown), which no service area this API can read covers."""
    try:
        county = zip_lookup(postcode).county
    except UnknownZipCodeError:
        return None
    return _area_pattern([county.name]) if county else None


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
    """Services at locations, by service name; with `proximity`, nearest first.

    `postcode` checks service coverage (HSDS): a service with a service area that names a place
    (ANY_PLACE_PATTERN) is returned only where one of its areas covers the postcode; any other service
    is returned where its location has an address in the postcode, or, with `proximity`, where its
    location lies inside the circle. `proximity` alone (without a postcode) is the circle only.
    """
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
        rows = _nearest_first(rows, proximity)
    if postcode:
        code = postcode.strip()[:5]
        fallback = Q(~_service_area_matches(ANY_PLACE_PATTERN))
        if proximity is None:
            in_postcode = Address.objects.filter(
                location_id=OuterRef("location_id"), postal_code__startswith=code
            )
            fallback &= Q(Exists(in_postcode))
        covering = _covering_pattern(code)
        rows = rows.filter(fallback | Q(_service_area_matches(covering)) if covering else fallback)
    if proximity is not None:
        return rows.order_by("distance_term", "service__name", "id")
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
