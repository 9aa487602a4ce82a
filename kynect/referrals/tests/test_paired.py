"""Frequently Paired Together: services referred for the same residents within 30 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from kynect.core import clock
from kynect.directory import listings
from kynect.directory.models import Service
from kynect.directory.tests.factories import ServiceFactory
from kynect.referrals.models import Referral
from kynect.referrals.selectors import services_paired
from kynect.referrals.tests.factories import partner, referral, resident_input

pytestmark = pytest.mark.django_db


def _refer(sender, service, name: str, days_ago: int = 0) -> Referral:
    with time_machine.travel(clock.now() - timedelta(days=days_ago), tick=False):
        return referral(
            sender,
            sender,
            service_id=service.pk,
            resident=resident_input(first_name=name, last_name="Paired", email=f"{name}@example.org"),
        )


def test_the_top_three_by_residents_within_30_days_active_only() -> None:
    sender = partner()
    listing = sender.service.organization
    food, jobs, rent, clinic, far, closed = (ServiceFactory.create(organization=listing) for _ in range(6))
    for name in ("ana", "bo", "cy"):
        _refer(sender, food, name, days_ago=5)
        _refer(sender, jobs, name)  # three residents: food and jobs
    for name in ("ana", "bo"):
        _refer(sender, rent, name, days_ago=20)  # two residents
    _refer(sender, rent, "ana", days_ago=21)  # the same resident again counts once
    _refer(sender, clinic, "cy")  # one resident
    _refer(sender, far, "dee", days_ago=40)
    _refer(sender, food, "dee")  # 40 days apart: not paired
    _refer(sender, closed, "ana")
    Service.objects.filter(pk=closed.pk).update(status=Service.Status.INACTIVE)

    assert services_paired(service_id=food.pk) == [jobs.pk, rent.pk, clinic.pk]
    assert services_paired(service_id=far.pk) == []
    assert services_paired(service_id=jobs.pk, limit=1) == [food.pk]


def test_referrals_entered_in_error_do_not_count() -> None:
    sender = partner()
    listing = sender.service.organization
    food, jobs = ServiceFactory.create(organization=listing), ServiceFactory.create(organization=listing)
    _refer(sender, food, "ana")
    wrong = _refer(sender, jobs, "ana")
    assert services_paired(service_id=food.pk) == [jobs.pk]
    Referral.objects.filter(pk=wrong.pk).update(
        status=Referral.Status.ENTERED_IN_ERROR, closed_at=clock.now()
    )
    assert services_paired(service_id=food.pk) == []


def test_the_service_page_lists_them_and_hides_the_section_while_there_are_none() -> None:
    sender = partner()
    listing = sender.service.organization
    food, jobs = ServiceFactory.create(organization=listing), ServiceFactory.create(organization=listing)
    assert listings.frequently_paired(service_id=food.pk) == []
    _refer(sender, food, "ana")
    _refer(sender, jobs, "ana")
    paired = listings.frequently_paired(service_id=food.pk)
    assert [(other.name, other.organization_name) for other in paired] == [(jobs.name, listing.name)]
    assert str(jobs.pk) in paired[0].url


def test_the_directory_reads_co_referrals_through_the_registered_source() -> None:
    assert listings._paired_sources == [services_paired]
