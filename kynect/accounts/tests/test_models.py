"""Users signed in by email, organizations, roles and memberships."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import check_password, identify_hasher
from django.db import IntegrityError, transaction

from kynect.accounts.models import (
    Invitation,
    Membership,
    Organization,
    Role,
    User,
)
from kynect.accounts.selectors import ORGANIZATION_INVITABLE_ROLES
from kynect.accounts.tests.factories import (
    TEST_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from kynect.core import clock

pytestmark = pytest.mark.django_db


def test_the_user_model_is_the_custom_one():
    assert get_user_model() is User
    assert User.USERNAME_FIELD == "email"
    assert User.REQUIRED_FIELDS == []
    assert "username" not in {field.name for field in User._meta.get_fields()}


def test_create_user_signs_in_by_a_lowercased_email():
    user = User.objects.create_user(email="Ana.Lopez@Example.ORG", password=TEST_PASSWORD)
    assert user.email == "ana.lopez@example.org"
    assert not user.is_staff
    assert not user.is_superuser
    assert user.is_active
    assert user.preferred_language == "en"
    assert user.check_password(TEST_PASSWORD)
    assert authenticate(username="ana.lopez@example.org", password=TEST_PASSWORD) == user


def test_create_user_needs_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user(email="", password=TEST_PASSWORD)


def test_create_user_without_a_password_cannot_sign_in():
    user = User.objects.create_user(email="nopassword@example.org")
    assert not user.has_usable_password()


def test_emails_are_unique_whatever_their_case():
    User.objects.create_user(email="ana@example.org", password=TEST_PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="ANA@example.org", password=TEST_PASSWORD)


def test_create_superuser():
    admin = User.objects.create_superuser(email="Admin@Example.org", password=TEST_PASSWORD)
    assert admin.email == "admin@example.org"
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.check_password(TEST_PASSWORD)


def test_passwords_are_hashed_with_argon2():
    user = User.objects.create_user(email="ana@example.org", password=TEST_PASSWORD)
    assert user.password.startswith("argon2")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert TEST_PASSWORD not in user.password
    assert check_password(TEST_PASSWORD, user.password)


def test_a_new_password_is_hashed_with_argon2():
    user = UserFactory.create()
    user.set_password("a-brand-new-long-password")
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2")


def test_the_factory_password_is_argon2_too():
    assert UserFactory.create().password.startswith("argon2")


def test_user_str_is_the_name_or_the_email():
    assert str(UserFactory.create(first_name="Ana", last_name="Lopez")) == "Ana Lopez"
    assert str(UserFactory.create(first_name="", last_name="", email="x@example.org")) == "x@example.org"


def test_organization_types():
    assert {value for value, _label in Organization.Type.choices} == {
        "not_for_profit",
        "for_profit",
        "state_agency",
        "hospital",
        "mco",
        "other",
    }
    for value in Organization.Type.values:
        organization = Organization(name=f"Org {value}", type=value)
        organization.full_clean()
        organization.save()
    assert Organization.objects.count() == 6


def test_an_organization_type_must_be_one_of_the_list():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        Organization(name="Somewhere", type="church").full_clean()
    assert "type" in raised.value.message_dict


def test_organization_names_are_unique():
    OrganizationFactory.create(name="Bluegrass Community Action")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationFactory.create(name="Bluegrass Community Action")


def test_organizations_default_to_kentucky():
    assert OrganizationFactory.create().state_province == "KY"


def test_every_role():
    assert set(Role.values) == {
        "resident",
        "partner_user",
        "partner_admin",
        "referral_specialist",
        "provider_user",
        "state_staff",
        "mco_user",
        "state_admin",
        "insurance_agent",
        "kynector",
        "agency_admin",
    }
    assert len(Role.values) == 11
    assert set(ORGANIZATION_INVITABLE_ROLES[Organization.Type.NOT_FOR_PROFIT]) == {
        Role.PARTNER_USER,
        Role.PARTNER_ADMIN,
    }


def test_a_role_is_held_once_per_organization():
    membership = MembershipFactory.create(role=Role.PARTNER_USER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=membership.user, organization=membership.organization, role=Role.PARTNER_USER
        )


def test_a_role_without_an_organization_is_held_once():
    user = UserFactory.create()
    Membership.objects.create(user=user, organization=None, role=Role.RESIDENT)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, organization=None, role=Role.RESIDENT)
    assert Membership.objects.filter(user=user).count() == 1


def test_an_organization_with_members_cannot_be_deleted():
    from django.db.models import ProtectedError

    membership = MembershipFactory.create()
    assert membership.organization is not None
    with pytest.raises(ProtectedError):
        membership.organization.delete()


def test_one_open_invitation_per_email_and_organization():
    admin = MembershipFactory.create(role=Role.PARTNER_ADMIN)
    fields = {
        "organization": admin.organization,
        "email": "new@example.org",
        "role": Role.PARTNER_USER,
        "invited_by": admin.user,
        "expires_at": clock.now() + timedelta(days=7),
    }
    first = Invitation.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(**fields)
    first.revoked_at = clock.now()
    first.save()
    Invitation.objects.create(**fields)  # the first one is closed now
    assert Invitation.objects.count() == 2
