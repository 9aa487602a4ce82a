"""What a change touches: one answer for an import and for records edited one at a time."""

from __future__ import annotations

from datetime import time

import pytest

from kynect.accounts.tests.factories import OrganizationFactory
from kynect.core import clock
from kynect.directory import models
from kynect.directory.tests.factories import listed_service
from kynect.directory.touched import listings_touched

pytestmark = pytest.mark.django_db


def test_each_table_touches_its_listings_and_the_hours_of_its_locations() -> None:
    sal = listed_service(name="Pantry", hours=[("MO", time(8), time(12))])
    other = listed_service(name="Clinic", location=sal.location)
    service, location = sal.service, sal.location
    at_both = {service.pk, other.service_id}
    schedule = models.Schedule.objects.filter(location=location).first()
    assert schedule is not None
    own = models.Schedule.objects.create(service=service, freq="WEEKLY", byday="TU", opens_at=time(9),
                                         closes_at=time(10))  # fmt: skip
    attribute = models.Attribute.objects.create(
        link_id=service.organization_id, link_entity="organization", link_type="accreditation", value="x"
    )
    sal_phone = models.Phone.objects.create(service_at_location=sal, number="(502) 555-0142")
    location_phone = models.Phone.objects.get(location=location)
    address = models.Address.objects.get(location=location)

    cases = {
        "service": ({service.pk}, set(), {service.pk}),
        "organization": ({service.organization_id}, set(), {service.pk}),
        "location": ({location.pk}, {location.pk}, at_both),
        "service_at_location": ({sal.pk}, {location.pk}, at_both),
        "address": ({address.pk}, set(), at_both),
        "phone": ({sal_phone.pk}, set(), {service.pk}),
        "schedule": ({schedule.pk, own.pk}, {location.pk}, at_both),
        "attribute": ({attribute.pk}, set(), {service.pk}),
    }
    for table, (ids, locations, services) in cases.items():
        touched = listings_touched(changed={table: ids})
        assert (table, touched.locations, touched.services) == (table, locations, services)
    assert listings_touched(changed={"phone": {location_phone.pk}}).services == at_both
    assert listings_touched(changed={}).services == set()


def test_edits_one_at_a_time_reach_the_card_even_when_deleted(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sal = listed_service(name="Pantry")
    with django_capture_on_commit_callbacks(execute=True):
        phone = models.Phone.objects.create(service_at_location=sal, number="(502) 555-0142", type="voice")
    assert models.SearchEntry.objects.get(service=sal.service).phone == "(502) 555-0142"

    with django_capture_on_commit_callbacks(execute=True):
        phone.delete()
    assert models.SearchEntry.objects.get(service=sal.service).phone == "(502) 555-0100"

    with django_capture_on_commit_callbacks(execute=True):
        OrganizationFactory.create(hsds_organization=sal.service.organization, onboarded_at=clock.now())
    assert models.SearchEntry.objects.get(service=sal.service).is_partner
