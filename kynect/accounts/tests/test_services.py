"""Invitations, membership deactivation, and the sign-in and password reset limits, called directly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError

from kynect.accounts.models import Invitation, Membership, Role, User
from kynect.accounts.selectors import user_has_role, user_roles
from kynect.accounts.services import (
    INVITATION_SALT,
    invitation_accept,
    invitation_create,
    invitation_from_token,
    invitation_token,
    login_attempt_begin,
    login_success_record,
    membership_deactivate,
    password_reset_attempt_begin,
)
from kynect.accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from kynect.core import clock
from kynect.notifications.models import OutboundMessage

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 15, 0, 10, tzinfo=UTC)  # 10 seconds into a 15-minute throttle window
GOOD_PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def admin_membership() -> Membership:
    return MembershipFactory.create(role=Role.PARTNER_ADMIN)


def invite(
    admin_membership: Membership, email: str = "new.person@example.org", role: str = Role.PARTNER_USER
) -> Invitation:
    assert admin_membership.organization is not None
    return invitation_create(
        invited_by=admin_membership.user,
        organization=admin_membership.organization,
        email=email,
        role=role,
    )


# --- Invitations ------------------------------------------------------------------------------------


def test_an_invitation_is_written_with_its_email_in_the_same_transaction(
    admin_membership, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(T0, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(admin_membership, email="  New.Person@Example.org ")
        assert mail.outbox == []
    assert invitation.email == "new.person@example.org"
    assert invitation.role == Role.PARTNER_USER
    assert invitation.invited_by == admin_membership.user
    assert invitation.accepted_at is None
    assert invitation.expires_at == T0 + timedelta(days=7)
    message = OutboundMessage.objects.get(template="accounts/invitation")
    assert message.recipient == "new.person@example.org"
    assert message.status == OutboundMessage.Status.SENT
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["new.person@example.org"]
    assert admin_membership.organization.name in email.subject
    token = invitation_token(invitation=invitation)
    assert f"/accounts/invitations/{token}/" in email.body


def test_an_invitation_to_an_existing_spanish_speaker_links_to_the_spanish_page(admin_membership):
    UserFactory.create(email="maria@example.org", preferred_language="es")
    invitation = invite(admin_membership, email="maria@example.org")
    message = OutboundMessage.objects.get(template="accounts/invitation")
    assert message.language == "es"
    link = re.search(r"/es/accounts/invitations/([^/\s]+)/", message.body)
    assert link is not None, message.body
    assert invitation_from_token(token=link.group(1)) == invitation


@pytest.mark.parametrize(
    "role", [role for role in Role.values if role not in ("partner_user", "partner_admin")]
)
def test_only_community_partner_roles_can_be_invited(admin_membership, role):
    with pytest.raises(ValidationError) as raised:
        invite(admin_membership, role=role)
    assert "role" in raised.value.message_dict
    assert not Invitation.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_an_admin_can_invite_another_admin(admin_membership):
    assert invite(admin_membership, role=Role.PARTNER_ADMIN).role == Role.PARTNER_ADMIN


@pytest.mark.parametrize("role", [Role.PARTNER_USER, Role.REFERRAL_SPECIALIST, Role.RESIDENT])
def test_only_a_partner_admin_of_the_organization_can_invite(role):
    membership = MembershipFactory.create(role=role)
    assert membership.organization is not None
    with pytest.raises(PermissionDenied):
        invitation_create(
            invited_by=membership.user,
            organization=membership.organization,
            email="new@example.org",
            role=Role.PARTNER_USER,
        )
    assert not Invitation.objects.exists()


def test_an_admin_of_another_organization_cannot_invite(admin_membership):
    with pytest.raises(PermissionDenied):
        invitation_create(
            invited_by=admin_membership.user,
            organization=OrganizationFactory.create(),
            email="new@example.org",
            role=Role.PARTNER_USER,
        )
    assert not Invitation.objects.exists()


def test_a_deactivated_admin_cannot_invite():
    membership = MembershipFactory.create(role=Role.PARTNER_ADMIN, is_active=False)
    with pytest.raises(PermissionDenied):
        invite(membership)


def test_someone_who_already_has_the_role_cannot_be_invited_again(admin_membership):
    member = MembershipFactory.create(organization=admin_membership.organization, role=Role.PARTNER_USER)
    with pytest.raises(ValidationError) as raised:
        invite(admin_membership, email=member.user.email.upper(), role=Role.PARTNER_USER)
    assert "email" in raised.value.message_dict
    assert not Invitation.objects.exists()


def test_a_new_invitation_withdraws_the_open_one(admin_membership):
    first = invite(admin_membership)
    second = invite(admin_membership, role=Role.PARTNER_ADMIN)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.revoked_at is None
    with pytest.raises(ValidationError, match="withdrawn"):
        invitation_from_token(token=invitation_token(invitation=first))
    assert invitation_from_token(token=invitation_token(invitation=second)) == second


def test_a_token_names_its_invitation(admin_membership):
    invitation = invite(admin_membership)
    token = invitation_token(invitation=invitation)
    assert invitation_from_token(token=token) == invitation
    # The token is signed: it carries only the invitation's id, no personal data.
    assert invitation.email not in token


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: "x" + token,
        lambda token: token.split(":")[0],
        lambda token: "not-a-token",
        lambda token: "",
    ],
)
def test_a_tampered_token_is_refused(admin_membership, mangle):
    token = invitation_token(invitation=invite(admin_membership))
    with pytest.raises(ValidationError, match="not valid"):
        invitation_from_token(token=mangle(token))


def test_a_token_signed_for_something_else_is_refused(admin_membership):
    invitation = invite(admin_membership)
    forged = signing.dumps(str(invitation.pk), salt="some.other.purpose")
    with pytest.raises(ValidationError, match="not valid"):
        invitation_from_token(token=forged)
    assert signing.loads(invitation_token(invitation=invitation), salt=INVITATION_SALT) == str(invitation.pk)


def test_an_invitation_expires_after_seven_days(admin_membership, time_machine):
    time_machine.move_to(T0, tick=False)
    invitation = invite(admin_membership)
    token = invitation_token(invitation=invitation)
    time_machine.shift(timedelta(days=6, hours=23))
    assert invitation_from_token(token=token) == invitation
    time_machine.shift(timedelta(hours=1, seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        invitation_from_token(token=token)


def test_an_invitation_past_its_stored_deadline_is_refused(admin_membership):
    invitation = invite(admin_membership)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=clock.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        invitation_from_token(token=invitation_token(invitation=invitation))


def test_accepting_creates_the_user_and_the_membership(admin_membership):
    invitation = invite(admin_membership, role=Role.PARTNER_ADMIN)
    user = invitation_accept(
        invitation=invitation, first_name=" Nia ", last_name="Person", password=GOOD_PASSWORD
    )
    assert user.email == "new.person@example.org"
    assert (user.first_name, user.last_name) == ("Nia", "Person")
    assert user.check_password(GOOD_PASSWORD)
    assert user.password.startswith("argon2")
    assert user.is_active
    assert user_roles(user=user, organization=admin_membership.organization) == {Role.PARTNER_ADMIN}
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    with pytest.raises(ValidationError, match="already used"):
        invitation_from_token(token=invitation_token(invitation=invitation))


def test_an_invitation_is_accepted_once(admin_membership):
    invitation = invite(admin_membership)
    invitation_accept(invitation=invitation, first_name="A", last_name="B", password=GOOD_PASSWORD)
    with pytest.raises(ValidationError, match="already used"):
        invitation_accept(invitation=invitation, first_name="C", last_name="D", password=GOOD_PASSWORD)
    assert User.objects.filter(email="new.person@example.org").count() == 1
    assert Membership.objects.filter(user__email="new.person@example.org").count() == 1


def test_a_weak_password_accepts_nothing(admin_membership):
    invitation = invite(admin_membership)
    with pytest.raises(ValidationError):
        invitation_accept(invitation=invitation, first_name="A", last_name="B", password="short")
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not User.objects.filter(email="new.person@example.org").exists()


def test_an_existing_user_gets_the_membership_added(admin_membership):
    existing = MembershipFactory.create(
        user=UserFactory.create(email="new.person@example.org"), role=Role.RESIDENT
    )
    old_password = existing.user.password
    user = invitation_accept(invitation=invite(admin_membership))
    assert user == existing.user
    user.refresh_from_db()
    assert user.password == old_password
    assert user_has_role(user=user, role=Role.RESIDENT)
    assert user_roles(user=user, organization=admin_membership.organization) == {Role.PARTNER_USER}


def test_accepting_again_reactivates_a_deactivated_member(admin_membership):
    member = MembershipFactory.create(
        user=UserFactory.create(email="new.person@example.org", is_active=False),
        organization=admin_membership.organization,
        role=Role.PARTNER_USER,
        is_active=False,
        deactivated_at=clock.now(),
        deactivated_by=admin_membership.user,
    )
    invitation_accept(invitation=invite(admin_membership))
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.is_active
    assert member.deactivated_at is None
    assert member.deactivated_by is None
    assert member.user.is_active
    assert Membership.objects.filter(user=member.user).count() == 1


# --- Deactivation ------------------------------------------------------------------------------------


def test_deactivating_the_last_membership_deactivates_the_user(admin_membership):
    member = MembershipFactory.create(organization=admin_membership.organization)
    membership_deactivate(actor=admin_membership.user, membership=member)
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert not member.is_active
    assert member.deactivated_at is not None
    assert member.deactivated_by == admin_membership.user
    assert not member.user.is_active


def test_a_user_with_another_active_role_stays_active(admin_membership):
    member = MembershipFactory.create(organization=admin_membership.organization)
    MembershipFactory.create(user=member.user)  # also a partner user somewhere else
    membership_deactivate(actor=admin_membership.user, membership=member)
    member.user.refresh_from_db()
    assert member.user.is_active
    assert not Membership.objects.get(pk=member.pk).is_active


def test_an_admin_cannot_deactivate_themself(admin_membership):
    with pytest.raises(ValidationError, match="cannot deactivate yourself"):
        membership_deactivate(actor=admin_membership.user, membership=admin_membership)
    admin_membership.refresh_from_db()
    assert admin_membership.is_active
    assert User.objects.get(pk=admin_membership.user.pk).is_active


def test_an_admin_of_another_organization_cannot_deactivate(admin_membership):
    member = MembershipFactory.create()
    with pytest.raises(PermissionDenied):
        membership_deactivate(actor=admin_membership.user, membership=member)
    member.refresh_from_db()
    assert member.is_active


def test_a_membership_without_an_organization_cannot_be_deactivated_by_a_partner(admin_membership):
    resident = MembershipFactory.create(organization=None, role=Role.RESIDENT)
    with pytest.raises(PermissionDenied):
        membership_deactivate(actor=admin_membership.user, membership=resident)


def test_deactivating_twice_keeps_the_first_record(admin_membership, time_machine):
    time_machine.move_to(T0, tick=False)
    member = MembershipFactory.create(organization=admin_membership.organization)
    membership_deactivate(actor=admin_membership.user, membership=member)
    time_machine.shift(timedelta(hours=1))
    membership_deactivate(actor=admin_membership.user, membership=member)
    member.refresh_from_db()
    assert member.deactivated_at == T0


# --- Sign-in and password reset limits ---------------------------------------------------------------


def test_sign_in_attempts_are_counted_before_the_check_per_account_from_each_address(settings, time_machine):
    time_machine.move_to(T0, tick=False)
    limit = settings.LOGIN_THROTTLE_LIMIT
    results = [login_attempt_begin(email="ana@example.org", ip_address="10.0.0.1") for _ in range(limit + 1)]
    assert [result.allowed for result in results] == [True] * limit + [False]
    blocked = login_attempt_begin(email="ANA@example.org ", ip_address="10.0.0.1")
    assert not blocked.allowed
    assert 0 < blocked.retry_after_seconds <= settings.LOGIN_THROTTLE_WINDOW_SECONDS

    assert login_attempt_begin(email="ana@example.org", ip_address="10.0.0.2").allowed
    assert login_attempt_begin(email="bob@example.org", ip_address="10.0.0.1").allowed

    time_machine.shift(timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS))
    assert login_attempt_begin(email="ana@example.org", ip_address="10.0.0.1").allowed


def test_sign_in_attempts_are_limited_per_account_from_all_addresses(settings, time_machine):
    time_machine.move_to(T0, tick=False)
    account_limit = settings.LOGIN_THROTTLE_LIMIT * 4
    for number in range(account_limit):
        assert login_attempt_begin(email="ana@example.org", ip_address=f"10.0.1.{number}").allowed
    assert not login_attempt_begin(email="ana@example.org", ip_address="10.0.2.1").allowed
    assert login_attempt_begin(email="bob@example.org", ip_address="10.0.2.1").allowed


def test_attempts_refused_at_one_address_do_not_count_for_the_account(settings, time_machine):
    time_machine.move_to(T0, tick=False)
    for _ in range(settings.LOGIN_THROTTLE_LIMIT * 10):
        login_attempt_begin(email="ana@example.org", ip_address="10.0.0.1")
    assert login_attempt_begin(email="ana@example.org", ip_address="10.0.0.2").allowed


def test_attempts_at_other_emails_never_limit_an_address(settings, time_machine):
    time_machine.move_to(T0, tick=False)
    for number in range(settings.LOGIN_THROTTLE_LIMIT * 10):
        login_attempt_begin(email=f"made-up-{number}@example.org", ip_address="10.0.0.1")
    assert login_attempt_begin(email="ana@example.org", ip_address="10.0.0.1").allowed


def test_a_successful_sign_in_resets_the_accounts_counters(settings, time_machine):
    time_machine.move_to(T0, tick=False)
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        login_attempt_begin(email="ana@example.org", ip_address="10.0.0.1")
    login_success_record(email="Ana@Example.org", ip_address="10.0.0.1")
    assert login_attempt_begin(email="ana@example.org", ip_address="10.0.0.1").allowed


def test_password_reset_requests_are_limited_per_email_then_per_address(settings, time_machine):
    time_machine.move_to(T0, tick=False)
    limit = settings.PASSWORD_RESET_THROTTLE_LIMIT
    results = [
        password_reset_attempt_begin(email="Ana@Example.org", ip_address=f"10.0.0.{number}")
        for number in range(limit + 1)
    ]
    assert [result.allowed for result in results] == [True] * limit + [False]
    assert 0 < results[-1].retry_after_seconds <= settings.PASSWORD_RESET_THROTTLE_WINDOW_SECONDS

    # The refused request did not count against its address, which has its whole allowance left.
    for number in range(limit * 4):
        address = f"10.0.0.{limit}"
        assert password_reset_attempt_begin(email=f"person{number}@example.org", ip_address=address).allowed
    assert not password_reset_attempt_begin(email="new@example.org", ip_address=f"10.0.0.{limit}").allowed


def test_limit_keys_hold_no_email_or_address(settings):
    from kynect.core.models import RateLimitBucket

    login_attempt_begin(email="ana@example.org", ip_address="10.0.0.1")
    password_reset_attempt_begin(email="ana@example.org", ip_address="10.0.0.1")
    keys = list(RateLimitBucket.objects.values_list("key", flat=True))
    assert len(keys) == 4
    assert not any("ana" in key or "10.0.0.1" in key for key in keys)
