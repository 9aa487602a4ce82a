"""Reads of the HSDS directory. Every function takes keyword arguments; the lists answer a `Found` (the
matching ids in order and the records to read them from), through the search index when a filter asks it.

Defunct services are never returned (see docs/reference/hsds_api.md); inactive and temporarily closed
services are, with their status, so that a feed consumer can keep its copy in step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Min, Model, OuterRef, Q, QuerySet, Subquery

from kynect.core.geo import METRES_PER_MILE, zip_lookup
from kynect.directory.coverage import covering_tags
from kynect.directory.models import (
    Organization,
    SearchEntry,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from kynect.directory.search import Origin, SearchQuery, keyword_words, search_backend
from kynect.directory.search.index import term_tag

M = TypeVar("M", bound=Model)


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


@dataclass(frozen=True)
class Found(Generic[M]):
    """What a list endpoint shows: `ids`, the primary keys of the matching records in order (a lazy
    query, counted and sliced in SQL), and `records`, the query the records themselves are read from."""

    ids: QuerySet[Any, Any]
    records: QuerySet[M]


def _plain(rows: QuerySet[M], *ordering: str) -> Found[M]:
    rows = rows.order_by(*ordering)
    return Found(ids=rows.values_list("pk", flat=True), records=rows)


def _taxonomy_tags(
    *, taxonomy_term_id: uuid.UUID | None, taxonomy_id: uuid.UUID | None
) -> list[tuple[str, ...]]:
    """The index's tag groups for the taxonomy filters. An entry carries the tags of its service's terms
    and of their broader terms, so a term also finds what is classified under a narrower one."""
    groups: list[tuple[str, ...]] = []
    if taxonomy_term_id is not None:
        groups.append((term_tag(taxonomy_term_id),))
    if taxonomy_id is not None:
        terms = TaxonomyTerm.objects.filter(taxonomy_detail_id=taxonomy_id).values_list("pk", flat=True)
        groups.append(tuple(term_tag(term) for term in terms))
    return groups


def _matching_entries(
    *,
    search: str | None,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    proximity: Proximity | None = None,
    postcode: str | None = None,
) -> tuple[QuerySet[SearchEntry], bool] | None:
    """The search index's entries matching the filters, through the search page's backend, and whether
    they are ranked (a `rank` with words; a `nearness` with a circle); None when no filter asks the
    index. `postcode`: the listings that cover it (see `coverage`)."""
    words = keyword_words(search) if search else ()
    tags = _taxonomy_tags(taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id)
    if postcode:
        tags.append(covering_tags(postcode, in_circle=proximity is not None))
    if not (search or tags or modified_after or proximity):
        return None
    query = SearchQuery(
        words=words,
        tag_groups=tuple(tags),
        origin=Origin(proximity.latitude, proximity.longitude) if proximity else None,
        radius_miles=proximity.metres / METRES_PER_MILE if proximity else None,
        modified_after=modified_after,
        unlisted=True,
    )
    entries, _ordering = search_backend().filtered(query)
    if (search and not words) or not all(tags):
        # Text with no word to look for, or a taxonomy without terms, matches nothing.
        entries = entries.none()
    return entries, bool(words)


def _grouped(entries: QuerySet[SearchEntry], key: str, name: str, *, ranked: bool) -> QuerySet[Any, Any]:
    """The distinct `key` ids of the entries, best match first when `ranked`, then by `name`."""
    groups = entries.values(key).annotate(sort_name=Min(name))
    if ranked:
        groups = groups.annotate(best=Min("rank")).order_by("best", "sort_name", key)
    else:
        groups = groups.order_by("sort_name", key)
    return groups.values_list(key, flat=True)


def service_list(
    *,
    search: str | None = None,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
) -> Found[Service]:
    """Services by name; with `search`, best match first (the best of their listings)."""
    services = visible_services()
    matching = _matching_entries(
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        modified_after=modified_after,
    )
    if matching is None:
        if organization_id is not None:
            services = services.filter(organization_id=organization_id)
        return _plain(services, "name", "id")
    entries, ranked = matching
    if organization_id is not None:
        entries = entries.filter(organization_id=organization_id)
    return Found(ids=_grouped(entries, "service_id", "name", ranked=ranked), records=services)


def visible_service_at_locations() -> QuerySet[ServiceAtLocation]:
    return ServiceAtLocation.objects.exclude(service__status=Service.Status.DEFUNCT)


def service_at_location_list(
    *,
    search: str | None = None,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    postcode: str | None = None,
    proximity: Proximity | None = None,
) -> Found[ServiceAtLocation]:
    """Services at locations by service name; with `search`, best match first; with `proximity`,
    nearest first (then best match).

    `postcode` checks service coverage (HSDS): a service with a service area that names a place
    (ANY_PLACE_PATTERN) is returned only where one of its areas covers the postcode; any other service
    is returned where its location has an address in the postcode, or, with `proximity`, where its
    location lies inside the circle. `proximity` alone (without a postcode) is the circle only.
    """
    rows = visible_service_at_locations()
    matching = _matching_entries(
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        modified_after=modified_after,
        proximity=proximity,
        postcode=postcode,
    )
    if matching is None:
        if organization_id is not None:
            rows = rows.filter(service__organization_id=organization_id)
        return _plain(rows, "service__name", "id")
    entries, ranked = matching
    entries = entries.filter(location__isnull=False)
    if organization_id is not None:
        entries = entries.filter(organization_id=organization_id)
    ordering = ["nearness"] if proximity is not None else []
    if ranked:
        ordering.append("rank")
    at = visible_service_at_locations().filter(
        service_id=OuterRef("service_id"), location_id=OuterRef("location_id")
    )
    ids = (
        entries.annotate(row=Subquery(at.values("pk")[:1]))
        .order_by(*ordering, "name", "id")
        .values_list("row", flat=True)
    )
    return Found(ids=ids, records=rows)


def organization_list(*, search: str | None = None) -> Found[Organization]:
    """Organizations by name; with `search`, those with a listing that matches (in its organization's
    name, or its service's name, description or categories), best match first."""
    organizations = Organization.objects.all()
    matching = _matching_entries(search=search)
    if matching is None:
        return _plain(organizations, "name", "id")
    entries, ranked = matching
    return Found(
        ids=_grouped(entries, "organization_id", "organization_name", ranked=ranked), records=organizations
    )


def taxonomy_list(*, search: str | None = None) -> Found[Taxonomy]:
    taxonomies = Taxonomy.objects.all()
    if search:
        taxonomies = taxonomies.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return _plain(taxonomies, "name", "id")


def taxonomy_term_list(
    *,
    search: str | None = None,
    taxonomy_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    top_only: bool = False,
) -> Found[TaxonomyTerm]:
    terms = TaxonomyTerm.objects.select_related("taxonomy_detail")
    if search:
        terms = terms.filter(Q(name__icontains=search) | Q(code__icontains=search))
    if taxonomy_id is not None:
        terms = terms.filter(taxonomy_detail_id=taxonomy_id)
    if parent_id is not None:
        terms = terms.filter(parent_id=parent_id)
    if top_only:
        terms = terms.filter(parent__isnull=True)
    return _plain(terms, "taxonomy", "name", "id")
