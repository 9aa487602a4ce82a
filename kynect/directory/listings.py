"""Reads for the public listing pages: search result cards and the service detail page.

Each function takes keyword arguments, loads what it shows in a fixed number of queries, and returns
plain data for the templates.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext

from kynect.core.phones import phone_display, phone_normalize
from kynect.directory import models as hsds
from kynect.directory.display import address_text, pick_address
from kynect.directory.hours import DayHours, WeekRow, hours_today, own_or_location_hours, weekly_table
from kynect.directory.search import Origin, SearchHit, SearchQuery, search_backend
from kynect.directory.search.index import term_tag

RELATED_RADIUS_MILES = 25
RELATED_LIMIT = 5


@dataclass(frozen=True)
class Phone:
    number: str
    display: str
    tel: str
    description: str


@dataclass(frozen=True)
class ListingCard:
    service_id: uuid.UUID
    location_id: uuid.UUID | None
    name: str
    organization_name: str
    description: str
    is_partner: bool
    distance_miles: float | None
    phone: Phone | None
    website: str
    email: str
    address: str
    today: DayHours | None
    detail_url: str
    share_url: str

    # What the card template prints beyond the fields, in the language active when it is rendered.
    @property
    def anchor(self) -> str:
        """The id of the card's heading, unique on a page: a service may be listed at many locations."""
        return f"listing-{self.service_id}-{self.location_id or 'none'}"

    @property
    def distance_label(self) -> str:
        # Rounded to a tenth: Django's number format truncates the digits it leaves out.
        miles = round(self.distance_miles or 0.0, 1)
        return gettext("%(miles)s Miles") % {"miles": number_format(miles, 1)}

    @property
    def connect_label(self) -> str:
        return gettext("Connect with %(name)s") % {"name": self.name}

    @property
    def share_label(self) -> str:
        return gettext("Share %(name)s") % {"name": self.name}


def _phone_parts(number: str, description: str = "") -> Phone:
    """A directory number as shown and dialled; numbers that are not 10-digit U.S. ones stay as given."""
    try:
        e164 = phone_normalize(number)
    except ValidationError:
        digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
        return Phone(number, number, digits, description)
    return Phone(number, phone_display(e164), e164, description)


_PLACEHOLDER = uuid.UUID(int=0)


class ListingUrls:
    """Builds the detail and share URLs of many listings with two `reverse` calls (it is slow with
    language prefixes), in the language active when created."""

    def __init__(self) -> None:
        self.detail = reverse("directory:service_detail", kwargs={"service_id": _PLACEHOLDER})
        self.share = reverse("directory:service_share", kwargs={"service_id": _PLACEHOLDER})

    def __call__(self, *, service_id: uuid.UUID, location_id: uuid.UUID | None) -> tuple[str, str]:
        query = f"?{urlencode({'location': str(location_id)})}" if location_id else ""
        placeholder, wanted = str(_PLACEHOLDER), str(service_id)
        return (
            self.detail.replace(placeholder, wanted) + query,
            self.share.replace(placeholder, wanted) + query,
        )


def listing_urls(*, service_id: uuid.UUID, location_id: uuid.UUID | None) -> tuple[str, str]:
    return ListingUrls()(service_id=service_id, location_id=location_id)


# Raw SQL for the rows a page of cards reads: the ORM cost three times the queries' own time here.
_UUID: models.UUIDField[uuid.UUID, uuid.UUID] = models.UUIDField()


def _db_uuids(values: Sequence[uuid.UUID]) -> list[Any]:
    return [_UUID.get_db_prep_value(value, connection) for value in values]


def _as_uuid(value: Any) -> uuid.UUID | None:
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


def _as_time(value: Any) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def _as_date(value: Any) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


@dataclass(frozen=True, slots=True)
class _Window:
    location_id: uuid.UUID
    service_id: uuid.UUID | None
    weekday: int
    opens_at: time
    closes_at: time
    closes_next_day: bool
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class _Closed:
    location_id: uuid.UUID
    service_id: uuid.UUID | None
    date: date
    reason: str


