"""The kynect On Demand pages through HTTP: who may see them, the three steps, bad input, the active flag."""

from __future__ import annotations

import pytest
from django.test import Client

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.core.models import AccessEvent
from kynect.ondemand.models import Helper, MobileVerification
from kynect.ondemand.tests.conftest import last_code, sending

pytestmark = pytest.mark.django_db

HELPER_PAGES = [
    "/ondemand/",
    "/ondemand/register/agree/",
    "/ondemand/register/contact/",
    "/ondemand/register/verify/",
    "/ondemand/register/schedule/",
    "/ondemand/time-off/",
]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", [*HELPER_PAGES, "/ondemand/helpers/", "/accounts/my-information/"])
def test_pages_need_signing_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", [*HELPER_PAGES, "/ondemand/helpers/"])
@pytest.mark.parametrize("role", [Role.RESIDENT, Role.PARTNER_ADMIN, Role.STATE_STAFF])
def test_people_without_a_helper_role_are_refused(path, role):
    user = MembershipFactory.create(role=role, organization=None).user
    assert signed_in(user).get(path).status_code == 403
    assert not Helper.objects.exists()


def test_the_tab_shows_only_for_helper_roles():
    partner = MembershipFactory.create(role=Role.PARTNER_USER).user
    assert "kynect On Demand" not in signed_in(partner).get("/").content.decode()
    agent = MembershipFactory.create(role=Role.INSURANCE_AGENT).user
    page = signed_in(agent).get("/").content.decode()
    assert 'href="/ondemand/"' in page
    assert 'href="/accounts/my-information/"' in page


def test_a_kynector_not_yet_active_is_told_why(kynector):
    response = signed_in(kynector.user).get("/ondemand/")
    assert response.status_code == 200
    assert "Only active kynectors and Agency Admins are able to register" in response.content.decode()
    response = signed_in(kynector.user).post("/ondemand/register/agree/", {"agree": "on"})
    assert response.status_code == 400
    assert "Only active kynectors and Agency Admins are able to register" in response.content.decode()
    assert Helper.objects.get().terms_agreed_at is None


def test_an_agent_walks_the_three_steps(agent):
    client = signed_in(agent.user)
    assert client.get("/ondemand/").status_code == 200
    assert client.get("/ondemand/register/contact/")["Location"] == "/ondemand/register/agree/"

    response = client.post("/ondemand/register/agree/", {"npn": "1234567"})
    assert response.status_code == 400
    assert "Tick the box to agree" in response.content.decode()
    response = client.post("/ondemand/register/agree/", {"npn": "1234567", "agree": "on"})
    assert response["Location"] == "/ondemand/register/contact/"

    assert (
        'value="+15025550123"' in client.get("/ondemand/register/contact/").content.decode()
    )  # from the DOI
    response = client.post(
        "/ondemand/register/contact/", {"phone": "12", "email": "x", "channel": "sms_email"}
    )
    assert response.status_code == 400
    assert "10-digit U.S. phone number" in response.content.decode()
    with sending():
        response = client.post(
            "/ondemand/register/contact/",
            {"phone": "(502) 555-0142", "email": "andre@example.org", "channel": "sms_email"},
        )
    assert response["Location"] == "/ondemand/register/verify/"
    assert "(502) 555-0142" in client.get("/ondemand/register/verify/").content.decode()
    response = client.post("/ondemand/register/verify/", {"code": "abc"})
    assert response.status_code == 400
    response = client.post("/ondemand/register/verify/", {"code": last_code()})
    assert response["Location"] == "/ondemand/register/schedule/"

    response = client.post("/ondemand/register/schedule/", {"home_zip": "4060", "mon_start": "09:00"})
    assert response.status_code == 400
    assert Helper.objects.get().status == Helper.Status.NOT_REGISTERED
    response = client.post(
        "/ondemand/register/schedule/",
        {
            "home_zip": "40601",
            "all_counties": "on",
            "languages": ["en", "es"],
            "programs": ["qhp"],
            "mon_start": "09:00",
            "mon_end": "17:00",
            "mon_break_start": "12:00",
            "mon_break_end": "12:30",
            "sat_start": "20:00",
            "sat_end": "00:00",
            "is_available": "on",
        },
    )
    assert response["Location"] == "/ondemand/"
    helper = Helper.objects.get()
    assert helper.status == Helper.Status.REGISTERED
    assert helper.counties.count() == 120
    assert list(helper.windows.values_list("weekday", "start_minute", "end_minute")) == [
        (0, 540, 1020),
        (5, 1200, 1440),
    ]
    assert "You are registered" in client.get("/ondemand/").content.decode()


MANAGE_LINK = 'href="/ondemand/helpers/"'


def test_my_information_shows_on_demand_only_to_those_it_concerns(agency_admin, state_admin):
    partner = MembershipFactory.create(role=Role.PARTNER_USER).user
    page = signed_in(partner).get("/accounts/my-information/").content.decode()
    assert "Additional Preferences" not in page
    assert MANAGE_LINK not in page

    page = signed_in(state_admin.user).get("/accounts/my-information/").content.decode()
    assert MANAGE_LINK in page
    assert "Additional Preferences" not in page  # not a helper

    client = signed_in(agency_admin.user)
    client.get("/ondemand/")  # the helper row starts on the first visit to the tab
    page = client.get("/accounts/my-information/").content.decode()
    assert MANAGE_LINK in page
    assert "Additional Preferences" in page
    assert "You have not finished registering for kynect On Demand." in page


