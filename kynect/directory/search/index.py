"""Builds the search index: one `SearchEntry` per service at each of its locations (defunct services
have none; only active ones are listed on the search page).

Rebuilding is idempotent and can be limited to some services; the database-specific full-text part
is written by the backend (`SearchBackend.index_write`) in the same transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import time

from django.db import transaction
from django.db.models import Q

from kynect.core.geo import unit_vector
from kynect.directory import models as hsds
from kynect.directory.coverage import coverage_tags
from kynect.directory.display import address_text, main_phone, partner_organization_ids, pick_address
from kynect.directory.hours import chunked
from kynect.directory.search.backends import search_backend
from kynect.directory.search.slots import hour_slots
from kynect.directory.taxonomy import kynect_term_rows

ANALYZE_AFTER = 1000  # entries written; then the planner's statistics are refreshed
DEFAULT_TIME_ZONE = "America/New_York"


def term_tag(term_id: uuid.UUID | str) -> str:
    """The filter token of a taxonomy term. It ends in a digit so that no stemmer changes it."""
    return f"t{uuid.UUID(str(term_id)).hex}0"


def language_tag(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"lang{cleaned}0"


@dataclass(frozen=True)
class _Term:
    parent_id: uuid.UUID | None
    name_en: str
    name_es: str


def _terms() -> dict[uuid.UUID, _Term]:
    """Every taxonomy term with its parent and names; kynect's shipped names win over the database's."""
    terms = {
        row["id"]: _Term(row["parent_id"], row["name"], row["name_es"])
        for row in hsds.TaxonomyTerm.objects.values("id", "parent_id", "name", "name_es")
    }
    for term_id, values in kynect_term_rows():
        terms[term_id] = _Term(values.get("parent_id"), values["name"], values.get("name_es", ""))
    return terms


def _lineage(term_id: uuid.UUID, terms: dict[uuid.UUID, _Term]) -> Iterator[uuid.UUID]:
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = term_id
    while current is not None and current not in seen and current in terms:
        seen.add(current)
        yield current
        current = terms[current].parent_id


def _entries_for(service_ids: Sequence[uuid.UUID], terms: dict[uuid.UUID, _Term]) -> list[hsds.SearchEntry]:
    services = list(
        hsds.Service.objects.filter(pk__in=service_ids)
        .exclude(status=hsds.Service.Status.DEFUNCT)
        .select_related("organization")
        .only(
            "id",
            "status",
            "name",
            "description",
            "url",
            "email",
            "organization_id",
            "organization__name",
            "organization__website",
            "organization__email",
        )
    )
    if not services:
        return []
    ids = [service.id for service in services]
    term_ids: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for link_id, term_id in hsds.Attribute.objects.filter(
        link_entity="service", link_id__in=ids, taxonomy_term__isnull=False
    ).values_list("link_id", "taxonomy_term_id"):
        term_ids[link_id].update(_lineage(term_id, terms))
    languages: dict[uuid.UUID, set[str]] = defaultdict(set)
    for service_id, code in hsds.Language.objects.filter(service_id__in=ids).values_list(
        "service_id", "code"
    ):
        if code:
            languages[service_id].add(code.lower())
    places: dict[uuid.UUID, list[tuple[uuid.UUID | None, float | None, float | None, str]]] = defaultdict(
        list
    )
    for service_id, location_id, latitude, longitude, time_zone in (
        hsds.ServiceAtLocation.objects.filter(service_id__in=ids)
        .order_by("service_id", "location_id")
        .values_list(
            "service_id", "location_id", "location__latitude", "location__longitude", "location__time_zone"
        )
    ):
        places[service_id].append((location_id, latitude, longitude, time_zone))
    location_ids = {place[0] for found in places.values() for place in found if place[0]}
    organization_ids = {service.organization_id for service in services}
    addresses: dict[uuid.UUID, list[hsds.Address]] = defaultdict(list)
    for address in hsds.Address.objects.filter(location_id__in=location_ids).order_by("id"):
        addresses[address.location_id].append(address)
    # A phone counts for each of its owners: the service at a location, the service, the location
    # and the organization (`main_phone` chooses among them).
    phones: dict[tuple[str, object], list[hsds.Phone]] = defaultdict(list)
    for phone in hsds.Phone.objects.filter(
        Q(service_id__in=ids)
        | Q(location_id__in=location_ids)
        | Q(organization_id__in=organization_ids)
        | Q(service_at_location__service_id__in=ids)
    ).select_related("service_at_location"):
        sal = phone.service_at_location
        if sal is not None:
            phones[("at_location", (sal.service_id, sal.location_id))].append(phone)
        for kind in ("service", "location", "organization"):
            owner = getattr(phone, f"{kind}_id")
            if owner:
                phones[(kind, owner)].append(phone)
    area_names: dict[uuid.UUID, list[str]] = defaultdict(list)
    for service_id, name in hsds.ServiceArea.objects.filter(service_id__in=ids).values_list(
        "service_id", "name"
    ):
        area_names[service_id].append(name)
    partners = partner_organization_ids(organization_ids=organization_ids)
    # The weekly windows of these locations, shared (service None) or a listed service's own.
    windows: dict[tuple[uuid.UUID | None, uuid.UUID | None], list[tuple[int, time, time, bool]]] = (
        defaultdict(list)
    )
    for location_id, service_id, weekday, opens, closes, next_day in hsds.OpeningWindow.objects.filter(
        Q(service_id__isnull=True) | Q(service_id__in=ids), location_id__in=location_ids
    ).values_list("location_id", "service_id", "weekday", "opens_at", "closes_at", "closes_next_day"):
        windows[(location_id, service_id)].append((weekday, opens, closes, next_day))
    own_hours = {(service_id, location_id) for location_id, service_id in windows if service_id is not None}

    entries = []
    for service in services:
        names = [terms[term_id] for term_id in sorted(term_ids[service.id], key=str)]
        tags = [term_tag(term_id) for term_id in sorted(term_ids[service.id], key=str)]
        tags += [language_tag(code) for code in sorted(languages[service.id])]
        common = {
            "service_id": service.id,
            "organization_id": service.organization_id,
            "name": service.name[:255],
            "organization_name": service.organization.name[:255],
            "description": service.description,
            "categories_en": " ".join(term.name_en for term in names),
            "categories_es": " ".join(term.name_es for term in names if term.name_es),
            "website": service.url or service.organization.website,
            "email": service.email or service.organization.email,
            "is_partner": service.organization_id in partners,
            "listed": service.status == hsds.Service.Status.ACTIVE,
        }
        seen: set[uuid.UUID] = set()
        for where, latitude, longitude, time_zone in places[service.id] or [(None, None, None, "")]:
            if where is not None and where in seen:
                continue
            if where is not None:
                seen.add(where)
            chosen = main_phone(
                at_location=phones[("at_location", (service.id, where))],
                service=phones[("service", service.id)],
                location=phones[("location", where)] if where else [],
                organization=phones[("organization", service.organization_id)],
            )
            own = (service.id, where) in own_hours
            x, y, z = (
                unit_vector(latitude, longitude)
                if latitude is not None and longitude is not None
                else (None, None, None)
            )
            entries.append(
                hsds.SearchEntry(
                    location_id=where,
                    latitude=latitude,
                    longitude=longitude,
                    x=x,
                    y=y,
                    z=z,
                    time_zone=time_zone or DEFAULT_TIME_ZONE,
                    own_hours=own,
                    open_slots=hour_slots(windows.get((where, service.id if own else None), [])),
                    address=address_text(pick_address(addresses[where])) if where else "",
                    tags=" ".join(
                        tags
                        + coverage_tags(
                            area_names=area_names[service.id],
                            postcodes=[address.postal_code for address in addresses[where]] if where else [],
                        )
                    ),
                    phone=chosen.number if chosen else "",
                    **common,
                )
            )
    return entries


def search_index_update(*, service_ids: Iterable[uuid.UUID] | None = None) -> int:
    """Rebuild the entries of these services (every service when None). Returns how many entries were
    written. Defunct services lose their entries; inactive and temporarily closed ones keep them unlisted
    (for the HSDS API)."""
    backend = search_backend()
    terms = _terms()
    written = 0
    with transaction.atomic():
        if service_ids is None:
            hsds.SearchEntry.every.all().delete()
            backend.index_clear()
            ids = list(hsds.Service.objects.order_by("pk").values_list("pk", flat=True))
        else:
            ids = sorted(set(service_ids), key=str)
        for chunk in chunked(ids):
            if service_ids is not None:
                stale = list(hsds.SearchEntry.every.filter(service_id__in=chunk).values_list("pk", flat=True))
                backend.index_delete(stale)
                hsds.SearchEntry.every.filter(pk__in=stale).delete()
            entries = hsds.SearchEntry.every.bulk_create(_entries_for(chunk, terms))
            if entries and entries[0].pk is None:
                entries = list(
                    hsds.SearchEntry.every.filter(service_id__in=[entry.service_id for entry in entries])
                )
            backend.index_write(entries)
            written += len(entries)
        if written >= ANALYZE_AFTER:
            backend.index_analyze()
    return written
