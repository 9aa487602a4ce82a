"""Role questions, answered in one place: who holds which role, where."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from kynect.accounts.models import Membership, Role
from kynect.accounts.selectors import (
    active_memberships,
    agencies_administered,
    is_partner_admin,
    is_state_admin,
    memberships_with_role,
    organizations_administered,
    organizations_where,
    user_has_role,
    user_roles,
)
from kynect.accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", Role.values)
def test_every_role_can_be_held(role):
    organization = None if role == Role.RESIDENT else OrganizationFactory.create()
    membership = Membership(user=UserFactory.create(), organization=organization, role=role)
    membership.full_clean()
    membership.save()
    assert user_has_role(user=membership.user, role=role)
    assert user_roles(user=membership.user, organization=organization) == {role}


def test_a_user_can_hold_several_roles_and_organizations():
    user = UserFactory.create()
    first, second = OrganizationFactory.create(), OrganizationFactory.create()
    MembershipFactory.create(user=user, organization=first, role=Role.PARTNER_USER)
    MembershipFactory.create(user=user, organization=first, role=Role.PARTNER_ADMIN)
    MembershipFactory.create(user=user, organization=second, role=Role.PARTNER_USER)
    assert user_roles(user=user, organization=first) == {Role.PARTNER_USER, Role.PARTNER_ADMIN}
    assert user_roles(user=user, organization=second) == {Role.PARTNER_USER}
    assert user_roles(user=user) == set()  # none held without an organization
    assert user_roles(user=user, anywhere=True) == {Role.PARTNER_USER, Role.PARTNER_ADMIN}
    assert list(organizations_where(user=user, role=Role.PARTNER_ADMIN)) == [first]
    assert set(organizations_where(user=user, role=[Role.PARTNER_USER, Role.PARTNER_ADMIN])) == {
        first,
        second,
    }


def test_inactive_memberships_do_not_count():
    membership = MembershipFactory.create(role=Role.PARTNER_ADMIN, is_active=False)
    assert not user_has_role(user=membership.user, role=Role.PARTNER_ADMIN)
    assert user_roles(user=membership.user, organization=membership.organization) == set()
    assert not organizations_administered(user=membership.user).exists()
    assert not memberships_with_role(role=Role.PARTNER_ADMIN).exists()


def test_a_deactivated_or_anonymous_user_holds_nothing():
    membership = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)
    assert is_state_admin(user=membership.user)
    membership.user.is_active = False
    assert not is_state_admin(user=membership.user)
    assert not active_memberships(user=membership.user).exists()
    assert not organizations_where(user=membership.user, role=Role.STATE_ADMIN).exists()
    assert not user_has_role(user=AnonymousUser(), role=Role.STATE_ADMIN)  # type: ignore[arg-type]


def test_a_role_in_one_organization_is_not_a_role_in_another():
    organization, other = OrganizationFactory.create(), OrganizationFactory.create()
    admin = MembershipFactory.create(role=Role.PARTNER_ADMIN, organization=organization)
    assert is_partner_admin(user=admin.user, organization=organization)
    assert not is_partner_admin(user=admin.user, organization=other)
    assert user_has_role(user=admin.user, role=Role.PARTNER_ADMIN, organization=organization.pk)
    assert not user_has_role(user=admin.user, role=Role.PARTNER_ADMIN, organization=other)


def test_agencies_administered_are_those_of_active_agency_admin_memberships():
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN)
    MembershipFactory.create(user=admin.user, role=Role.KYNECTOR)  # another agency, not administered
    MembershipFactory.create(user=admin.user, role=Role.AGENCY_ADMIN, is_active=False)
    assert list(agencies_administered(user=admin.user)) == [admin.organization]


def test_memberships_with_role_lists_everyone_holding_it_where_asked():
    first, second = OrganizationFactory.create(), OrganizationFactory.create()
    kynector = MembershipFactory.create(organization=first, role=Role.KYNECTOR)
    admin = MembershipFactory.create(organization=second, role=Role.AGENCY_ADMIN)
    MembershipFactory.create(organization=first, role=Role.PARTNER_USER)
    MembershipFactory.create(organization=first, role=Role.KYNECTOR, is_active=False)

    assert set(memberships_with_role(role=[Role.KYNECTOR, Role.AGENCY_ADMIN])) == {kynector, admin}
    assert list(memberships_with_role(role=Role.AGENCY_ADMIN)) == [admin]
    assert list(memberships_with_role(role=[Role.KYNECTOR, Role.AGENCY_ADMIN], organizations=[first.pk])) == [
        kynector
    ]
    assert list(
        memberships_with_role(
            role=[Role.KYNECTOR, Role.AGENCY_ADMIN], organizations=agencies_administered(user=admin.user)
        )
    ) == [admin]
