"""A directory service as a FHIR HealthcareService (HSD HealthcareService profile)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from django.db.models import Prefetch
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.healthcareservice import (
    HealthcareService,
    HealthcareServiceAvailableTime,
    HealthcareServiceEligibility,
)

from kynect.core import clock
from kynect.directory import models as hsds
from kynect.directory.hours import weekly_hours, zone
from kynect.directory.selectors import visible_services
from kynect.interop.fhir.datatypes import (
    CONTENT_LANGUAGE,
    fhir_days,
    language_concepts,
    meta,
    own_phones,
    phone_points,
    reference,
    term_concept,
    web_points,
)

CATEGORY_LINK = "category"


def healthcare_service_resource(
    service: hsds.Service, *, terms: Sequence[hsds.Attribute], today: date
) -> HealthcareService:
    """Needs `service.organization` and `service.program` selected, and `service.phones` (`own_phones()`),
    `service.languages`, `service.service_at_locations` (with their locations) and `service.opening_windows`
    prefetched; `terms` are the service's taxonomy attributes, with their terms and taxonomies. Its own
    hours (if it keeps any apart from its locations') are those in force on `today`.

    A service the directory lists as inactive or temporarily closed is published with `active: false`."""
    available = [
        HealthcareServiceAvailableTime(daysOfWeek=fhir_days(hours.weekdays), allDay=True)
        if hours.window.all_day
        else HealthcareServiceAvailableTime(
            daysOfWeek=fhir_days(hours.weekdays),
            availableStartTime=hours.window.opens_at,
            availableEndTime=hours.window.closes_at,
        )
        for hours in weekly_hours(windows=service.opening_windows.all(), day=today)
    ]
    linked = [(a.link_type, a.taxonomy_term) for a in terms if a.taxonomy_term is not None]
    categories = [term_concept(term) for link_type, term in linked if link_type == CATEGORY_LINK]
    characteristics = [term_concept(term) for link_type, term in linked if link_type != CATEGORY_LINK]
    return HealthcareService(
        id=str(service.pk),
        meta=meta(kind="HealthcareService", last_updated=service.last_modified or service.imported_at),
        language=CONTENT_LANGUAGE,
        active=service.status == hsds.Service.Status.ACTIVE,
        providedBy=reference(
            kind="Organization", pk=service.organization_id, display=service.organization.name
        ),
        category=categories or None,
        characteristic=characteristics or None,
        name=service.name,
        extraDetails=service.description or None,
        telecom=[*phone_points(service.phones.all()), *web_points(email=service.email, website=service.url)]
        or None,
        eligibility=(
            [HealthcareServiceEligibility(comment=service.eligibility_description)]
            if service.eligibility_description
            else None
        ),
        program=[CodeableConcept(text=service.program.name)] if service.program is not None else None,
        communication=language_concepts(service.languages.all()) or None,
        location=[
            reference(kind="Location", pk=link.location_id, display=link.location.name)
            for link in service.service_at_locations.all()
        ]
        or None,
        availableTime=available or None,
    )


def healthcare_service_read(*, service_id: uuid.UUID) -> HealthcareService | None:
    """The service as the directory shows it: a defunct service is not found. Six queries, whatever its
    size."""
    service = (
        visible_services()
        .select_related("organization", "program")
        .prefetch_related(
            own_phones(),
            "languages",
            Prefetch(
                "service_at_locations",
                queryset=hsds.ServiceAtLocation.objects.select_related("location").order_by(
                    "location__name", "location_id"
                ),
            ),
            "opening_windows",
        )
        .filter(pk=service_id)
        .first()
    )
    if service is None:
        return None
    terms = list(
        hsds.Attribute.objects.filter(link_entity="service", link_id=service.pk, taxonomy_term__isnull=False)
        .select_related("taxonomy_term__taxonomy_detail")
        .order_by("link_type", "taxonomy_term__name")
    )
    first = next(iter(service.service_at_locations.all()), None)
    today = clock.now().astimezone(zone(first.location.time_zone if first else None)).date()
    return healthcare_service_resource(service, terms=terms, today=today)
