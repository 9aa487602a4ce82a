"""seed_demo: demo organizations and one demo user per role, only in the demo environment."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kynect.accounts.demo import DEMO_PASSWORD
from kynect.accounts.models import Membership, Organization, Role, User
from kynect.accounts.selectors import user_has_role

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Organization.objects.count(), Membership.objects.count()


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("environment", ["test", "production"])
def test_seed_demo_is_refused_outside_the_demo_environment(settings, environment):
    settings.DJANGO_ENV = environment
    with pytest.raises(CommandError, match="DJANGO_ENV=demo"):
        seed()
    assert counts() == (0, 0, 0)


def test_seed_demo_is_refused_in_the_test_settings():
    with pytest.raises(CommandError):
        seed()
    assert counts() == (0, 0, 0)


def test_seed_demo_creates_one_user_per_role(settings):
    settings.DJANGO_ENV = "demo"
    seed()

    assert User.objects.count() == 11
    roles = list(Membership.objects.values_list("role", flat=True))
    assert sorted(roles) == sorted(Role.values)
    for membership in Membership.objects.select_related("organization"):
        if membership.role == Role.RESIDENT:
            assert membership.organization is None
        else:
            assert membership.organization is not None
        assert membership.is_active
    assert Organization.objects.count() == 7
    assert set(Organization.objects.values_list("type", flat=True)) >= {
        Organization.Type.STATE_AGENCY,
        Organization.Type.NOT_FOR_PROFIT,
        Organization.Type.HOSPITAL,
        Organization.Type.MCO,
        Organization.Type.FOR_PROFIT,
    }

    admin = User.objects.get(memberships__role=Role.STATE_ADMIN)
    assert admin.is_staff
    assert admin.is_superuser
    assert not User.objects.filter(is_superuser=True).exclude(pk=admin.pk).exists()

    partner_admin = User.objects.get(memberships__role=Role.PARTNER_ADMIN)
    assert partner_admin.password.startswith("argon2")
    assert partner_admin.check_password(DEMO_PASSWORD)


def test_seed_demo_twice_adds_nothing(settings):
    settings.DJANGO_ENV = "demo"
    seed()
    before = counts()
    passwords = dict(User.objects.values_list("email", "password"))

    seed()

    assert counts() == before == (11, 7, 11)
    assert dict(User.objects.values_list("email", "password")) == passwords


def test_every_demo_organization_is_onboarded_so_its_users_work_with_residents(settings):
    settings.DJANGO_ENV = "demo"
    seed()
    assert set(Organization.objects.values_list("status", flat=True)) == {"approved"}
    assert not Organization.objects.filter(onboarded_at__isnull=True).exists()
    assert not Organization.objects.filter(tax_status="").exists()


def test_seed_demo_fills_in_what_is_missing(settings):
    settings.DJANGO_ENV = "demo"
    seed()
    User.objects.filter(email="kynector@example.org").delete()
    seed()
    assert counts() == (11, 7, 11)
    assert user_has_role(user=User.objects.get(email="kynector@example.org"), role=Role.KYNECTOR)


def test_seed_demo_registers_the_demo_helpers_available_now(settings):
    from kynect.ondemand.models import Helper
    from kynect.ondemand.selectors import helpers_available_at

    settings.DJANGO_ENV = "demo"
    seed()
    helpers = Helper.objects.filter(status=Helper.Status.REGISTERED)
    assert sorted(helpers.values_list("role", flat=True)) == ["agency_admin", "agent", "kynector"]
    assert helpers_available_at(helpers=helpers).count() == 3
    assert all(helper.counties.count() == 120 for helper in helpers)
    output = seed()
    assert "0 kynect On Demand helpers registered" in output
    assert helpers.count() == 3
