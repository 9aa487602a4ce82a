"""Reads for the public listing pages: search result cards and the service detail page.

Each function takes keyword arguments, loads what it shows in a fixed number of queries, and returns
plain data for the templates.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from kynect.accounts.models import Organization as PlatformOrganization
from kynect.core.phones import phone_display, phone_normalize
from kynect.directory import models as hsds
from kynect.directory.hours import TodayHours, WeekRow, hours_today, weekly_table
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
    today: TodayHours | None
    detail_url: str
    share_url: str


def _phone(phone: hsds.Phone) -> Phone:
    """A directory number as shown and dialled; numbers that are not 10-digit U.S. ones stay as given."""
    try:
        e164 = phone_normalize(phone.number)
    except ValidationError:
        digits = "".join(ch for ch in phone.number if ch.isdigit() or ch == "+")
        return Phone(phone.number, phone.number, digits, phone.description)
    return Phone(phone.number, phone_display(e164), e164, phone.description)


def main_phone(phones: Iterable[hsds.Phone]) -> hsds.Phone | None:
    """The number to call first: a voice line before any other, never a fax."""
    usable = [phone for phone in phones if phone.type.lower() != "fax" and phone.number.strip()]
    usable.sort(key=lambda phone: (phone.type.lower() not in ("", "voice"), phone.number, str(phone.id)))
    return usable[0] if usable else None


def partner_organization_ids(*, organization_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The organizations that are "KY Partners": onboarded on the platform, or marked so by their feed."""
    ids = list(set(organization_ids))
    flagged = set(
        hsds.Attribute.objects.filter(
            link_entity="organization", link_type="kynect_partner", link_id__in=ids
        ).values_list("link_id", flat=True)
    )
    onboarded = set(
        PlatformOrganization.objects.filter(
            hsds_organization_id__in=ids, onboarded_at__isnull=False
        ).values_list("hsds_organization_id", flat=True)
    )
    return flagged | onboarded


def _address_text(address: hsds.Address | None) -> str:
    if address is None:
        return ""
    street = ", ".join(part for part in (address.address_1, address.address_2) if part)
    return f"{street}, {address.city}, {address.state_province} {address.postal_code}".strip(", ")


def _pick_address(addresses: Sequence[hsds.Address]) -> hsds.Address | None:
    physical = [address for address in addresses if address.address_type == "physical"]
    candidates = physical or list(addresses)
    return candidates[0] if candidates else None


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


@dataclass
class _Loaded:
    addresses: dict[uuid.UUID, list[hsds.Address]] = field(default_factory=lambda: defaultdict(list))
    phones_by_service: dict[uuid.UUID, list[hsds.Phone]] = field(default_factory=lambda: defaultdict(list))
    phones_by_location: dict[uuid.UUID, list[hsds.Phone]] = field(default_factory=lambda: defaultdict(list))
    phones_by_org: dict[uuid.UUID, list[hsds.Phone]] = field(default_factory=lambda: defaultdict(list))
    windows: dict[uuid.UUID, list[hsds.OpeningWindow]] = field(default_factory=lambda: defaultdict(list))
    closed: dict[uuid.UUID, list[hsds.ClosedDay]] = field(default_factory=lambda: defaultdict(list))


def _load(entries: Sequence[hsds.SearchEntry]) -> _Loaded:
    loaded = _Loaded()
    location_ids = {entry.location_id for entry in entries if entry.location_id}
    service_ids = {entry.service_id for entry in entries}
    organization_ids = {entry.organization_id for entry in entries}
    for address in hsds.Address.objects.filter(location_id__in=location_ids).order_by("id"):
        loaded.addresses[address.location_id].append(address)
    for phone in hsds.Phone.objects.filter(
        Q(service_id__in=service_ids)
        | Q(location_id__in=location_ids)
        | Q(organization_id__in=organization_ids)
    ):
        if phone.service_id:
            loaded.phones_by_service[phone.service_id].append(phone)
        elif phone.location_id:
            loaded.phones_by_location[phone.location_id].append(phone)
        elif phone.organization_id:
            loaded.phones_by_org[phone.organization_id].append(phone)
    for window in hsds.OpeningWindow.objects.filter(location_id__in=location_ids):
        loaded.windows[window.location_id].append(window)
    for closed in hsds.ClosedDay.objects.filter(location_id__in=location_ids):
        loaded.closed[closed.location_id].append(closed)
    return loaded


def _hours_for(
    loaded: _Loaded, entry: hsds.SearchEntry
) -> tuple[list[hsds.OpeningWindow], list[hsds.ClosedDay]]:
    """The service's own hours at the location when it keeps any, else the location's."""
    assert entry.location_id is not None
    windows = loaded.windows[entry.location_id]
    closed = loaded.closed[entry.location_id]
    if entry.own_hours:
        return (
            [w for w in windows if w.service_id == entry.service_id],
            [c for c in closed if c.service_id in (None, entry.service_id)],
        )
    return [w for w in windows if w.service_id is None], [c for c in closed if c.service_id is None]


def listing_cards(*, hits: Sequence[SearchHit], now: datetime) -> list[ListingCard]:
    """The result cards of a page of hits, in the hits' order."""
    entries = hsds.SearchEntry.objects.in_bulk([hit.entry_id for hit in hits])
    found = [entries[hit.entry_id] for hit in hits if hit.entry_id in entries]
    services = hsds.Service.objects.select_related("organization").in_bulk(
        [entry.service_id for entry in found]
    )
    loaded = _load(found)
    partners = partner_organization_ids(organization_ids=[entry.organization_id for entry in found])
    distances = {hit.entry_id: hit.distance_miles for hit in hits}
    urls = ListingUrls()
    cards = []
    for entry in found:
        service = services[entry.service_id]
        phones = loaded.phones_by_service[entry.service_id]
        if entry.location_id:
            phones = phones or loaded.phones_by_location[entry.location_id]
        phone = main_phone(phones or loaded.phones_by_org[entry.organization_id])
        today = None
        if entry.location_id:
            windows, closed = _hours_for(loaded, entry)
            today = hours_today(windows=windows, closed_days=closed, time_zone=entry.time_zone, now=now)
        detail_url, share_url = urls(service_id=entry.service_id, location_id=entry.location_id)
        cards.append(
            ListingCard(
                service_id=entry.service_id,
                location_id=entry.location_id,
                name=service.name,
                organization_name=service.organization.name,
                description=service.description,
                is_partner=entry.organization_id in partners,
                distance_miles=distances[entry.pk],
                phone=_phone(phone) if phone else None,
                website=service.url or service.organization.website,
                email=service.email or service.organization.email,
                address=_address_text(_pick_address(loaded.addresses[entry.location_id]))
                if entry.location_id
                else "",
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
    loaded = _load([entry])
    phones = loaded.phones_by_service[service_id] or (
        loaded.phones_by_location[entry.location_id] if entry.location_id else []
    )
    week: list[WeekRow] = []
    if entry.location_id:
        windows, closed = _hours_for(loaded, entry)
        week = weekly_table(windows=windows, closed_days=closed, time_zone=entry.time_zone, now=now)

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
            _address_text(_pick_address(addresses[item.location_id])) or item.name,
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
        phones=[_phone(phone) for phone in phones if phone.type.lower() != "fax"],
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


def frequently_paired(*, service_id: uuid.UUID) -> list[OtherService]:
    """Services often referred to together with this one, from co-referral statistics.

    Closed-loop referrals do not exist on the platform yet, so there are no co-referrals and the
    detail page hides the section, as DESIGN §4 requires.
    """
    return []
