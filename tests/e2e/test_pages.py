"""Inviting a colleague in the browser, and the invitation page in Spanish at 320 px. Every public page's
axe-core and width checks, in both languages and widths, are in `test_every_page`."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from kynect.accounts.models import Role
from kynect.accounts.services import invitation_create, invitation_token, training_attest
from kynect.accounts.tests.factories import TEST_PASSWORD, MembershipFactory
from tests.e2e.conftest import CheckedPage

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(site: CheckedPage, email: str) -> None:
    site.visit("/accounts/login/")
    site.page.get_by_label("Email address").fill(email)
    site.page.get_by_label("Password").fill(TEST_PASSWORD)
    site.page.get_by_role("button", name="Sign in").click()
    site.page.wait_for_url(site.base_url + "/")
    site.check()


def test_partner_admin_invites_a_colleague_who_joins(site: CheckedPage) -> None:
    admin = MembershipFactory.create(role=Role.PARTNER_ADMIN)
    training_attest(user=admin.user)  # signing in goes straight to the home page
    sign_in(site, admin.user.email)
    site.visit("/accounts/organization/users/")
    site.page.get_by_label("Email address").fill("new.colleague@example.org")
    site.page.get_by_label("Role").select_option(Role.PARTNER_USER.value)
    site.page.get_by_role("button", name="Send invitation").click()
    site.page.get_by_text("Invitation sent to new.colleague@example.org").wait_for()
    site.check()
    assert site.fits_width()

    site.page.get_by_role("button", name="Logout").click()
    site.page.get_by_role("link", name="Login").wait_for()
    site.check()
    accept_url = re.search(r"https?://\S+/accounts/invitations/\S+/", str(mail.outbox[-1].body))
    assert accept_url is not None
    path = accept_url.group(0).split("/accounts/", 1)[1]
    site.visit("/accounts/" + path)
    site.page.get_by_label("First name").fill("Nia")
    site.page.get_by_label("Last name").fill("Colleague")
    site.page.get_by_label("Password", exact=True).fill("a long and unusual passphrase")
    site.page.get_by_label("Password again").fill("a long and unusual passphrase")
    site.page.get_by_role("button", name="Accept invitation").click()
    site.page.wait_for_url(site.base_url + "/")
    site.check()
    assert site.page.get_by_role("button", name="Logout").is_visible()


def test_invitation_page_in_spanish_at_320px(site: CheckedPage) -> None:
    admin = MembershipFactory.create(role=Role.PARTNER_ADMIN)
    organization = admin.organization
    assert organization is not None
    invitation = invitation_create(
        invited_by=admin.user,
        organization=organization,
        email="nuevo@example.org",
        role=Role.PARTNER_USER,
    )
    site.page.set_viewport_size({"width": 320, "height": 800})
    site.visit(f"/es/accounts/invitations/{invitation_token(invitation=invitation)}/")
    assert site.page.get_attribute("html", "lang") == "es"
    assert site.fits_width()