@dataclass(frozen=True, slots=True)
class _CardEntry:
    id: int
    service_id: uuid.UUID
    location_id: uuid.UUID | None
    name: str
    organization_name: str
    description: str
    is_partner: bool
    phone: str
    website: str
    email: str
    address: str
    time_zone: str
    own_hours: bool


def _card_entries(entry_ids: Sequence[int]) -> dict[int, _CardEntry]:
    if not entry_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, service_id, location_id, name, organization_name, description, is_partner,"  # noqa: S608
            " phone, website, email, address, time_zone, own_hours"
            f" FROM directory_searchentry WHERE id IN ({_marks(len(entry_ids))})",
            list(entry_ids),
        )
        rows = cursor.fetchall()
    return {
        row[0]: _CardEntry(
            id=row[0],
            service_id=uuid.UUID(str(row[1])),
            location_id=_as_uuid(row[2]),
            name=row[3],
            organization_name=row[4],
            description=row[5],
            is_partner=bool(row[6]),
            phone=row[7],
            website=row[8],
            email=row[9],
            address=row[10],
            time_zone=row[11],
            own_hours=bool(row[12]),
        )
        for row in rows
    }


def _windows_by_location(
    entries: Sequence[Any], *, closed_from: date | None = None, closed_to: date | None = None
) -> tuple[dict[uuid.UUID, list[Any]], dict[uuid.UUID, list[Any]]]:
    """The opening windows and closed days of the entries' locations, as light rows (the hours
    functions read their attributes); closed days limited to a range of dates when given."""
    location_ids = sorted({entry.location_id for entry in entries if entry.location_id})
    windows: dict[uuid.UUID, list[Any]] = defaultdict(list)
    closed: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if not location_ids:
        return windows, closed
    marks, params = _marks(len(location_ids)), _db_uuids(location_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT location_id, service_id, weekday, opens_at, closes_at, closes_next_day,"  # noqa: S608
            f" valid_from, valid_to FROM directory_openingwindow WHERE location_id IN ({marks})",
            params,
        )
        for row in cursor.fetchall():
            window = _Window(
                _as_uuid(row[0]),  # type: ignore[arg-type]
                _as_uuid(row[1]),
                row[2],
                _as_time(row[3]),
                _as_time(row[4]),
                bool(row[5]),
                _as_date(row[6]),
                _as_date(row[7]),
            )
            windows[window.location_id].append(window)
        dates, date_params = "", []
        if closed_from is not None and closed_to is not None:
            dates, date_params = (
                " AND date BETWEEN %s AND %s",
                [closed_from.isoformat(), closed_to.isoformat()],
            )
        cursor.execute(
            "SELECT location_id, service_id, date, reason FROM directory_closedday"  # noqa: S608
            f" WHERE location_id IN ({marks}){dates}",
            [*params, *date_params],
        )
        for row in cursor.fetchall():
            day = _Closed(_as_uuid(row[0]), _as_uuid(row[1]), _as_date(row[2]), row[3])  # type: ignore[arg-type]
            closed[day.location_id].append(day)
    return windows, closed


def listing_cards(*, hits: Sequence[SearchHit], now: datetime) -> list[ListingCard]:
    """The result cards of a page of hits, in the hits' order: three queries, whatever the page size."""
    entries = _card_entries([hit.entry_id for hit in hits])
    found = [entries[hit.entry_id] for hit in hits if hit.entry_id in entries]
    # Today in any Kentucky time zone is within a day of today in UTC.
    windows, closed = _windows_by_location(
        found, closed_from=now.date() - timedelta(days=1), closed_to=now.date() + timedelta(days=1)
    )
    urls = ListingUrls()
    cards = []
    for hit in hits:
        entry = entries.get(hit.entry_id)
        if entry is None:
            continue
        today = None
        if entry.location_id:
            own, days = own_or_location_hours(
                windows=windows[entry.location_id],
                closed_days=closed[entry.location_id],
                service_id=entry.service_id,
                own=entry.own_hours,
            )
            today = hours_today(windows=own, closed_days=days, time_zone=entry.time_zone, now=now)
        detail_url, share_url = urls(service_id=entry.service_id, location_id=entry.location_id)
        cards.append(
            ListingCard(
                service_id=entry.service_id,
                location_id=entry.location_id,
                name=entry.name,
                organization_name=entry.organization_name,
                description=entry.description,
                is_partner=entry.is_partner,
                distance_miles=hit.distance_miles,
                phone=_phone_parts(entry.phone) if entry.phone else None,
                website=entry.website,
                email=entry.email,
                address=entry.address,
                today=today,
                detail_url=detail_url,
                share_url=share_url,
            )
        )
    return cards


