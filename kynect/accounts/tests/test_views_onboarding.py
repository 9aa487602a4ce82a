"""Partner onboarding through HTTP, per role: the public application, the training attestation, the state
administrators' queue and their invitations, in English and Spanish."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings

from kynect.accounts.decorators import resident_data_required
from kynect.accounts.models import Invitation, Membership, Organization, Role, TrainingAttestation, User
from kynect.accounts.services import training_attest
from kynect.accounts.tests.factories import TEST_PASSWORD, MembershipFactory, OrganizationFactory, UserFactory
from kynect.core.models import AccessEvent
from kynect.directory.tests.factories import DirectoryOrganizationFactory
from kynect.notifications.models import OutboundMessage

pytestmark = pytest.mark.django_db

APPLY = "/accounts/partners/apply/"
QUEUE = "/accounts/onboarding/applications/"
STATE_USERS = "/accounts/onboarding/state-users/"
TRAINING = "/accounts/training/"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
AGREEMENT_EN = "Client confidential Information is valuable and sensitive"
AGREEMENT_ES = "La información confidencial de los clientes es valiosa y delicada"


def form_data(**overrides: str) -> dict[str, str]:
    return {
        "name": "Hazard Community Pantry",
        "organization_type": "not_for_profit",
        "tax_status": "501c3",
        "address_1": "100 Main Street",
        "address_2": "",
        "city": "Hazard",
        "postal_code": "41701",
        "listing_search": "",
        "hsds_organization": "",
        "first_name": "Ana",
        "last_name": "Applicant",
        "email": "ana@example.org",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
        "agreement": "on",
        **overrides,
    }


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(role: str, organization_type: str = Organization.Type.NOT_FOR_PROFIT, **kwargs: Any) -> User:
    organization = OrganizationFactory.create(type=organization_type, onboarded_at=T0)
    return MembershipFactory.create(role=role, organization=organization, **kwargs).user


# The application


@pytest.mark.parametrize(("prefix", "words"), [("", AGREEMENT_EN), ("/es", AGREEMENT_ES)])
def test_the_application_shows_the_whole_user_agreement(client: Client, prefix: str, words: str) -> None:
    response = client.get(prefix + APPLY)
    assert response.status_code == 200
    html = response.content.decode()
    assert words in html
    assert "42 CFR Part 2" in html


def test_an_application_creates_the_organization_and_its_admin(client: Client) -> None:
    listing = DirectoryOrganizationFactory.create(name="Hazard Pantry Listing")
    response = client.post(
        "/es" + APPLY, form_data(listing_search="Hazard Pantry", hsds_organization=str(listing.pk))
    )
    assert response.status_code == 302
    assert response["Location"] == "/es/accounts/partners/applied/"
    organization = Organization.objects.get(name="Hazard Community Pantry")
    assert (organization.status, organization.hsds_organization_id) == ("applied", listing.pk)
    applicant = User.objects.get(email="ana@example.org")
    assert applicant.preferred_language == "es"
    assert Membership.objects.filter(
        user=applicant, role=Role.PARTNER_ADMIN, organization=organization
    ).exists()
    assert OutboundMessage.objects.get().language == "es"
    assert client.get(response["Location"]).status_code == 200


def test_finding_the_listing_shows_the_matches_and_saves_nothing(client: Client) -> None:
    DirectoryOrganizationFactory.create(name="Perry County Food Bank")
    response = client.post(APPLY, form_data(listing_search="food bank", find_listing="1", agreement=""))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Perry County Food Bank" in html
    assert 'type="radio"' in html
    assert "usa-error-message" not in html
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"postal_code": "4170"}, "Enter a 5-digit ZIP code, like 40601."),
        ({"name": "existing PANTRY"}, "An organization with this name is already on kynect resources"),
        ({"agreement": ""}, "Accept the user agreement to apply."),
        ({"password2": "something-else-entirely"}, "The two passwords are not the same."),
        ({"email": "taken@example.org"}, "An account with this email address exists."),
        ({"organization_type": "church"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_explained_and_nothing_saved(client: Client, overrides: dict, message: str) -> None:
    OrganizationFactory.create(name="Existing Pantry")
    UserFactory.create(email="taken@example.org")
    before = (Organization.objects.count(), User.objects.count())
    response = client.post(APPLY, form_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (Organization.objects.count(), User.objects.count()) == before
    assert not OutboundMessage.objects.exists()


def test_a_listing_that_belongs_to_another_organization_is_refused(client: Client) -> None:
    listing = DirectoryOrganizationFactory.create(name="Perry County Food Bank")
    OrganizationFactory.create(name="Perry County Food Bank", hsds_organization=listing)
    response = client.post(
        APPLY, form_data(listing_search="Perry", hsds_organization=str(listing.pk), name="Perry Pantry")
    )
    assert response.status_code == 400
    assert "This directory listing already belongs to another organization." in response.content.decode()
    assert Organization.objects.count() == 1


@override_settings(PARTNER_APPLY_THROTTLE_LIMIT=2)
def test_applications_are_rate_limited_per_address(client: Client) -> None:
    for _ in range(2):
        assert client.post(APPLY, form_data(postal_code="bad")).status_code == 400
    refused = client.post(APPLY, form_data())
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many applications" in refused.content.decode()
    assert not Organization.objects.exists()


# Training


def test_signing_in_asks_for_the_training_first_and_comes_back(client: Client) -> None:
    user = member(Role.PARTNER_USER)
    response = client.post(
        "/accounts/login/?next=/accounts/my-information/", {"username": user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{TRAINING}?next=%2Faccounts%2Fmy-information%2F"

    page = client.get(response["Location"])
    assert page.status_code == 200
    refused = client.post(TRAINING, {"next": "/accounts/my-information/"})
    assert refused.status_code == 400
    assert "Tick the box to attest" in refused.content.decode()
    assert not TrainingAttestation.objects.exists()

    done = client.post(TRAINING, {"next": "/accounts/my-information/", "attest": "on"})
    assert done["Location"] == "/accounts/my-information/"
    assert TrainingAttestation.objects.get().user == user


def test_the_training_page_never_sends_elsewhere(client: Client) -> None:
    user = member(Role.PARTNER_USER)
    client.force_login(user)
    response = client.post(TRAINING, {"next": "https://evil.example.com/", "attest": "on"})
    assert response["Location"] == "/"


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.INSURANCE_AGENT])
def test_residents_and_helpers_sign_in_straight_through(client: Client, role: str) -> None:
    user = MembershipFactory.create(
        role=role, organization=None if role == Role.RESIDENT else OrganizationFactory.create()
    ).user
    response = client.post("/accounts/login/", {"username": user.email, "password": TEST_PASSWORD})
    assert response["Location"] == "/"


def test_a_trained_partner_signs_in_straight_through(client: Client) -> None:
    user = member(Role.PARTNER_USER)
    training_attest(user=user)
    response = client.post("/accounts/login/", {"username": user.email, "password": TEST_PASSWORD})
    assert response["Location"] == "/"


def test_the_training_page_needs_a_sign_in(client: Client) -> None:
    assert client.get(TRAINING)["Location"].startswith("/accounts/login/")


def _resident_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("resident data")


@pytest.mark.parametrize(
    ("trained", "onboarded", "outcome"), [(True, True, 200), (False, True, 302), (True, False, 403)]
)
def test_pages_with_resident_data_ask_the_selector(trained: bool, onboarded: bool, outcome: int) -> None:
    organization = OrganizationFactory.create(onboarded_at=T0 if onboarded else None)
    user = MembershipFactory.create(role=Role.PARTNER_USER, organization=organization).user
    if trained:
        training_attest(user=user)
    request = RequestFactory().get("/referrals/1/")
    request.user = user
    view = resident_data_required(_resident_page)
    if outcome == 403:
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            view(request)
        return
    response = view(request)
    assert response.status_code == outcome
    if outcome == 302:
        assert response["Location"] == f"{TRAINING}?next=%2Freferrals%2F1%2F"


# The state administrators' pages


def applied() -> Organization:
    applicant = UserFactory.create(preferred_language="es")
    organization = OrganizationFactory.create(name="Applicant Pantry", applied_by=applicant, applied_at=T0)
    MembershipFactory.create(user=applicant, organization=organization, role=Role.PARTNER_ADMIN)
    return organization


@pytest.mark.parametrize(
    ("role", "organization_type"),
    [
        (Role.PARTNER_ADMIN, Organization.Type.NOT_FOR_PROFIT),
        (Role.PARTNER_ADMIN, Organization.Type.HOSPITAL),
        (Role.PARTNER_ADMIN, Organization.Type.MCO),
        (Role.PARTNER_ADMIN, Organization.Type.STATE_AGENCY),
        (Role.REFERRAL_SPECIALIST, Organization.Type.NOT_FOR_PROFIT),
        (Role.PARTNER_USER, Organization.Type.FOR_PROFIT),
    ],
)
def test_only_state_administrators_see_the_queue(role: str, organization_type: str) -> None:
    organization = applied()
    client = signed_in(member(role, organization_type))
    for path in (QUEUE, f"{QUEUE}{organization.pk}/", STATE_USERS):
        assert client.get(path).status_code == 403
    assert client.post(f"{QUEUE}{organization.pk}/approve/").status_code == 403
    organization.refresh_from_db()
    assert organization.status == "applied"


def test_anonymous_and_residents_are_kept_out(client: Client) -> None:
    organization = applied()
    assert client.get(QUEUE)["Location"].startswith("/accounts/login/")
    assert client.post(f"{QUEUE}{organization.pk}/approve/")["Location"].startswith("/accounts/login/")
    resident = MembershipFactory.create(role=Role.RESIDENT, organization=None).user
    assert signed_in(resident).get(QUEUE).status_code == 403


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_a_state_administrator_approves_from_the_queue(prefix: str) -> None:
    organization = applied()
    admin = member(Role.STATE_ADMIN)
    client = signed_in(admin)
    queue = client.get(f"{prefix}{QUEUE}")
    assert queue.status_code == 200
    assert "Applicant Pantry" in queue.content.decode()

    detail = client.get(f"{prefix}{QUEUE}{organization.pk}/")
    assert detail.status_code == 200
    assert organization.applied_by is not None
    assert organization.applied_by.email in detail.content.decode()
    event = AccessEvent.objects.get(subject_type="accounts.organization_application")
    assert (event.actor_id, event.subject_id) == (admin.pk, str(organization.pk))

    approved = client.post(f"{prefix}{QUEUE}{organization.pk}/approve/")
    assert approved.status_code == 302
    organization.refresh_from_db()
    assert organization.status == "approved"
    assert organization.onboarded_at is not None
    message = OutboundMessage.objects.get(template="accounts/application_approved")
    assert message.language == "es"
    assert f"{organization.pk}/approve/" not in client.get(f"{QUEUE}{organization.pk}/").content.decode()


def test_declining_needs_a_reason() -> None:
    organization = applied()
    client = signed_in(member(Role.STATE_ADMIN))
    refused = client.post(f"{QUEUE}{organization.pk}/decline/", {"reason": "  "})
    assert refused.status_code == 400
    assert "Say why the application is declined." in refused.content.decode()
    organization.refresh_from_db()
    assert organization.status == "applied"

    client.post(f"{QUEUE}{organization.pk}/decline/", {"reason": "Outside Kentucky"})
    organization.refresh_from_db()
    assert (organization.status, organization.decline_reason) == ("declined", "Outside Kentucky")
    assert client.get(f"{QUEUE}?status=declined").content.decode().count("Applicant Pantry</a>") == 1
    assert "Applicant Pantry</a>" not in client.get(QUEUE).content.decode()


def test_a_decided_application_is_not_decided_again() -> None:
    organization = applied()
    client = signed_in(member(Role.STATE_ADMIN))
    client.post(f"{QUEUE}{organization.pk}/approve/")
    response = client.post(f"{QUEUE}{organization.pk}/decline/", {"reason": "Changed my mind"}, follow=True)
    assert "This application was already decided." in response.content.decode()
    organization.refresh_from_db()
    assert organization.status == "approved"


def test_a_state_administrator_invites_a_referral_specialist() -> None:
    united_way = OrganizationFactory.create(name="United Way of Kentucky", onboarded_at=T0)
    client = signed_in(member(Role.STATE_ADMIN))
    response = client.post(
        STATE_USERS,
        {"email": "Sam@Example.org", "role": "referral_specialist", "organization": united_way.pk},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.organization) == (
        "sam@example.org",
        Role.REFERRAL_SPECIALIST,
        united_way,
    )
    assert OutboundMessage.objects.get().template == "accounts/invitation"
    assert "sam@example.org" in client.get(STATE_USERS).content.decode()


def test_the_state_users_page_offers_statewide_roles_only() -> None:
    united_way = OrganizationFactory.create(onboarded_at=T0)
    client = signed_in(member(Role.STATE_ADMIN))
    response = client.post(
        STATE_USERS, {"email": "p@example.org", "role": "partner_user", "organization": united_way.pk}
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


# An organization's own users page


@pytest.mark.parametrize(
    ("organization_type", "offered", "not_offered"),
    [
        (Organization.Type.HOSPITAL, "Provider / hospital user", "Community partner user"),
        (Organization.Type.MCO, "MCO user", "Community partner user"),
        (Organization.Type.STATE_AGENCY, "DCBS or state agency staff", "MCO user"),
        (Organization.Type.NOT_FOR_PROFIT, "Community partner user", "Provider / hospital user"),
    ],
)
def test_an_admin_is_offered_the_roles_of_their_organization_type(
    organization_type: str, offered: str, not_offered: str
) -> None:
    admin = member(Role.PARTNER_ADMIN, organization_type)
    organization = Membership.objects.get(user=admin).organization
    assert organization is not None
    html = signed_in(admin).get(f"/accounts/organization/{organization.pk}/users/").content.decode()
    assert f">{offered}</option>" in html
    assert f">{not_offered}</option>" not in html


def test_an_admin_waiting_for_approval_is_told_so() -> None:
    organization = applied()
    assert organization.applied_by is not None
    html = (
        signed_in(organization.applied_by)
        .get(f"/accounts/organization/{organization.pk}/users/")
        .content.decode()
    )
    assert "once a state administrator approves" in html
    assert 'name="email"' not in html


def test_the_admin_shows_onboarding_but_does_not_edit_it() -> None:
    organization = applied()
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    client = signed_in(superuser)
    url = f"/admin/accounts/organization/{organization.pk}/change/"
    assert client.get(url).status_code == 200
    client.post(
        url,
        {
            "name": organization.name,
            "type": organization.type,
            "state_province": "KY",
            "status": "approved",
            "onboarded_at_0": "2026-03-02",
            "onboarded_at_1": "10:00:00",
        },
    )
    organization.refresh_from_db()
    assert (organization.status, organization.onboarded_at) == ("applied", None)


@pytest.mark.parametrize(("prefix", "state"), [("", "(Applied)"), ("/es", "(Solicitada)")])
def test_the_applicant_sees_where_the_application_stands(prefix: str, state: str) -> None:
    organization = applied()
    assert organization.applied_by is not None
    html = signed_in(organization.applied_by).get(f"{prefix}/accounts/my-information/").content.decode()
    assert f"Applicant Pantry {state}" in html
    assert f'href="{prefix}/accounts/organization/{organization.pk}/users/"' in html
