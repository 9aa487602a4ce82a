"""A directory location as a FHIR Location (HSD Location profile)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch
from fhir.resources.R4B.address import Address as FhirAddress
from fhir.resources.R4B.location import Location as FhirLocation
from fhir.resources.R4B.location import LocationHoursOfOperation, LocationPosition

from kynect.core import clock
from kynect.directory import models as hsds
from kynect.directory.display import pick_address
from kynect.directory.hours import weekly_hours, zone
from kynect.interop.fhir.datatypes import (
    CONTENT_LANGUAGE,
    fhir_days,
    meta,
    own_phones,
    phone_points,
    reference,
)

# HSDS address types that are places; a virtual address is not a FHIR address.
ADDRESS_TYPES: dict[str, str] = {
    hsds.Address.AddressType.PHYSICAL: "physical",
    hsds.Address.AddressType.POSTAL: "postal",
}


def address(record: hsds.Address | None) -> FhirAddress | None:
    if record is None or record.address_type not in ADDRESS_TYPES:
        return None
    return FhirAddress(
        use="work",
        type=ADDRESS_TYPES[record.address_type],
        line=[line for line in (record.address_1, record.address_2) if line] or None,
        city=record.city or None,
        district=record.region or None,
        state=record.state_province or None,
        postalCode=record.postal_code or None,
        country=record.country or None,
    )


def hours_of_operation(
    windows: Iterable[hsds.OpeningWindow], *, today: date
) -> list[LocationHoursOfOperation]:
    """The regular week in force today. FHIR has no next-day flag: a window that closes after midnight
    keeps its closing time, earlier than its opening time."""
    return [
        LocationHoursOfOperation(daysOfWeek=fhir_days(hours.weekdays), allDay=True)
        if hours.window.all_day
        else LocationHoursOfOperation(
            daysOfWeek=fhir_days(hours.weekdays),
            openingTime=hours.window.opens_at,
            closingTime=hours.window.closes_at,
        )
        for hours in weekly_hours(windows=windows, day=today)
    ]


def location_resource(location: hsds.Location, *, now: datetime) -> FhirLocation:
    """Needs `location.addresses`, `location.phones` (`own_phones()`) and `location.opening_windows`
    (the location's own, `location_windows()`) prefetched, and `location.organization` selected. The
    hours are those in force on the location's local date at `now`."""
    today = now.astimezone(zone(location.time_zone)).date()
    position = None
    if location.latitude is not None and location.longitude is not None:
        position = LocationPosition(
            latitude=Decimal(str(location.latitude)), longitude=Decimal(str(location.longitude))
        )
    place = address(pick_address(list(location.addresses.all())))
    return FhirLocation(
        id=str(location.pk),
        meta=meta(kind="Location", last_updated=location.imported_at),
        language=CONTENT_LANGUAGE,
        status="active",
        mode="instance",
        name=location.name or None,
        alias=[location.alternate_name] if location.alternate_name else None,
        description=location.description or None,
        telecom=phone_points(location.phones.all()) or None,
        address=place,
        position=position,
        managingOrganization=(
            reference(kind="Organization", pk=location.organization_id, display=location.organization.name)
            if location.organization is not None
            else None
        ),
        hoursOfOperation=hours_of_operation(location.opening_windows.all(), today=today) or None,
    )


def location_windows() -> Prefetch:
    """A location's own hours: the windows of services that keep their own hours there are theirs."""
    return Prefetch("opening_windows", queryset=hsds.OpeningWindow.objects.filter(service__isnull=True))


def location_read(*, location_id: uuid.UUID) -> FhirLocation | None:
    location = (
        hsds.Location.objects.select_related("organization")
        .prefetch_related("addresses", own_phones(), location_windows())
        .filter(pk=location_id)
        .first()
    )
    return location_resource(location, now=clock.now()) if location is not None else None
