"""A directory organization as a FHIR Organization (HSD Organization profile)."""

from __future__ import annotations

import uuid

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.organization import Organization as FhirOrganization

from kynect.directory import models as hsds
from kynect.interop.fhir.datatypes import (
    CONTENT_LANGUAGE,
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