# --- The service detail page ------------------------------------------------------------------------


@dataclass(frozen=True)
class OtherService:
    name: str
    organization_name: str
    url: str
    distance_miles: float | None = None


@dataclass(frozen=True)
class ServiceDetail:
    card: ListingCard
    service: hsds.Service
    location: hsds.Location | None
    phones: list[Phone]
    week: list[WeekRow]
    fees: list[str]
    must_meet: list[str]
    benefiting: list[str]
    next_steps: str
    what_to_bring: list[str]
    transportation: str
    parking: str
    languages: list[str]
    interpretation: str
    other_locations: list[OtherService]
    other_services_here: list[OtherService]
    related: list[OtherService]
    frequently_paired: list[OtherService]


def service_detail_get(
    *, service_id: uuid.UUID, location_id: uuid.UUID | None, now: datetime
) -> ServiceDetail | None:
    """Everything the detail page shows, for an active service at one of its locations (the given one
    when it is the service's, else its first). None when the service is not listed."""
    entries = list(hsds.SearchEntry.objects.filter(service_id=service_id).order_by("id"))
    if not entries:
        return None
    entry = next((item for item in entries if item.location_id == location_id), entries[0])
    card = listing_cards(hits=[SearchHit(entry_id=entry.pk, distance_miles=None)], now=now)[0]
    service = hsds.Service.objects.select_related("organization").get(pk=service_id)
    location = (
        hsds.Location.objects.prefetch_related("accessibility").get(pk=entry.location_id)
        if entry.location_id
        else None
    )
    phones = list(hsds.Phone.objects.filter(service_id=service_id)) or (
        list(hsds.Phone.objects.filter(location_id=entry.location_id)) if entry.location_id else []
    )
    week: list[WeekRow] = []
    if entry.location_id:
        windows, closed = _windows_by_location([entry])
        own, days = own_or_location_hours(
            windows=windows[entry.location_id],
            closed_days=closed[entry.location_id],
            service_id=entry.service_id,
            own=entry.own_hours,
        )
        week = weekly_table(windows=own, closed_days=days, time_zone=entry.time_zone, now=now)

    fees = [text for text in (service.fees_description, service.fees) if text]
    fees += [
        " ".join(part for part in (option.option, f"${option.amount}" if option.amount else "") if part)
        for option in service.cost_options.all()
    ]
    must_meet = [text for text in (service.eligibility_description,) if text]
    if service.minimum_age or service.maximum_age:
        must_meet.append(_age_text(service.minimum_age, service.maximum_age))
    benefiting = [area.description or area.name for area in service.service_areas.all()]
    parking = ""
    if location is not None:
        parking = "; ".join(
            item.details or item.description
            for item in location.accessibility.all()
            if "parking" in (item.description + item.details).lower()
        )
    others_here: list[OtherService] = []
    if entry.location_id:
        for other in (
            hsds.SearchEntry.objects.filter(location_id=entry.location_id)
            .exclude(service_id=service_id)
            .order_by("name")[:20]
        ):
            url = listing_urls(service_id=other.service_id, location_id=other.location_id)[0]
            others_here.append(OtherService(other.name, other.organization_name, url))
    elsewhere = [item for item in entries if item.pk != entry.pk and item.location_id]
    addresses: dict[uuid.UUID, list[hsds.Address]] = defaultdict(list)
    for address in hsds.Address.objects.filter(location_id__in=[item.location_id for item in elsewhere]):
        addresses[address.location_id].append(address)
    other_locations = [
        OtherService(
            address_text(pick_address(addresses[item.location_id])) or item.name,
            item.organization_name,
            listing_urls(service_id=service_id, location_id=item.location_id)[0],
        )
        for item in elsewhere
        if item.location_id
    ]
    return ServiceDetail(
        card=card,
        service=service,
        location=location,
        phones=[
            _phone_parts(phone.number, phone.description) for phone in phones if phone.type.lower() != "fax"
        ],
        week=week,
        fees=fees,
        must_meet=must_meet,
        benefiting=benefiting,
        next_steps=service.application_process,
        what_to_bring=[doc.document for doc in service.required_documents.all() if doc.document],
        transportation=location.transportation if location else "",
        parking=parking,
        languages=[language.name or language.code for language in service.languages.all()],
        interpretation=service.interpretation_services,
        other_locations=other_locations,
        other_services_here=others_here,
        related=related_services(entry=entry),
        frequently_paired=frequently_paired(service_id=service_id),
    )


