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


def ready_helper(
    *,
    role: str = Helper.Role.KYNECTOR,
    counties: tuple[str, ...] = ("21073",),
    languages: tuple[str, ...] = ("en",),
    programs: tuple[str, ...] = ("qhp", "medicaid_kchip"),
    home: tuple[float, float] = (38.2, -84.87),
    phone: str | None = None,
    organization=None,
    all_week: bool = True,
    **fields,
) -> Helper:
    """A registered, available helper written straight to the database (for routing tests and
    benchmarks that need many; `conftest.register` goes through the registration services instead)."""
    from kynect.ondemand.models import (
        MINUTES_PER_DAY,
        HelperCounty,
        HelperLanguage,
        HelperProgram,
        ScheduleWindow,
    )

    now = clock.now()
    user = UserFactory.create()
    helper = Helper.objects.create(
        user=user,
        role=role,
        organization=organization if organization is not None else OrganizationFactory.create(),
        status=Helper.Status.REGISTERED,
        terms_version="2026-1",
        terms_agreed_at=now,
        contact_completed_at=now,
        schedule_completed_at=now,
        registered_at=now,
        phone=phone or f"+1502555{Helper.objects.count() % 10000:04d}",
        phone_verified_at=now,
        email=f"helper-{user.pk}@example.org",
        is_available=True,
        home_zip="40601",
        home_latitude=home[0],
        home_longitude=home[1],
        home_county_fips=counties[0] if counties else "",
        agency_active=role != Helper.Role.AGENT,
        **fields,
    )
    HelperCounty.objects.bulk_create([HelperCounty(helper=helper, county_fips=c) for c in counties])
    HelperLanguage.objects.bulk_create([HelperLanguage(helper=helper, language=c) for c in languages])
    HelperProgram.objects.bulk_create([HelperProgram(helper=helper, program=c) for c in programs])
    if all_week:
        ScheduleWindow.objects.bulk_create(
            [
                ScheduleWindow(helper=helper, weekday=d, start_minute=0, end_minute=MINUTES_PER_DAY)
                for d in range(7)
            ]
        )
    return helper