def test_preferences_are_edited_from_my_information(registered_kynector):
    client = signed_in(registered_kynector.user)
    page = client.get("/accounts/my-information/").content.decode()
    assert "Additional Preferences" in page
    assert 'href="/ondemand/register/contact/"' in page
    assert 'href="/ondemand/register/schedule/"' in page
    assert "(502) 555-0142" in page
    response = client.post(
        "/ondemand/register/contact/",
        {
            "phone_source": "on_demand",
            "phone": "502-555-0142",
            "email_source": "on_demand",
            "email": "kim@example.org",
            "channel": "email",
        },
    )
    assert response["Location"] == "/accounts/my-information/"
    registered_kynector.refresh_from_db()
    assert registered_kynector.channel == Helper.Channel.EMAIL
    assert registered_kynector.email == "kim@example.org"


def test_the_schedule_form_shows_the_saved_schedule(registered_kynector):
    page = signed_in(registered_kynector.user).get("/ondemand/register/schedule/").content.decode()
    assert 'value="40601"' in page
    assert 'name="mon_start" value="00:00"' in page


def test_the_switch_and_time_off(registered_kynector):
    client = signed_in(registered_kynector.user)
    client.post("/ondemand/availability/", {})
    registered_kynector.refresh_from_db()
    assert not registered_kynector.is_available
    client.post("/ondemand/availability/", {"is_available": "on"})
    registered_kynector.refresh_from_db()
    assert registered_kynector.is_available

    response = client.post(
        "/ondemand/time-off/", {"starts_at": "2099-07-03T17:00", "ends_at": "2099-07-03T09:00"}
    )
    assert response.status_code == 400
    assert "end after it starts" in response.content.decode()
    response = client.post(
        "/ondemand/time-off/", {"starts_at": "2099-07-03T09:00", "ends_at": "2099-07-05T17:00"}
    )
    assert response.status_code == 302
    period = registered_kynector.time_off.get()
    assert period.starts_at.isoformat() == "2099-07-03T13:00:00+00:00"  # 9:00 EDT in Frankfort
    client.post(f"/ondemand/time-off/{period.pk}/remove/")
    assert not registered_kynector.time_off.exists()


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        ("2099-07-03T09:00", "9999-12-31T20:00", "ends_at"),  # 01:00 in the year 10000 in UTC
        ("9999-12-31T19:00", "9999-12-31T23:59", "starts_at"),
        ("9999-01-01T09:00", "9999-01-02T09:00", "starts_at"),  # representable, but as unlikely
    ],
)
def test_time_off_at_the_end_of_the_calendar_is_a_form_error(registered_kynector, starts_at, ends_at, field):
    client = signed_in(registered_kynector.user)
    response = client.post("/ondemand/time-off/", {"starts_at": starts_at, "ends_at": ends_at})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == ["Enter a date before the year 9999."]
    assert not registered_kynector.time_off.exists()


def test_someone_elses_time_off_cannot_be_removed(registered_kynector, make_registered_agent):
    other = make_registered_agent()
    client = signed_in(other.user)
    client.post("/ondemand/time-off/", {"starts_at": "2099-07-03T09:00", "ends_at": "2099-07-05T17:00"})
    period = other.time_off.get()
    signed_in(registered_kynector.user).post(f"/ondemand/time-off/{period.pk}/remove/")
    assert other.time_off.exists()


def test_resend_respects_the_cooldown(active_kynector):
    client = signed_in(active_kynector.user)
    client.post("/ondemand/register/agree/", {"agree": "on"})
    with sending():
        client.post(
            "/ondemand/register/contact/",
            {
                "phone_source": "on_demand",
                "phone": "5025550142",
                "email_source": "account",
                "channel": "sms_email",
            },
        )
    response = client.post("/ondemand/register/verify/resend/", follow=True)
    assert "We just sent a code" in response.content.decode()
    assert MobileVerification.objects.count() == 1


def test_an_agency_admin_marks_a_kynector_active_through_the_page(kynector, agency_admin):
    MembershipFactory.create(role=Role.KYNECTOR)  # another agency's kynector: not listed
    client = signed_in(agency_admin.user)
    page = client.get("/ondemand/helpers/").content.decode()
    assert kynector.user.email in page or kynector.user.get_full_name() in page
    assert page.count("<tr>") == 3  # header, the kynector, the admin themselves
    assert AccessEvent.objects.filter(
        actor=agency_admin.user, subject_type="ondemand.agency_helpers"
    ).exists()
    response = client.post(f"/ondemand/helpers/{kynector.pk}/active/", {"active": "on"})
    assert response.status_code == 302
    assert Helper.objects.get(user=kynector.user).agency_active


def test_nobody_else_marks_people_active_through_the_page(kynector):
    for role in (Role.KYNECTOR, Role.INSURANCE_AGENT, Role.PARTNER_ADMIN):
        outsider = MembershipFactory.create(role=role, organization=kynector.organization).user
        assert (
            signed_in(outsider).post(f"/ondemand/helpers/{kynector.pk}/active/", {"active": "on"}).status_code
            == 403
        )
    other_admin = MembershipFactory.create(role=Role.AGENCY_ADMIN).user
    assert (
        signed_in(other_admin).post(f"/ondemand/helpers/{kynector.pk}/active/", {"active": "on"}).status_code
        == 403
    )
    assert not Helper.objects.filter(agency_active=True).exists()


def test_a_state_administrator_sees_every_agency(kynector, state_admin):
    page = signed_in(state_admin.user).get("/ondemand/helpers/").content.decode()
    assert kynector.organization.name in page
