"""Reads of the HSDS directory. Every function takes keyword arguments; the lists answer a `Found` (the
matching ids in order and the records to read them from), through the search index when a filter asks it.

Defunct services are never returned (see docs/reference/hsds_api.md); inactive and temporarily closed
services are, with their status, so that a feed consumer can keep its copy in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db.models import Min, Model, OuterRef, Q, QuerySet, Subquery

from kynect.core.geo import METRES_PER_MILE, zip_lookup
from kynect.directory.coverage import covering_tags
from kynect.directory.models import (
    Attribute,
    Organization,
    SearchEntry,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from kynect.directory.search import COUNT_CAP, Origin, SearchQuery, SortOrder, keyword_words, search_backend
from kynect.directory.search.index import term_tag
from kynect.directory.taxonomy import category_find

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
    """What a list endpoint shows: `ids`, the primary keys of the matching records in order, and
    `records`, the query the records themselves are read from.

    `ids` is a lazy query (counted and sliced in SQL) when every match is listed, or a list when the
    search ranks or orders by distance: such a search answers its first COUNT_CAP matches, as the search
    page does, and `truncated` says that more matched (ADR 0035)."""

    ids: QuerySet[Any, Any] | list[Any]
    records: QuerySet[M]
    truncated: bool = False


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


class _NothingMatchesError(Exception):
    """The filters can match nothing: text with no word to look for, or a taxonomy without terms."""


def _search_query(
    *,
    search: str | None,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    proximity: Proximity | None = None,
    postcode: str | None = None,
) -> SearchQuery | None:
    """The search page's query for the API's filters; None when no filter asks the index (the lists
    then read the tables). `postcode`: the listings that cover it (see `coverage`). With a circle the
    nearest come first, then the best match; with words alone, the best match first."""
    words = keyword_words(search) if search else ()
    tags = _taxonomy_tags(taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id)
    coverage = covering_tags(postcode, in_circle=proximity is not None) if postcode else ()
    if not (search or tags or coverage or modified_after or proximity):
        return None
    if (search and not words) or not all(tags):
        raise _NothingMatchesError
    return SearchQuery(
        words=words,
        tag_groups=tuple(tags),
        coverage=tuple(coverage),
        origin=Origin(proximity.latitude, proximity.longitude) if proximity else None,
        radius_miles=proximity.metres / METRES_PER_MILE if proximity else None,
        modified_after=modified_after,
        organization_id=organization_id,
        unlisted=True,
        sort=SortOrder.DISTANCE if proximity else SortOrder.RELEVANCE,
    )


def _ordered(query: SearchQuery) -> bool:
    """Whether the search orders its matches by relevance or distance, and so answers the first
    COUNT_CAP of them; other filters list every match, by name."""
    return bool(query.words) or query.origin is not None


def _first_entries(query: SearchQuery, **annotations: Any) -> tuple[list[Any], bool]:
    """The first COUNT_CAP entries the search page's backend finds, in its order, each with the ids of
    its service and organization and the `annotations` (named fields), and whether more matched."""
    rows = search_backend().matches(query)
    entry_ids = [row[0] for row in rows[:COUNT_CAP]]
    found = (
        SearchEntry.every.filter(pk__in=entry_ids)
        .annotate(**annotations)
        .values_list("pk", "service_id", "organization_id", *annotations, named=True)
    )
    by_id = {entry.pk: entry for entry in found}
    return [by_id[pk] for pk in entry_ids if pk in by_id], len(rows) > COUNT_CAP


def _each_once(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _grouped(entries: QuerySet[SearchEntry], key: str, name: str) -> QuerySet[Any, Any]:
    """The distinct `key` ids of the entries, by `name`."""
    return (
        entries.values(key)
        .annotate(sort_name=Min(name))
        .order_by("sort_name", key)
        .values_list(key, flat=True)
    )


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
    try:
        query = _search_query(
            search=search,
            taxonomy_term_id=taxonomy_term_id,
            taxonomy_id=taxonomy_id,
            organization_id=organization_id,
            modified_after=modified_after,
        )
    except _NothingMatchesError:
        return Found(ids=[], records=services)
    if query is None:
        if organization_id is not None:
            services = services.filter(organization_id=organization_id)
        return _plain(services, "name", "id")
    if _ordered(query):
        entries, truncated = _first_entries(query)
        return Found(
            ids=_each_once(entry.service_id for entry in entries), records=services, truncated=truncated
        )
    matching, _ordering = search_backend().filtered(query)
    return Found(ids=_grouped(matching, "service_id", "name"), records=services)


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
    try:
        query = _search_query(
            search=search,
            taxonomy_term_id=taxonomy_term_id,
            taxonomy_id=taxonomy_id,
            organization_id=organization_id,
            modified_after=modified_after,
            proximity=proximity,
            postcode=postcode,
        )
    except _NothingMatchesError:
        return Found(ids=[], records=rows)
    if query is None:
        if organization_id is not None:
            rows = rows.filter(service__organization_id=organization_id)
        return _plain(rows, "service__name", "id")
    at = visible_service_at_locations().filter(
        service_id=OuterRef("service_id"), location_id=OuterRef("location_id")
    )
    if _ordered(query):
        # An entry of a service without a location has no row.
        entries, truncated = _first_entries(query, row=Subquery(at.values("pk")[:1]))
        return Found(
            ids=_each_once(entry.row for entry in entries if entry.row is not None),
            records=rows,
            truncated=truncated,
        )
    matching, _ordering = search_backend().filtered(query)
    ids = (
        matching.filter(location__isnull=False)
        .annotate(row=Subquery(at.values("pk")[:1]))
        .order_by("name", "id")
        .values_list("row", flat=True)
    )
    return Found(ids=ids, records=rows)


def organization_list(*, search: str | None = None) -> Found[Organization]:
    """Organizations by name; with `search`, those with a listing that matches (in its organization's
    name, or its service's name, description or categories), best match first."""
    organizations = Organization.objects.all()
    try:
        query = _search_query(search=search)
    except _NothingMatchesError:
        return Found(ids=[], records=organizations)
    if query is None:
        return _plain(organizations, "name", "id")
    entries, truncated = _first_entries(query)
    return Found(
        ids=_each_once(entry.organization_id for entry in entries), records=organizations, truncated=truncated
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


def service_in_category(*, service_id: Any, slug: str) -> bool:
    """Whether the service is filed under the kynect category `slug` or any category beneath it."""
    node = category_find(slug)
    if node is None:
        return False
    return Attribute.objects.filter(
        link_entity="service", link_id=service_id, taxonomy_term_id__in=[item.id for item in node.walk()]
    ).exists()
