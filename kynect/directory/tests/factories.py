"""Factories for the HSDS directory. `listed_service` builds a whole findable listing in one call."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

import factory

from kynect.directory import models
from kynect.directory.hours import opening_windows_rebuild
from kynect.directory.taxonomy import taxonomy_id


class DirectoryOrganizationFactory(factory.django.DjangoModelFactory[models.Organization]):
    class Meta:
        model = models.Organization

    name = factory.Sequence(lambda n: f"Community Help Center {n}")
    description = "Helps people in Franklin County."
    website = "https://help.example.org"


class ServiceFactory(factory.django.DjangoModelFactory[models.Service]):
    class Meta:
        model = models.Service

    organization = factory.SubFactory(DirectoryOrganizationFactory)
    name = factory.Sequence(lambda n: f"Helping service {n}")
    description = "Help for people who need it."
    status = models.Service.Status.ACTIVE


class LocationFactory(factory.django.DjangoModelFactory[models.Location]):
    class Meta:
        model = models.Location

    organization = factory.SubFactory(DirectoryOrganizationFactory)
    location_type = models.Location.LocationType.PHYSICAL
    name = factory.Sequence(lambda n: f"Main office {n}")
    latitude = 38.2009
    longitude = -84.8733
    time_zone = "America/New_York"


class AddressFactory(factory.django.DjangoModelFactory[models.Address]):
    class Meta:
        model = models.Address

    location = factory.SubFactory(LocationFactory)
    address_1 = "100 Main St"
    city = "Frankfort"
    state_province = "KY"
    postal_code = "40601"
    country = "US"
    address_type = models.Address.AddressType.PHYSICAL


def listed_service(
    *,
    name: str = "Food pantry",
    organization: models.Organization | None = None,
    description: str = "Free groceries to take home.",
    latitude: float = 38.2009,
    longitude: float = -84.8733,
    postal_code: str = "40601",
    city: str = "Frankfort",
    time_zone: str = "America/New_York",
    category_slugs: Iterable[str] = (),
    situation_slugs: Iterable[str] = (),
    language_codes: Iterable[str] = ("en",),
    phone: str = "(502) 555-0100",
    hours: Iterable[tuple[str, time, time]] = (),
    location: models.Location | None = None,
    **service_fields: object,
) -> models.ServiceAtLocation:
    """A service at a location with an address, a phone, terms, languages and weekly hours.

    `hours` holds (BYDAY, opens, closes) triples such as ("MO,TU,WE,TH,FR", time(8), time(16, 30)).
    Pass `location` to add another service at an existing location.
    """
    organization = organization or DirectoryOrganizationFactory.create()
    service = ServiceFactory.create(
        organization=organization, name=name, description=description, **service_fields
    )
    if location is None:
        location = LocationFactory.create(
            organization=organization, latitude=latitude, longitude=longitude, time_zone=time_zone
        )
        AddressFactory.create(location=location, postal_code=postal_code, city=city)
        models.Phone.objects.create(location=location, number=phone, type="voice", description="Main")
    for slug in category_slugs:
        models.Attribute.objects.create(
            link_id=service.id,
            link_entity="service",
            link_type="category",
            taxonomy_term_id=taxonomy_id(slug),
        )
    for slug in situation_slugs:
        models.Attribute.objects.create(
            link_id=service.id,
            link_entity="service",
            link_type="life_situation",
            taxonomy_term_id=taxonomy_id(slug),
        )
    for code in language_codes:
        models.Language.objects.create(service=service, code=code, name=code)
    for byday, opens, closes in hours:
        models.Schedule.objects.create(
            location=location, freq="WEEKLY", byday=byday, opens_at=opens, closes_at=closes
        )
    if hours:
        opening_windows_rebuild(location_ids=[location.id])
    return models.ServiceAtLocation.objects.create(service=service, location=location)