def _age_text(minimum: object, maximum: object) -> str:
    if minimum and maximum:
        return gettext("Ages %(minimum)s to %(maximum)s") % {"minimum": minimum, "maximum": maximum}
    if minimum:
        return gettext("Age %(minimum)s or older") % {"minimum": minimum}
    return gettext("Age %(maximum)s or younger") % {"maximum": maximum}


def related_services(*, entry: hsds.SearchEntry) -> list[OtherService]:
    """Other services that share one of this service's categories, nearest first within 25 miles
    (statewide by name when the listing has no coordinates)."""
    category_ids = hsds.Attribute.objects.filter(
        link_entity="service", link_id=entry.service_id, link_type="category", taxonomy_term__isnull=False
    ).values_list("taxonomy_term_id", flat=True)
    tags = tuple(term_tag(term_id) for term_id in category_ids)
    if not tags:
        return []
    has_point = entry.latitude is not None and entry.longitude is not None
    query = SearchQuery(
        tag_groups=(tags,),
        origin=Origin(entry.latitude, entry.longitude) if has_point else None,  # type: ignore[arg-type]
        radius_miles=RELATED_RADIUS_MILES if has_point else None,
        limit=RELATED_LIMIT + 10,
    )
    page = search_backend().search(query)
    others = hsds.SearchEntry.objects.in_bulk([hit.entry_id for hit in page.hits])
    related = []
    for hit in page.hits:
        other = others.get(hit.entry_id)
        if other is None or other.service_id == entry.service_id:
            continue
        url = listing_urls(service_id=other.service_id, location_id=other.location_id)[0]
        related.append(OtherService(other.name, other.organization_name, url, hit.distance_miles))
        if len(related) == RELATED_LIMIT:
            break
    return related


# Co-referral counts come from closed-loop referrals, an app above the directory that the directory
# does not import (DESIGN §3): referrals registers its reader here when it is ready.
PairedSource = Callable[..., list[uuid.UUID]]
PAIRED_LIMIT = 3
_paired_sources: list[PairedSource] = []


def paired_source_register(source: PairedSource) -> None:
    """Set the reader of co-referrals: `source(service_id=..., limit=...)` returns the ids of the
    services most often referred together with the service, most first (replacing any set before)."""
    _paired_sources[:] = [source]


def frequently_paired(*, service_id: uuid.UUID) -> list[OtherService]:
    """Active services most often referred for the same residents as this one within 30 days (DESIGN
    §4), most first, at most 3; none (and the detail page hides the section) while there are none."""
    if not _paired_sources:
        return []
    ids = _paired_sources[0](service_id=service_id, limit=PAIRED_LIMIT)
    services = hsds.Service.objects.select_related("organization").filter(
        pk__in=ids, status=hsds.Service.Status.ACTIVE
    )
    by_id = {service.pk: service for service in services}
    return [
        OtherService(
            by_id[other].name,
            by_id[other].organization.name,
            listing_urls(service_id=other, location_id=None)[0],
        )
        for other in ids
        if other in by_id
    ]
