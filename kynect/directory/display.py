"""How a listing's contact details are chosen for display: shared by the search index, which stores
them on each entry, and the pages that show a single service."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from kynect.accounts.models import Organization as PlatformOrganization
from kynect.directory import models as hsds


def main_phone(phones: Iterable[hsds.Phone]) -> hsds.Phone | None:
    """The number to call first: a voice line before any other, never a fax."""
    usable = [phone for phone in phones if phone.type.lower() != "fax" and phone.number.strip()]
    usable.sort(key=lambda phone: (phone.type.lower() not in ("", "voice"), phone.number, str(phone.id)))
    return usable[0] if usable else None


def address_text(address: hsds.Address | None) -> str:
    if address is None:
        return ""
    street = ", ".join(part for part in (address.address_1, address.address_2) if part)
    return f"{street}, {address.city}, {address.state_province} {address.postal_code}".strip(", ")


def pick_address(addresses: Sequence[hsds.Address]) -> hsds.Address | None:
    """The address to show: a physical one before a postal one."""
    physical = [address for address in addresses if address.address_type == "physical"]
    candidates = physical or list(addresses)
    return candidates[0] if candidates else None


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
