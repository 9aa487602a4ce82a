"""How a listing's contact details are chosen for display, the one answer for the search index (which
stores them on each entry for the result cards), the detail page and a shared listing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from django.db.models import Q

from kynect.accounts.selectors import onboarded_hsds_organization_ids
from kynect.directory import models as hsds


def main_phone(
    *,
    at_location: Iterable[hsds.Phone] = (),
    service: Iterable[hsds.Phone] = (),
    location: Iterable[hsds.Phone] = (),
    organization: Iterable[hsds.Phone] = (),
) -> hsds.Phone | None:
    """The number to call first for a service at a location: the most specific one (the service at
    that location, then the service, the location, the organization), a voice or untyped line before
    any other kind, never a fax or an empty number."""
    for phones in (at_location, service, location, organization):
        usable = [phone for phone in phones if phone.type.lower() != "fax" and phone.number.strip()]
        if usable:
            return min(
                usable,
                key=lambda phone: (phone.type.lower() not in ("", "voice"), phone.number, str(phone.id)),
            )
    return None


def listing_main_phone(*, service: hsds.Service, location: hsds.Location | None) -> hsds.Phone | None:
    """`main_phone` of one listing, read in one query."""
    owners = Q(service=service) | Q(organization_id=service.organization_id)
    if location is not None:
        owners |= Q(location=location) | Q(
            service_at_location__service=service, service_at_location__location=location
        )
    phones = list(hsds.Phone.objects.filter(owners).select_related("service_at_location"))
    return main_phone(
        at_location=[
            phone
            for phone in phones
            if location is not None
            and phone.service_at_location is not None
            and phone.service_at_location.service_id == service.pk
            and phone.service_at_location.location_id == location.pk
        ],
        service=[phone for phone in phones if phone.service_id == service.pk],
        location=[phone for phone in phones if location is not None and phone.location_id == location.pk],
        organization=[phone for phone in phones if phone.organization_id == service.organization_id],
    )


def pick_address(addresses: Sequence[hsds.Address]) -> hsds.Address | None:
    """The address to show: a physical one before a postal one, never a virtual one; the first of
    each kind in the order given."""
    shown = [address for address in addresses if address.address_type != hsds.Address.AddressType.VIRTUAL]
    physical = [address for address in shown if address.address_type == hsds.Address.AddressType.PHYSICAL]
    candidates = physical or shown
    return candidates[0] if candidates else None


def address_text(address: hsds.Address | None) -> str:
    """The address as one line, such as "100 Main St, Suite 2, Frankfort, KY 40601", leaving out the
    parts it does not have."""
    if address is None:
        return ""
    place = " ".join(part.strip() for part in (address.state_province, address.postal_code) if part.strip())
    parts = (address.address_1, address.address_2, address.city, place)
    return ", ".join(part.strip() for part in parts if part and part.strip())


def listing_address(*, location: hsds.Location | None) -> str:
    """The address line of a listing at `location`, read in one query."""
    if location is None:
        return ""
    return address_text(pick_address(list(hsds.Address.objects.filter(location=location).order_by("id"))))


def partner_organization_ids(*, organization_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The organizations that are "KY Partners": onboarded on the platform (DESIGN §4). A feed's own
    attribute never makes one."""
    return onboarded_hsds_organization_ids(hsds_organization_ids=organization_ids)
