"""Partner onboarding: applying, approval and decline (its lifecycle), the user agreement, the training
attestation, who may see resident data, and which roles each organization's admin may hand out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from kynect.accounts.agreements import PRIVACY_TRAINING_VERSION, USER_AGREEMENT_VERSION
from kynect.accounts.models import Invitation, Membership, Organization, Role, TrainingAttestation, User
from kynect.accounts.selectors import (
    ORGANIZATION_INVITABLE_ROLES,
    directory_listings_named,
    invitable_roles,
    onboarded_hsds_organization_ids,
    organization_applications,
    organization_is_onboarded,
    user_may_see_resident_data,
    user_needs_training,
)
from kynect.accounts.services import (
    invitation_create,
    organization_apply,
    organization_approve,
    organization_decline,
    training_attest,
)
from kynect.accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from kynect.directory.tests.factories import DirectoryOrganizationFactory
from kynect.notifications.models import OutboundMessage

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
GOOD_PASSWORD = "a-long-and-unusual-passphrase"


def application(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "Hazard Community Pantry",
        "organization_type": Organization.Type.NOT_FOR_PROFIT,
        "tax_status": Organization.TaxStatus.NONPROFIT_501C3,
        "address_1": "100 Main Street",
        "address_2": "",
        "city": "Hazard",
        "postal_code": "41701",
        "hsds_organization_id": None,
        "first_name": "Ana",
        "last_name": "Applicant",
        "email": "Ana@Example.org",
        "password": GOOD_PASSWORD,
        "agreement_accepted": True,
        "language": "en",
    }
    return {**fields, **overrides}


def apply(**overrides: Any) -> Organization:
    return organization_apply(**application(**overrides))


def state_admin() -> User:
    return MembershipFactory.create(role=Role.STATE_ADMIN).user


# Applying


@time_machine.travel(T0, tick=False)
def test_applying_makes_the_organization_its_admin_and_the_agreement_record():
    listing = DirectoryOrganizationFactory.create(name="Hazard Community Pantry")
    organization = apply(hsds_organization_id=listing.pk, language="es")

    organization.refresh_from_db()
    applicant = User.objects.get(email="ana@example.org")
    assert (organization.status, organization.onboarded_at, organization.applied_at) == ("applied", None, T0)
    assert (organization.applied_by, organization.hsds_organization_id) == (applicant, listing.pk)
    assert (organization.agreement_version, organization.agreement_accepted_at) == (
        USER_AGREEMENT_VERSION,
        T0,
    )
    assert organization.agreement_accepted_by == applicant
    assert (organization.state_province, organization.tax_status) == ("KY", "501c3")
    assert applicant.is_active
    assert applicant.check_password(GOOD_PASSWORD)
    assert applicant.preferred_language == "es"
    membership = Membership.objects.get(user=applicant)
    assert (membership.organization, membership.role, membership.is_active) == (
        organization,
        Role.PARTNER_ADMIN,
        True,
    )
    assert not organization_is_onboarded(organization=organization)
    message = OutboundMessage.objects.get()
    assert (message.recipient, message.language, message.template) == (
        "ana@example.org",
        "es",
        "accounts/application_received",
    )
    assert "Hazard Community Pantry" in message.subject


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  hazard   COMMUNITY pantry "}, "name"),
        ({"postal_code": "4170"}, "postal_code"),
        ({"postal_code": "00000"}, "postal_code"),
        ({"email": "taken@example.org"}, "email"),
        ({"agreement_accepted": False}, "agreement"),
        ({"password": "password"}, "password1"),
    ],
)
def test_a_bad_application_saves_nothing(overrides, field):
    OrganizationFactory.create(name="Hazard Community Pantry")
    UserFactory.create(email="taken@example.org")
    before = (Organization.objects.count(), User.objects.count(), Membership.objects.count())

    with pytest.raises(ValidationError) as raised:
        apply(**{"name": "Another Pantry", **overrides})

    assert field in raised.value.message_dict
    assert (Organization.objects.count(), User.objects.count(), Membership.objects.count()) == before
    assert not OutboundMessage.objects.exists()


def test_a_listing_already_linked_to_another_organization_is_refused():
    listing = DirectoryOrganizationFactory.create()
    OrganizationFactory.create(hsds_organization=listing)

    with pytest.raises(ValidationError) as raised:
        apply(hsds_organization_id=listing.pk)

    assert raised.value.message_dict["hsds_organization"] == [
        "This directory listing already belongs to another organization. Contact kynect resources."
    ]
    assert not User.objects.filter(email="ana@example.org").exists()


def test_every_fault_is_reported_at_once():
    OrganizationFactory.create(name="Hazard Community Pantry")
    with pytest.raises(ValidationError) as raised:
        apply(postal_code="", agreement_accepted=False)
    assert set(raised.value.message_dict) == {"name", "postal_code", "agreement"}


# Approval and decline


@time_machine.travel(T0, tick=False)
def test_approval_onboards_and_tells_the_applicant_in_their_language():
    organization = apply(language="es")
    admin = state_admin()
    OutboundMessage.objects.all().delete()

    organization_approve(actor=admin, organization=organization)

    organization.refresh_from_db()
    assert (organization.status, organization.onboarded_at, organization.decided_at) == ("approved", T0, T0)
    assert organization.decided_by == admin
    assert organization_is_onboarded(organization=organization)
    message = OutboundMessage.objects.get()
    assert (message.recipient, message.language, message.template) == (
        "ana@example.org",
        "es",
        "accounts/application_approved",
    )
    assert "/es/accounts/organization/users/" in message.body


def test_decline_keeps_the_reason_and_sends_it():
    organization = apply()
    OutboundMessage.objects.all().delete()

    organization_decline(actor=state_admin(), organization=organization, reason="  Not in Kentucky. ")

    organization.refresh_from_db()
    assert (organization.status, organization.decline_reason, organization.onboarded_at) == (
        "declined",
        "Not in Kentucky.",
        None,
    )
    message = OutboundMessage.objects.get()
    assert message.template == "accounts/application_declined"
    assert "Not in Kentucky." in message.body


def test_a_decline_without_a_reason_changes_nothing():
    organization = apply()
    with pytest.raises(ValidationError) as raised:
        organization_decline(actor=state_admin(), organization=organization, reason="   ")
    assert "reason" in raised.value.message_dict
    organization.refresh_from_db()
    assert organization.status == "applied"


@pytest.mark.parametrize("role", [Role.PARTNER_ADMIN, Role.REFERRAL_SPECIALIST, Role.STATE_STAFF])
def test_only_a_state_administrator_decides(role):
    organization = apply()
    someone = MembershipFactory.create(role=role).user
    with pytest.raises(PermissionDenied):
        organization_approve(actor=someone, organization=organization)
    with pytest.raises(PermissionDenied):
        organization_decline(actor=someone, organization=organization, reason="No")
    organization.refresh_from_db()
    assert (organization.status, organization.onboarded_at) == ("applied", None)


def test_of_two_decisions_made_at_once_the_second_loses():
    organization = apply()
    stale = Organization.objects.get(pk=organization.pk)  # the other administrator's page
    organization_approve(actor=state_admin(), organization=organization)

    with pytest.raises(ValidationError, match="already decided"):
        organization_decline(actor=state_admin(), organization=stale, reason="Duplicate")
    with pytest.raises(ValidationError, match="already decided"):
        organization_approve(actor=state_admin(), organization=stale)

    stale.refresh_from_db()
    assert (stale.status, stale.decline_reason) == ("approved", "")
    assert stale.onboarded_at is not None


def test_the_database_refuses_an_approval_without_onboarding_and_a_decline_without_reason():
    organization = OrganizationFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(status="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(onboarded_at=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(status="declined")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(agreement_version="2026.1")


def test_the_queue_lists_open_applications_oldest_first():
    with time_machine.travel(T0):
        first = apply(name="First", email="first@example.org")
    second = apply(name="Second", email="second@example.org")
    decided = apply(name="Decided", email="decided@example.org")
    organization_approve(actor=state_admin(), organization=decided)
    assert list(organization_applications()) == [first, second]
    approved = set(organization_applications(status="approved"))
    assert decided in approved
    assert not {first, second} & approved


def test_onboarded_listings_are_those_of_approved_organizations():
    approved, applied, unlinked = DirectoryOrganizationFactory.create_batch(3)
    OrganizationFactory.create(hsds_organization=approved, onboarded_at=T0)
    OrganizationFactory.create(hsds_organization=applied)
    ids = [approved.pk, applied.pk, unlinked.pk]
    assert onboarded_hsds_organization_ids(hsds_organization_ids=ids) == {approved.pk}


def test_the_listing_chooser_finds_directory_organizations_by_name():
    DirectoryOrganizationFactory.create(name="Perry County Food Bank")
    DirectoryOrganizationFactory.create(name="Letcher Clinic")
    assert [name for _id, name in directory_listings_named(text=" food  bank")] == ["Perry County Food Bank"]
    assert directory_listings_named(text="f") == []


# Training and resident data


def test_the_training_is_attested_once_per_version():
    user = UserFactory.create()
    first = training_attest(user=user)
    assert training_attest(user=user) == first
    assert (first.version, TrainingAttestation.objects.count()) == (PRIVACY_TRAINING_VERSION, 1)


@pytest.mark.parametrize(
    ("role", "onboarded", "trained", "may"),
    [
        (Role.PARTNER_USER, True, True, True),
        (Role.PARTNER_USER, True, False, False),
        (Role.PARTNER_USER, False, True, False),
        (Role.PROVIDER_USER, True, True, True),
        (Role.MCO_USER, False, True, False),
        (Role.STATE_STAFF, True, True, True),
        (Role.STATE_ADMIN, False, True, True),
        (Role.REFERRAL_SPECIALIST, False, True, True),
        (Role.REFERRAL_SPECIALIST, True, False, False),
        (Role.INSURANCE_AGENT, True, True, False),
    ],
)
def test_who_may_see_resident_data(role, onboarded, trained, may):
    organization = OrganizationFactory.create(onboarded_at=T0 if onboarded else None)
    user = MembershipFactory.create(role=role, organization=organization).user
    if trained:
        training_attest(user=user)
    assert user_may_see_resident_data(user=user) is may


def test_an_old_training_version_or_an_inactive_membership_is_not_enough():
    membership = MembershipFactory.create(role=Role.PARTNER_USER)
    TrainingAttestation.objects.create(user=membership.user, version="2019.1", attested_at=T0)
    assert not user_may_see_resident_data(user=membership.user)
    assert user_needs_training(user=membership.user)
    training_attest(user=membership.user)
    assert user_may_see_resident_data(user=membership.user)
    assert not user_needs_training(user=membership.user)
    Membership.objects.filter(pk=membership.pk).update(is_active=False)
    assert not user_may_see_resident_data(user=membership.user)


def test_residents_and_helpers_are_not_asked_for_training():
    resident = MembershipFactory.create(role=Role.RESIDENT, organization=None).user
    agent = MembershipFactory.create(role=Role.INSURANCE_AGENT).user
    assert not user_needs_training(user=resident)
    assert not user_needs_training(user=agent)


# Who invites whom


@pytest.mark.parametrize(
    ("organization_type", "roles"),
    [
        (Organization.Type.NOT_FOR_PROFIT, {Role.PARTNER_USER, Role.PARTNER_ADMIN}),
        (Organization.Type.FOR_PROFIT, {Role.PARTNER_USER, Role.PARTNER_ADMIN}),
        (Organization.Type.OTHER, {Role.PARTNER_USER, Role.PARTNER_ADMIN}),
        (Organization.Type.HOSPITAL, {Role.PROVIDER_USER, Role.PARTNER_ADMIN}),
        (Organization.Type.MCO, {Role.MCO_USER, Role.PARTNER_ADMIN}),
        (Organization.Type.STATE_AGENCY, {Role.STATE_STAFF, Role.PARTNER_ADMIN}),
    ],
)
def test_each_type_of_organization_invites_its_own_roles(organization_type, roles):
    assert set(ORGANIZATION_INVITABLE_ROLES) == set(Organization.Type.values)
    organization = OrganizationFactory.create(type=organization_type, onboarded_at=T0)
    admin = MembershipFactory.create(role=Role.PARTNER_ADMIN, organization=organization).user
    assert set(invitable_roles(user=admin, organization=organization)) == roles
    for role in roles:
        invitation_create(invited_by=admin, organization=organization, email=f"{role}@example.org", role=role)
    for role in set(Role.values) - roles:
        with pytest.raises(ValidationError) as raised:
            invitation_create(invited_by=admin, organization=organization, email="x@example.org", role=role)
        assert "role" in raised.value.message_dict
    assert Invitation.objects.count() == len(roles)


def test_an_organization_not_yet_onboarded_invites_no_one():
    organization = apply()
    admin = organization.applied_by
    assert admin is not None
    assert invitable_roles(user=admin, organization=organization) == ()
    with pytest.raises(ValidationError, match="once a state administrator approves"):
        invitation_create(
            invited_by=admin, organization=organization, email="x@example.org", role=Role.PARTNER_USER
        )
    assert not Invitation.objects.exists()


def test_a_state_administrator_invites_specialists_and_administrators_only():
    united_way = OrganizationFactory.create(onboarded_at=T0)
    admin = state_admin()
    for role in (Role.REFERRAL_SPECIALIST, Role.STATE_ADMIN):
        invitation = invitation_create(
            invited_by=admin, organization=united_way, email=f"{role}@example.org", role=role
        )
        assert invitation.role == role
    with pytest.raises(ValidationError):
        invitation_create(
            invited_by=admin, organization=united_way, email="p@example.org", role=Role.PARTNER_USER
        )
    assert Invitation.objects.count() == 2
