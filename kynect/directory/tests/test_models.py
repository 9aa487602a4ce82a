import uuid

import pytest
from django.db import IntegrityError

from kynect.accounts.tests.factories import OrganizationFactory
from kynect.directory import models


@pytest.fixture
def service_at_location() -> models.ServiceAtLocation:
    organization = models.Organization.objects.create(
        name="Franklin County Food Pantry", description="Food help"
    )
    service = models.Service.objects.create(organization=organization, name="Food pantry")
    location = models.Location.objects.create(
        organization=organization,
        location_type=models.Location.LocationType.PHYSICAL,
        latitude=38.2,
        longitude=-84.87,
    )
    models.Address.objects.create(
        location=location,
        address_1="100 Main St",
        city="Frankfort",
        state_province="KY",
        postal_code="40601",
        country="US",
        address_type="physical",
    )
    return models.ServiceAtLocation.objects.create(service=service, location=location)


@pytest.mark.django_db
def test_hsds_relations_use_the_standard_names(service_at_location: models.ServiceAtLocation) -> None:
    service = service_at_location.service
    assert isinstance(service.id, uuid.UUID)
    assert service.organization.services.get() == service
    assert service.service_at_locations.get().location.addresses.get().postal_code == "40601"
    column_names = {field.column for field in models.Service._meta.concrete_fields}
    assert {"organization_id", "program_id", "status", "minimum_age", "last_modified"} <= column_names
    assert models.TaxonomyTerm._meta.get_field("taxonomy_detail").column == "taxonomy_id"


@pytest.mark.django_db
def test_deleting_a_service_removes_its_own_records_not_the_location(
    service_at_location: models.ServiceAtLocation,
) -> None:
    service = service_at_location.service
    models.Phone.objects.create(service=service, number="(502) 555-0100")
    service.delete()
    assert not models.Phone.objects.exists()
    assert not models.ServiceAtLocation.objects.exists()
    assert models.Location.objects.count() == 1


@pytest.mark.django_db
def test_a_platform_organization_links_to_one_directory_organization() -> None:
    directory_organization = models.Organization.objects.create(name="Lake Cumberland Action", description="")
    first = OrganizationFactory.create(hsds_organization=directory_organization)
    assert directory_organization.platform_organization == first
    with pytest.raises(IntegrityError):
        OrganizationFactory.create(hsds_organization=directory_organization)
