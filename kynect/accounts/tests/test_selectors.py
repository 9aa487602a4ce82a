"""Role questions, answered in one place: who holds which role, where."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from kynect.accounts.models import Membership, Organization, Role
from kynect.accounts.selectors import (
    active_memberships,
    agencies_administered,
    is_partner_admin,
    is_state_admin,
    memberships_read_close,
    memberships_read_open,
    memberships_with_role,
    organizations_administered,
    organizations_where,
    user_has_role,
    user_may_see_resident_data,
    user_organizations,
    user_roles,
)
from kynect.accounts.services import training_attest
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


# --- Memberships read once per request ----------------------------------------------------------------


def test_inside_a_request_the_role_questions_read_the_memberships_once(django_assert_num_queries):
    user = UserFactory.create()
    first = MembershipFactory.create(user=user, role=Role.PARTNER_ADMIN)
    MembershipFactory.create(user=user, role=Role.AGENCY_ADMIN)
    token = memberships_read_open()
    try:
        with django_assert_num_queries(1):
            assert user_has_role(user=user, role=Role.PARTNER_ADMIN)
            assert user_has_role(user=user, role=Role.PARTNER_ADMIN, organization=first.organization)
            assert not user_has_role(user=user, role=Role.STATE_ADMIN)
            assert not is_state_admin(user=user)
            assert user_roles(user=user, anywhere=True) == {Role.PARTNER_ADMIN, Role.AGENCY_ADMIN}
            assert user_organizations(user=user, role=Role.PARTNER_ADMIN) == [first.organization]
    finally:
        memberships_read_close(token)
    # Outside a request every question reads the database again.
    with django_assert_num_queries(2):
        assert user_has_role(user=user, role=Role.PARTNER_ADMIN)
        assert user_has_role(user=user, role=Role.PARTNER_ADMIN)


def test_a_membership_saved_or_deleted_during_a_request_is_seen_by_the_next_question():

    user = UserFactory.create()
    token = memberships_read_open()
    try:
        assert not user_has_role(user=user, role=Role.PARTNER_USER)
        membership = MembershipFactory.create(user=user, role=Role.PARTNER_USER)
        assert user_has_role(user=user, role=Role.PARTNER_USER)
        membership.is_active = False
        membership.save()
        assert not user_has_role(user=user, role=Role.PARTNER_USER)
        membership.delete()
        assert user_roles(user=user, anywhere=True) == set()
    finally:
        memberships_read_close(token)


def test_an_organization_approved_during_a_request_lets_its_users_see_resident_data():

    user = UserFactory.create()
    organization = OrganizationFactory.create(status=Organization.Status.APPLIED, onboarded_at=None)
    MembershipFactory.create(user=user, organization=organization, role=Role.PARTNER_USER)
    training_attest(user=user)
    token = memberships_read_open()
    try:
        assert not user_may_see_resident_data(user=user)
        organization.status = Organization.Status.APPROVED
        organization.onboarded_at = organization.created_at
        organization.save()
        assert user_may_see_resident_data(user=user)
    finally:
        memberships_read_close(token)
