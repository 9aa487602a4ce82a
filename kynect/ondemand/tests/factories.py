from __future__ import annotations

from datetime import date

import factory

from kynect.accounts.tests.factories import OrganizationFactory, UserFactory
from kynect.core import clock
from kynect.ondemand.models import DoiLicence, Helper


class DoiLicenceFactory(factory.django.DjangoModelFactory[DoiLicence]):
    """An eligible licence: active, a health line, certified, DOI email and phone."""

    class Meta:
        model = DoiLicence

    npn = factory.Sequence(lambda n: f"{1000000 + n}")
    licence_number = factory.Sequence(lambda n: f"DOI-{n}")
    first_name = "Andre"
    last_name = factory.Sequence(lambda n: f"Agent{n}")
    email = factory.Sequence(lambda n: f"agent{n}@example.org")
    phone = "+15025550123"
    status = DoiLicence.Status.ACTIVE
    lines_of_authority = factory.LazyFunction(lambda: ["Health", "Life"])
    has_health_authority = True
    expires_on = date(2099, 12, 31)
    certification_completed_on = date(2026, 1, 15)
    imported_at = factory.LazyFunction(clock.now)


class HelperFactory(factory.django.DjangoModelFactory[Helper]):
    """A helper row that has not registered yet (see `registered_helper` in conftest for one that has)."""

    class Meta:
        model = Helper

    user = factory.SubFactory(UserFactory)
    role = Helper.Role.KYNECTOR
    organization = factory.SubFactory(OrganizationFactory)
