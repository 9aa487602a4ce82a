"""Organizations as FHIR Organizations: a directory organization in the HSD Organization profile, and a
platform organization (the sender or receiver of a referral) as its directory listing when it has one, or
from its own record when it has none."""

from __future__ import annotations

import uuid

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.organization import Organization as FhirOrganization

from kynect.accounts import models as accounts
from kynect.directory import models as hsds
from kynect.interop.fhir.datatypes import (
    CONTENT_LANGUAGE,
    KYNECT_SYSTEM,
    meta,
    own_phones,
    phone_points,
    reference,
    web_points,
)


def organization_resource(organization: hsds.Organization) -> FhirOrganization:
    """Needs `organization.phones` (`own_phones()`) and `organization.organization_identifiers` prefetched.

    Only the organization's own numbers, email and website are published: its contacts (named people)
    are not."""
    return FhirOrganization(
        id=str(organization.pk),
        meta=meta(kind="Organization", last_updated=organization.imported_at),
        language=CONTENT_LANGUAGE,
        active=True,
        name=organization.name,
        alias=[organization.alternate_name] if organization.alternate_name else None,
        identifier=[
            Identifier(type=CodeableConcept(text=identifier.identifier_type), value=identifier.identifier)
            for identifier in organization.organization_identifiers.all()
            if identifier.identifier
        ]
        or None,
        telecom=[
            *phone_points(organization.phones.all()),
            *web_points(email=organization.email, website=organization.website),
        ]
        or None,
        partOf=(
            reference(
                kind="Organization",
                pk=organization.parent_organization_id,
                display=organization.parent_organization.name,
            )
            if organization.parent_organization is not None
            else None
        ),
    )


def organization_read(*, organization_id: uuid.UUID) -> FhirOrganization | None:
    organization = (
        hsds.Organization.objects.select_related("parent_organization")
        .prefetch_related(own_phones(), "organization_identifiers")
        .filter(pk=organization_id)
        .first()
    )
    return organization_resource(organization) if organization is not None else None


PLATFORM_ORGANIZATION_SYSTEM = f"{KYNECT_SYSTEM}/NamingSystem/organization"
# A resident who referred themselves asked through kynect resources itself.
KYNECT_ID = "kynect"
KYNECT_NAME = "kynect resources"


def platform_organization_resource(organization: accounts.Organization) -> FhirOrganization:
    """The organization's directory listing (`Organization/{listing id}`, readable in the FHIR API), with
    kynect's id of the organization as an identifier; an organization without a listing from its own
    record. Needs `organization.hsds_organization` with its phones (`own_phones()`) and identifiers
    prefetched."""
    identifier = Identifier(system=PLATFORM_ORGANIZATION_SYSTEM, value=str(organization.pk))
    listing = organization.hsds_organization
    if listing is not None:
        resource = organization_resource(listing)
        resource.identifier = [identifier, *(resource.identifier or [])]
        return resource
    has_address = organization.address_1 or organization.city or organization.postal_code
    return FhirOrganization(
        id=str(organization.pk),
        language=CONTENT_LANGUAGE,
        identifier=[identifier],
        active=True,
        type=[CodeableConcept(text=str(organization.Type(organization.type).label))],
        name=organization.name,
        address=[
            Address(
                use="work",
                line=[line for line in (organization.address_1, organization.address_2) if line] or None,
                city=organization.city or None,
                state=organization.state_province or None,
                postalCode=organization.postal_code or None,
            )
        ]
        if has_address
        else None,
    )


def kynect_organization_resource() -> FhirOrganization:
    """kynect resources itself: the requester of a referral a resident made for themselves."""
    return FhirOrganization(id=KYNECT_ID, language=CONTENT_LANGUAGE, active=True, name=KYNECT_NAME)
