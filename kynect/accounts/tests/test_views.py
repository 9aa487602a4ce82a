"""Sign in and out, throttling, password reset, invitations and deactivation, through HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from kynect.accounts.models import Invitation, Membership, Role, User
from kynect.accounts.selectors import user_roles
from kynect.accounts.services import invitation_create, invitation_token
from kynect.accounts.tests.factories import (
    TEST_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from kynect.core import clock
from kynect.notifications.models import OutboundMessage

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
T0 = datetime(2026, 3, 2, 15, 0, 10, tzinfo=UTC)  # 10 seconds into a 15-minute throttle window
NEW_PASSWORD = "a-long-and-unusual-passphrase"


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def sign_in(client: Client, email: str, password: str = TEST_PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def users_url(organization) -> str:
    return f"/accounts/organization/{organization.pk}/users/"


def deactivate_url(membership: Membership) -> str:
    return f"/accounts/memberships/{membership.pk}/deactivate/"


def link_path(body: str, pattern: str) -> str:
    """The path of the first link in an email body whose path matches `pattern`."""
    for url in re.findall(r"https?://\S+", body):
        path = urlsplit(url).path
        if re.fullmatch(pattern, path):
            return path
    raise AssertionError(f"No link matching {pattern} in:\n{body}")


@pytest.fixture
def admin() -> Membership:
    return MembershipFactory.create(role=Role.PARTNER_ADMIN)


@pytest.fixture
def admin_client(client: Client, admin: Membership) -> Client:
    client.force_login(admin.user)
    return client


# --- Sign in and out ---------------------------------------------------------------------------------


def test_the_urls():
    assert reverse("accounts:login") == LOGIN
    assert reverse("accounts:logout") == LOGOUT
    assert reverse("accounts:password_reset") == "/accounts/password-reset/"


def test_the_sign_in_page_in_english(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="en"' in content
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert 'name="csrfmiddlewaretoken"' in content


def test_the_sign_in_page_in_spanish(client):
    response = client.get("/es/accounts/login/")
    assert response.status_code == 200
    assert '<html lang="es"' in response.content.decode()
    assert 'href="/es/accounts/password-reset/"' in response.content.decode()


def test_good_credentials_sign_in(client):
    user = UserFactory.create(email="ana@example.org")
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(user.pk)


def test_signing_in_follows_a_safe_next_page(client):
    UserFactory.create(email="ana@example.org")
    response = client.post(
        LOGIN,
        {"username": "ana@example.org", "password": TEST_PASSWORD, "next": "/accounts/organization/users/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/organization/users/"


def test_signing_in_does_not_follow_an_outside_next_page(client):
    UserFactory.create(email="ana@example.org")
    response = client.post(
        LOGIN, {"username": "ana@example.org", "password": TEST_PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_email_address_is_not_case_sensitive(client):
    user = UserFactory.create(email="ana@example.org")
    response = sign_in(client, "  Ana@Example.ORG ")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ana@example.org", "wrong-password-here"),
        ("nobody@example.org", TEST_PASSWORD),
        ("ana@example.org", ""),
    ],
)
def test_bad_credentials_show_the_error(client, email, password):
    UserFactory.create(email="ana@example.org")
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    if password:
        assert "The email address or password is not right." in response.content.decode()
    else:
        assert response.context["form"].errors


def test_an_inactive_user_cannot_sign_in(client):
    UserFactory.create(email="ana@example.org", is_active=False)
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert response.context["form"].errors


def test_sign_out_is_post_only(client):
    user = UserFactory.create()
    client.force_login(user)
    response = client.get(LOGOUT)
    assert response.status_code == 405
    assert signed_in_user_id(client) == str(user.pk)


def test_sign_out_ends_the_session(client):
    user = UserFactory.create()
    client.force_login(user)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    assert client.get("/accounts/organization/users/")["Location"].startswith(LOGIN)


def test_a_signed_in_user_visiting_sign_in_is_sent_on(client):
    client.force_login(UserFactory.create())
    response = client.get(LOGIN)
    assert response.status_code == 302


# --- Throttling ---------------------------------------------------------------------------------------


def test_too_many_failures_for_one_account_from_one_address_block_it_there_even_with_the_right_password(
    client, settings, time_machine
):
    time_machine.move_to(T0, tick=False)
    user = UserFactory.create(email="ana@example.org")
    limit = settings.LOGIN_THROTTLE_LIMIT
    assert limit == 5
    for _ in range(limit):
        response = sign_in(client, "ana@example.org", "wrong-password-here")
        assert response.status_code == 200

    response = sign_in(client, "ana@example.org")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_THROTTLE_WINDOW_SECONDS
    assert signed_in_user_id(client) is None

    # Another email from the same address is not affected.
    other = UserFactory.create(email="bob@example.org")
    response = sign_in(client, "bob@example.org")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(other.pk)
    client.logout()

    # Still blocked from that address, whatever the case of the email, until the window has passed.
    time_machine.shift(timedelta(minutes=10))
    assert sign_in(client, "ANA@example.org ").status_code == 429
    time_machine.shift(timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS))
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_one_address_cannot_lock_an_account_out_elsewhere(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    user = UserFactory.create(email="ana@example.org")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT * 6):
        sign_in(client, "ana@example.org", "wrong-password-here", REMOTE_ADDR="10.0.0.7")
    assert sign_in(client, "ana@example.org", REMOTE_ADDR="10.0.0.7").status_code == 429

    response = sign_in(client, "ana@example.org", REMOTE_ADDR="10.0.0.8")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_failures_from_many_addresses_together_lock_the_account(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    UserFactory.create(email="ana@example.org")
    account_limit = settings.LOGIN_THROTTLE_LIMIT * 4
    for number in range(account_limit):
        response = sign_in(client, "ana@example.org", "wrong-password-here", REMOTE_ADDR=f"10.0.1.{number}")
        assert response.status_code == 200
    assert sign_in(client, "ana@example.org", REMOTE_ADDR="10.0.2.1").status_code == 429
    other = sign_in(client, "bob@example.org", "wrong-password-here", REMOTE_ADDR="10.0.2.1")
    assert other.status_code == 200


def test_fewer_failures_than_the_limit_do_not_block(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    user = UserFactory.create(email="ana@example.org")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT - 1):
        sign_in(client, "ana@example.org", "wrong-password-here")
    response = sign_in(client, "ana@example.org")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_a_successful_sign_in_resets_the_email_counter(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    UserFactory.create(email="ana@example.org")
    for _round in range(2):
        for _ in range(settings.LOGIN_THROTTLE_LIMIT - 1):
            assert sign_in(client, "ana@example.org", "wrong-password-here").status_code == 200
        assert sign_in(client, "ana@example.org").status_code == 302
        client.logout()


def test_failures_with_made_up_emails_from_one_address_lock_no_one_out(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    state_admin = MembershipFactory.create(
        organization=None, role=Role.STATE_ADMIN, user=UserFactory.create(email="state@example.org")
    ).user
    colleague = UserFactory.create(email="colleague@example.org")
    for number in range(settings.LOGIN_THROTTLE_LIMIT * 6):
        sign_in(client, f"made-up-{number}@example.org", "wrong-password-here", REMOTE_ADDR="10.0.0.7")

    # Neither the account's owner elsewhere nor the others behind the same address are locked out.
    response = sign_in(client, "state@example.org", REMOTE_ADDR="10.0.0.8")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(state_admin.pk)
    client.logout()
    response = sign_in(client, "state@example.org", REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(state_admin.pk)
    client.logout()
    response = sign_in(client, "colleague@example.org", REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(colleague.pk)


def test_a_refused_attempt_does_not_check_the_password(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    UserFactory.create(email="ana@example.org")
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        sign_in(client, "ana@example.org", "wrong-password-here")
    with mock.patch.object(User, "check_password", autospec=True, return_value=True) as check_password:
        assert sign_in(client, "ana@example.org").status_code == 429
    check_password.assert_not_called()


# --- Password reset -------------------------------------------------------------------------------------


def test_password_reset_by_email(client, django_capture_on_commit_callbacks):
    user = UserFactory.create(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "ana@example.org"})
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password-reset/sent/"
        message = OutboundMessage.objects.get()
        assert message.template == "accounts/password_reset"
        assert message.channel == OutboundMessage.Channel.EMAIL
        assert message.recipient == "ana@example.org"
        assert mail.outbox == []  # not before the commit

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.org"]
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    path = link_path(str(mail.outbox[0].body), r"/accounts/reset/[^/]+/[^/]+/")

    response = client.get(path)
    assert response.status_code == 302  # Django hides the token from the page's address
    set_password_path = response["Location"]
    response = client.get(set_password_path)
    assert response.status_code == 200
    assert response.context["validlink"]

    response = client.post(set_password_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.password.startswith("argon2")

    assert sign_in(client, "ana@example.org", TEST_PASSWORD).status_code == 200
    assert signed_in_user_id(client) is None
    assert sign_in(client, "ana@example.org", NEW_PASSWORD).status_code == 302
    assert signed_in_user_id(client) == str(user.pk)

    # The link works once.
    client.logout()
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert not response.context["validlink"]


def test_password_reset_refuses_a_weak_new_password(client, django_capture_on_commit_callbacks):
    user = UserFactory.create(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": "ana@example.org"})
    set_password_path = client.get(link_path(str(mail.outbox[0].body), r"/accounts/reset/[^/]+/[^/]+/"))[
        "Location"
    ]
    response = client.post(set_password_path, {"new_password1": "password", "new_password2": "password"})
    assert response.status_code == 200
    assert response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_password_reset_for_an_unknown_email_sends_nothing_but_looks_the_same(
    client, django_capture_on_commit_callbacks
):
    UserFactory.create(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/accounts/password-reset/", {"email": "nobody@example.org"}, follow=True)
    assert response.redirect_chain == [("/accounts/password-reset/sent/", 302)]
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert callbacks == []
    assert not OutboundMessage.objects.exists()
    assert mail.outbox == []


def test_password_reset_for_an_inactive_user_sends_nothing(client, django_capture_on_commit_callbacks):
    UserFactory.create(email="ana@example.org", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "ana@example.org"})
    assert response.status_code == 302
    assert not OutboundMessage.objects.exists()
    assert mail.outbox == []


def test_password_reset_is_written_in_the_users_language(client):
    UserFactory.create(email="maria@example.org", preferred_language="es")
    client.post("/accounts/password-reset/", {"email": "maria@example.org"})
    message = OutboundMessage.objects.get()
    assert message.language == "es"
    assert re.search(r"https?://testserver/es/accounts/reset/[^/\s]+/[^/\s]+/", message.body)


def reset_request(client: Client, email: str, **extra):
    return client.post("/accounts/password-reset/", {"email": email}, **extra)


def test_twenty_reset_requests_for_one_account_send_at_most_the_limit_of_emails(
    client, settings, time_machine
):
    time_machine.move_to(T0, tick=False)
    UserFactory.create(email="agent@example.org")
    limit = settings.PASSWORD_RESET_THROTTLE_LIMIT
    assert 0 < limit < 20

    statuses = [reset_request(client, "agent@example.org").status_code for _ in range(10)]
    statuses += [
        reset_request(client, "Agent@Example.org", REMOTE_ADDR=f"10.0.3.{number}").status_code
        for number in range(10)
    ]

    assert OutboundMessage.objects.filter(template="accounts/password_reset").count() == limit
    assert statuses == [302] * limit + [429] * (20 - limit)
    refused = reset_request(client, "agent@example.org")
    assert "Too many password reset requests" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= settings.PASSWORD_RESET_THROTTLE_WINDOW_SECONDS

    time_machine.shift(timedelta(seconds=settings.PASSWORD_RESET_THROTTLE_WINDOW_SECONDS))
    assert reset_request(client, "agent@example.org").status_code == 302
    assert OutboundMessage.objects.filter(template="accounts/password_reset").count() == limit + 1


def test_reset_requests_from_one_address_are_limited(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    address_limit = settings.PASSWORD_RESET_THROTTLE_LIMIT * 4
    for number in range(address_limit + 5):
        UserFactory.create(email=f"person-{number}@example.org")
        reset_request(client, f"person-{number}@example.org", REMOTE_ADDR="10.0.0.7")
    assert OutboundMessage.objects.count() == address_limit

    assert reset_request(client, "person-0@example.org", REMOTE_ADDR="10.0.0.8").status_code == 302
    assert OutboundMessage.objects.count() == address_limit + 1


def test_a_limited_reset_request_looks_the_same_whether_or_not_the_account_exists(
    client, settings, time_machine
):
    time_machine.move_to(T0, tick=False)
    UserFactory.create(email="agent@example.org")

    def answers(email: str, address: str) -> list[tuple[int, str, str]]:
        seen = []
        for _ in range(settings.PASSWORD_RESET_THROTTLE_LIMIT + 2):
            response = reset_request(client, email, REMOTE_ADDR=address)
            page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
            seen.append((response.status_code, response.get("Location", ""), page.replace(email, "EMAIL")))
        return seen

    assert answers("agent@example.org", "10.0.0.7") == answers("nobody@example.org", "10.0.0.8")
    assert OutboundMessage.objects.count() == settings.PASSWORD_RESET_THROTTLE_LIMIT


def test_an_invalid_reset_request_is_not_counted(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    UserFactory.create(email="agent@example.org")
    for _ in range(settings.PASSWORD_RESET_THROTTLE_LIMIT * 4 + 1):
        assert reset_request(client, "not an email").status_code == 200
    assert reset_request(client, "agent@example.org").status_code == 302
    assert OutboundMessage.objects.count() == 1


def test_refusals_are_in_spanish_on_the_spanish_pages(client, settings, time_machine):
    time_machine.move_to(T0, tick=False)
    for _ in range(settings.LOGIN_THROTTLE_LIMIT + 1):
        response = client.post("/es/accounts/login/", {"username": "ana@example.org", "password": "wrong"})
    assert response.status_code == 429
    assert "Demasiados intentos de inicio de sesión. Espere 15 minutos" in response.content.decode()

    for _ in range(settings.PASSWORD_RESET_THROTTLE_LIMIT + 1):
        response = client.post("/es/accounts/password-reset/", {"email": "ana@example.org"})
    assert response.status_code == 429
    assert "Demasiadas solicitudes para restablecer la contraseña" in response.content.decode()
    assert "espere 60 minutos" in response.content.decode()


def test_the_wait_is_rounded_up_to_whole_minutes(client, settings, time_machine):
    time_machine.move_to(T0 + timedelta(minutes=14, seconds=10), tick=False)  # 40 seconds left
    for _ in range(settings.LOGIN_THROTTLE_LIMIT + 1):
        response = sign_in(client, "ana@example.org", "wrong-password-here")
    assert response["Retry-After"] == "40"
    assert "Wait 1 minute, then try again." in response.content.decode()


# --- Invitations ------------------------------------------------------------------------------------------


INVITATION_PATH = r"/(?:es/)?accounts/invitations/[^/]+/"


def test_an_admin_sees_the_organizations_users(admin_client, admin):
    member = MembershipFactory.create(
        organization=admin.organization, user=UserFactory.create(email="member@example.org")
    )
    MembershipFactory.create(user=UserFactory.create(email="outsider@example.org"))
    response = admin_client.get(users_url(admin.organization))
    assert response.status_code == 200
    content = response.content.decode()
    assert admin.organization.name in content
    assert "member@example.org" in content
    assert "outsider@example.org" not in content
    assert deactivate_url(member) in content
    assert deactivate_url(admin) not in content


def test_the_users_index_sends_an_admin_to_their_organization(admin_client, admin):
    response = admin_client.get("/accounts/organization/users/")
    assert response.status_code == 302
    assert response["Location"] == users_url(admin.organization)


def test_the_users_index_lists_several_organizations(admin_client, admin):
    other = MembershipFactory.create(user=admin.user, role=Role.PARTNER_ADMIN).organization
    response = admin_client.get("/accounts/organization/users/")
    assert response.status_code == 200
    assert users_url(admin.organization) in response.content.decode()
    assert users_url(other) in response.content.decode()


def test_an_admin_invites_and_the_new_person_accepts(
    admin_client, admin, client, django_capture_on_commit_callbacks
):
    organization = admin.organization
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            users_url(organization), {"email": "New.Person@Example.org", "role": Role.PARTNER_USER}
        )
        assert response.status_code == 302
        assert response["Location"] == users_url(organization)
        assert mail.outbox == []
    invitation = Invitation.objects.get()
    assert (invitation.organization, invitation.email, invitation.role) == (
        organization,
        "new.person@example.org",
        Role.PARTNER_USER,
    )
    assert invitation.invited_by == admin.user
    assert OutboundMessage.objects.get().template == "accounts/invitation"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.org"]
    accept_path = link_path(str(mail.outbox[0].body), INVITATION_PATH)

    # The admin sees the invitation waiting.
    assert "new.person@example.org" in admin_client.get(users_url(organization)).content.decode()
    admin_client.logout()

    response = client.get(accept_path)
    assert response.status_code == 200
    assert organization.name in response.content.decode()
    assert 'name="password1"' in response.content.decode()

    response = client.post(
        accept_path,
        {"first_name": "Nia", "last_name": "Person", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(email="new.person@example.org")
    assert (user.first_name, user.last_name) == ("Nia", "Person")
    assert user.check_password(NEW_PASSWORD)
    assert user_roles(user=user, organization=organization) == {Role.PARTNER_USER}
    assert signed_in_user_id(client) == str(user.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None

    # The new person can sign in again later with the password they chose.
    client.logout()
    assert sign_in(client, "new.person@example.org", NEW_PASSWORD).status_code == 302


def test_accepting_on_the_spanish_page_makes_a_spanish_speaker(admin, client):
    invitation = invitation_create(
        invited_by=admin.user,
        organization=admin.organization,
        email="maria@example.org",
        role=Role.PARTNER_USER,
    )
    response = client.post(
        f"/es/accounts/invitations/{invitation_token(invitation=invitation)}/",
        {"first_name": "María", "last_name": "López", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.get(email="maria@example.org").preferred_language == "es"


def test_an_existing_user_accepting_gets_the_membership_added(admin, client):
    existing = UserFactory.create(email="ana@example.org")
    MembershipFactory.create(user=existing, role=Role.PARTNER_USER)  # already in another organization
    invitation = invitation_create(
        invited_by=admin.user,
        organization=admin.organization,
        email="ana@example.org",
        role=Role.PARTNER_ADMIN,
    )
    path = f"/accounts/invitations/{invitation_token(invitation=invitation)}/"
    response = client.get(path)
    assert response.status_code == 200
    assert "You already have an account." in response.content.decode()
    assert 'name="password1"' not in response.content.decode()

    response = client.post(path, {})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert User.objects.filter(email="ana@example.org").count() == 1
    existing.refresh_from_db()
    assert existing.check_password(TEST_PASSWORD)
    assert user_roles(user=existing, organization=admin.organization) == {Role.PARTNER_ADMIN}
    assert Membership.objects.filter(user=existing, is_active=True).count() == 2
    assert signed_in_user_id(client) is None


def _state(invitation: Invitation) -> tuple[int, int, int]:
    return (
        User.objects.count(),
        Membership.objects.count(),
        Invitation.objects.filter(accepted_at__isnull=False).count(),
    )


ACCEPT_FORM = {
    "first_name": "Nia",
    "last_name": "Person",
    "password1": NEW_PASSWORD,
    "password2": NEW_PASSWORD,
}


def _invitation(admin: Membership) -> Invitation:
    assert admin.organization is not None
    return invitation_create(
        invited_by=admin.user,
        organization=admin.organization,
        email="new@example.org",
        role=Role.PARTNER_USER,
    )


def _assert_refused(client: Client, path: str, reason: str) -> None:
    for response in (client.get(path), client.post(path, ACCEPT_FORM)):
        assert response.status_code == 400
        assert reason in response.content.decode()
        assert "Invitation not valid" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_used_invitation_is_refused(admin, client):
    invitation = _invitation(admin)
    path = f"/accounts/invitations/{invitation_token(invitation=invitation)}/"
    assert client.post(path, ACCEPT_FORM).status_code == 302
    client.logout()
    before = _state(invitation)
    _assert_refused(client, path, "This invitation was already used.")
    assert _state(invitation) == before


def test_a_revoked_invitation_is_refused(admin, client):
    invitation = _invitation(admin)
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=clock.now())
    before = _state(invitation)
    _assert_refused(client, f"/accounts/invitations/{invitation_token(invitation=invitation)}/", "withdrawn")
    assert _state(invitation) == before
    assert not User.objects.filter(email="new@example.org").exists()


@pytest.mark.parametrize(
    "mangle",
    [lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), lambda token: "x" + token],
)
def test_a_tampered_invitation_is_refused(admin, client, mangle):
    invitation = _invitation(admin)
    before = _state(invitation)
    path = f"/accounts/invitations/{mangle(invitation_token(invitation=invitation))}/"
    _assert_refused(client, path, "This invitation link is not valid.")
    assert _state(invitation) == before
    assert not User.objects.filter(email="new@example.org").exists()


def test_an_expired_invitation_is_refused(admin, client, time_machine):
    time_machine.move_to(T0, tick=False)
    invitation = _invitation(admin)
    path = f"/accounts/invitations/{invitation_token(invitation=invitation)}/"
    time_machine.shift(timedelta(days=7, minutes=1))
    before = _state(invitation)
    _assert_refused(client, path, "This invitation has expired.")
    assert _state(invitation) == before
    assert not User.objects.filter(email="new@example.org").exists()


@pytest.mark.parametrize(
    ("password1", "password2", "field"),
    [
        ("password", "password", "password1"),
        ("short1", "short1", "password1"),
        ("123456789012345", "123456789012345", "password1"),
        ("new@example.org", "new@example.org", "password1"),  # too like the email address
        (NEW_PASSWORD, NEW_PASSWORD + "x", "password2"),
    ],
)
def test_a_weak_or_mismatched_password_changes_nothing(admin, client, password1, password2, field):
    invitation = _invitation(admin)
    before = _state(invitation)
    response = client.post(
        f"/accounts/invitations/{invitation_token(invitation=invitation)}/",
        {"first_name": "Nia", "last_name": "Person", "password1": password1, "password2": password2},
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert _state(invitation) == before
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert signed_in_user_id(client) is None


def test_a_missing_name_changes_nothing(admin, client):
    invitation = _invitation(admin)
    response = client.post(
        f"/accounts/invitations/{invitation_token(invitation=invitation)}/",
        {**ACCEPT_FORM, "first_name": ""},
    )
    assert response.status_code == 400
    assert "first_name" in response.context["form"].errors
    assert not User.objects.filter(email="new@example.org").exists()


def test_a_partner_user_cannot_manage_users(client):
    member = MembershipFactory.create(role=Role.PARTNER_USER)
    client.force_login(member.user)
    assert client.get(users_url(member.organization)).status_code == 403
    response = client.post(
        users_url(member.organization), {"email": "new@example.org", "role": "partner_user"}
    )
    assert response.status_code == 403
    assert client.get("/accounts/organization/users/").status_code == 403
    assert not Invitation.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_an_admin_of_another_organization_cannot_manage_users(admin_client):
    other = OrganizationFactory.create()
    assert admin_client.get(users_url(other)).status_code == 403
    response = admin_client.post(users_url(other), {"email": "new@example.org", "role": "partner_user"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_a_visitor_is_asked_to_sign_in(client, admin):
    response = client.get(users_url(admin.organization))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    response = client.post(
        users_url(admin.organization), {"email": "new@example.org", "role": "partner_user"}
    )
    assert response.status_code == 302
    assert not Invitation.objects.exists()


def test_an_unknown_organization_is_not_found(admin_client):
    assert (
        admin_client.get("/accounts/organization/00000000-0000-0000-0000-000000000000/users/").status_code
        == 404
    )


@pytest.mark.parametrize("role", ["state_admin", "resident", "referral_specialist", "superuser", ""])
def test_inviting_with_a_role_outside_the_partner_roles_is_rejected(admin_client, admin, role):
    response = admin_client.post(users_url(admin.organization), {"email": "new@example.org", "role": role})
    assert response.status_code == 400
    assert "role" in response.context["form"].errors
    assert not Invitation.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_inviting_with_a_bad_email_is_rejected(admin_client, admin):
    response = admin_client.post(
        users_url(admin.organization), {"email": "not-an-email", "role": "partner_user"}
    )
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert not Invitation.objects.exists()


def test_inviting_someone_who_already_has_the_role_is_rejected(admin_client, admin):
    member = MembershipFactory.create(organization=admin.organization, role=Role.PARTNER_USER)
    response = admin_client.post(
        users_url(admin.organization), {"email": member.user.email, "role": "partner_user"}
    )
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert not Invitation.objects.exists()


# --- Deactivation ------------------------------------------------------------------------------------------


def test_an_admin_deactivates_a_member_who_can_no_longer_sign_in(admin_client, admin):
    member = MembershipFactory.create(
        organization=admin.organization, user=UserFactory.create(email="member@example.org")
    )
    response = admin_client.post(deactivate_url(member))
    assert response.status_code == 302
    assert response["Location"] == users_url(admin.organization)
    member.refresh_from_db()
    assert not member.is_active
    assert member.deactivated_by == admin.user
    assert member.deactivated_at is not None
    assert not User.objects.get(pk=member.user.pk).is_active

    admin_client.logout()
    response = sign_in(admin_client, "member@example.org")
    assert response.status_code == 200
    assert signed_in_user_id(admin_client) is None


def test_a_deactivated_members_open_session_ends(admin, admin_client):
    member = MembershipFactory.create(organization=admin.organization)
    member_client = Client()
    member_client.force_login(member.user)
    admin_client.post(deactivate_url(member))
    response = member_client.get("/accounts/organization/users/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_member_with_another_organization_stays_active(admin_client, admin):
    member = MembershipFactory.create(organization=admin.organization)
    MembershipFactory.create(user=member.user)
    assert admin_client.post(deactivate_url(member)).status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert User.objects.get(pk=member.user.pk).is_active


def test_an_admin_cannot_deactivate_themself(admin_client, admin):
    response = admin_client.post(deactivate_url(admin), follow=True)
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active
    assert admin.deactivated_at is None
    assert User.objects.get(pk=admin.user.pk).is_active


def test_an_admin_of_another_organization_cannot_deactivate(admin_client):
    member = MembershipFactory.create()
    assert admin_client.post(deactivate_url(member)).status_code == 403
    member.refresh_from_db()
    assert member.is_active
    assert User.objects.get(pk=member.user.pk).is_active


def test_a_partner_user_cannot_deactivate(client):
    member = MembershipFactory.create(role=Role.PARTNER_USER)
    colleague = MembershipFactory.create(organization=member.organization, role=Role.PARTNER_USER)
    client.force_login(member.user)
    assert client.post(deactivate_url(colleague)).status_code == 403
    colleague.refresh_from_db()
    assert colleague.is_active


def test_deactivation_is_post_only(admin_client, admin):
    member = MembershipFactory.create(organization=admin.organization)
    assert admin_client.get(deactivate_url(member)).status_code == 405
    member.refresh_from_db()
    assert member.is_active


def test_a_membership_without_an_organization_cannot_be_deactivated_here(admin_client):
    resident = MembershipFactory.create(organization=None, role=Role.RESIDENT)
    assert admin_client.post(deactivate_url(resident)).status_code == 403
    resident.refresh_from_db()
    assert resident.is_active
