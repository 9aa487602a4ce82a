"""Oversight (DESIGN §5.4, §5.7): who sees the agency page, the reassign page and the state dashboard;
the reassign rules through the page; and each dashboard figure from known rows, with time-machine."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from kynect.accounts.models import Membership, Role
from kynect.accounts.tests.factories import MembershipFactory, OrganizationFactory
from kynect.core.models import AccessEvent
from kynect.core.periods import period_named
from kynect.ondemand.models import Helper, HelpRequest, Offer
from kynect.ondemand.selectors_oversight import (
    call_backs,
    deregistrations_by_day,
    helpers_available_now,
    median_times,
    missed_offers,
    requests_by_status,
)
from kynect.ondemand.services import offers, sweeps
from kynect.ondemand.services.deregistration import helper_deregister
from kynect.ondemand.services.help_requests import help_request_submit
from kynect.ondemand.services.helpers import helper_availability_set
from kynect.ondemand.tests.conftest import sending
from kynect.ondemand.tests.factories import ready_helper

pytestmark = pytest.mark.django_db

# Tuesday 24 November 2026, 10:00 Eastern; the day began at 05:00 UTC.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TODAY_STARTS = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
PHONES = itertools.count(100)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 100


@pytest.fixture
def traveller():
    with time_machine.travel(NOW, tick=False) as moving:
        yield moving


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def request_row(
    *,
    submitted: datetime,
    status: str = HelpRequest.Status.PENDING,
    helper: Helper | None = None,
    clock_starts: datetime | None = None,
    accepted: datetime | None = None,
    contact: datetime | None = None,
    closed: datetime | None = None,
    escalated: datetime | None = None,
    **fields: Any,
) -> HelpRequest:
    """A help request written straight to the database (the requester's details are made up)."""
    starts = clock_starts or submitted
    due = starts + timedelta(minutes=30)
    values: dict[str, Any] = {
        "name": "Maria Lopez",
        "phone": f"+1502555{next(PHONES):04d}",
        "contact_method": HelpRequest.ContactMethod.TEXT,
        "language": "en",
        "zip_code": "40601",
        "city": "Frankfort",
        "county_fips": "21073",
        "time_zone": "America/New_York",
        "latitude": 38.2,
        "longitude": -84.87,
        "program": "not_sure",
        "consent_given_at": submitted,
        "consent_version": "2026-1",
        "status": status,
        "outcome": "enrolled" if status == HelpRequest.Status.COMPLETE else "",
        "submitted_at": submitted,
        "clock_starts_at": starts,
        "sla_due_at": due,
        "unserved_at": due + timedelta(hours=4),
        "accepted_helper": helper,
        "accepted_at": accepted or (submitted if helper else None),
        "first_contact_at": contact,
        "escalated_at": escalated,
        "closed_at": closed
        or (
            submitted if status not in (HelpRequest.Status.PENDING, HelpRequest.Status.IN_PROGRESS) else None
        ),
        "token_hash": "0" * 64,
    }
    values.update(fields)
    return HelpRequest.objects.create(**values)


def unregistered(organization: Any, **options: Any) -> Helper:
    """A helper who has not registered (again): otherwise like `ready_helper`."""
    helper = ready_helper(organization=organization, **options)
    Helper.objects.filter(pk=helper.pk).update(status=Helper.Status.NOT_REGISTERED, registered_at=None)
    helper.refresh_from_db()
    return helper


def offer_row(
    request: HelpRequest, helper: Helper, *, offered: datetime, kind: str = Offer.Kind.GENERAL, **fields: Any
) -> Offer:
    return Offer.objects.create(
        help_request=request,
        helper=helper,
        kind=kind,
        round=1 if kind == Offer.Kind.GENERAL else 2,
        score=1.0,
        offered_at=offered,
        expires_at=offered + timedelta(minutes=15),
        token_hash="0" * 64,
        **fields,
    )


# --- Who sees what ---------------------------------------------------------------------------------


@pytest.fixture
def agency(traveller) -> dict[str, Any]:
    """An agency with its admin, two registered kynectors (one holding an In Progress request), and
    another agency with its own admin and helper."""
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN)
    holder = ready_helper(organization=admin.organization)
    colleague = ready_helper(organization=admin.organization)
    other_admin = MembershipFactory.create(role=Role.AGENCY_ADMIN)
    outsider = ready_helper(organization=other_admin.organization)
    held = request_row(
        submitted=NOW - timedelta(minutes=10),
        status=HelpRequest.Status.IN_PROGRESS,
        helper=holder,
        city="Frankfort",
    )
    elsewhere = request_row(
        submitted=NOW - timedelta(minutes=5),
        status=HelpRequest.Status.IN_PROGRESS,
        helper=outsider,
        zip_code="42101",
        city="Bowling Green",
        county_fips="21227",
        time_zone="America/Chicago",
    )
    return {
        "admin": admin,
        "holder": holder,
        "colleague": colleague,
        "other_admin": other_admin,
        "outsider": outsider,
        "held": held,
        "elsewhere": elsewhere,
        "state": MembershipFactory.create(role=Role.STATE_ADMIN, organization=None),
    }


def who(agency: dict[str, Any], name: str):
    if name == "anonymous":
        return None
    if name == "helper":
        return agency["holder"].user
    return {
        "other_agency_admin": agency["other_admin"],
        "agency_admin": agency["admin"],
        "state_admin": agency["state"],
    }[name].user


PEOPLE = ["anonymous", "helper", "other_agency_admin", "agency_admin", "state_admin"]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("oversight", [302, 403, 200, 200, 200]),
        ("dashboard", [302, 403, 403, 403, 200]),
        ("reassign", [302, 403, 403, 200, 200]),
        ("reassign_post", [302, 403, 403, 400, 400]),
    ],
)
def test_who_may_open_each_page(agency, page, expected):
    paths = {
        "oversight": "/ondemand/oversight/",
        "dashboard": "/ondemand/oversight/dashboard/",
        "reassign": f"/ondemand/oversight/requests/{agency['held'].pk}/reassign/",
        "reassign_post": f"/ondemand/oversight/requests/{agency['held'].pk}/reassign/",
    }
    for person, status in zip(PEOPLE, expected, strict=True):
        user = who(agency, person)
        client = signed_in(user) if user else Client()
        # An empty POST: refused outright, or (allowed) answered with the form's error.
        response = client.post(paths[page], {}) if page == "reassign_post" else client.get(paths[page])
        assert response.status_code == status, (page, person)
        if status == 302:
            assert response["Location"].startswith("/accounts/login/")
    agency["held"].refresh_from_db()
    assert agency["held"].accepted_helper == agency["holder"]


def test_an_agency_admin_sees_their_helpers_and_requests_only(agency):
    client = signed_in(agency["admin"].user)
    page = client.get("/ondemand/oversight/").content.decode()
    for helper in (agency["holder"], agency["colleague"]):
        assert helper.user.get_full_name() in page
    assert agency["outsider"].user.get_full_name() not in page
    assert "Frankfort" in page
    assert "Bowling Green" not in page
    assert f"/ondemand/oversight/requests/{agency['held'].pk}/reassign/" in page
    assert "/ondemand/oversight/dashboard/" not in page  # the dashboard is the state's
    # No requester's name or phone number in the lists; the viewing is recorded.
    assert "Maria" not in page
    assert agency["held"].phone[-4:] not in page
    assert AccessEvent.objects.filter(actor=agency["admin"].user, subject_type="ondemand.oversight").exists()
    # The other agency's admin sees neither this agency's helpers nor its request.
    other = signed_in(agency["other_admin"].user).get("/ondemand/oversight/").content.decode()
    assert agency["holder"].user.get_full_name() not in other
    assert "Bowling Green" in other
    assert "Frankfort" not in other


def test_a_state_administrator_sees_every_agency_and_may_narrow_to_one(agency):
    client = signed_in(agency["state"].user)
    page = client.get("/ondemand/oversight/").content.decode()
    assert "Frankfort" in page
    assert "Bowling Green" in page
    assert "(Central time)" in page  # Bowling Green's times; the others are Eastern
    assert "/ondemand/oversight/dashboard/" in page
    narrowed = client.get(
        "/ondemand/oversight/", {"agency": agency["admin"].organization.pk}
    ).content.decode()
    assert "Frankfort" in narrowed
    assert "Bowling Green" not in narrowed
    assert agency["outsider"].user.get_full_name() not in narrowed


def test_an_agency_admin_cannot_narrow_to_another_agency(agency):
    page = (
        signed_in(agency["admin"].user)
        .get("/ondemand/oversight/", {"agency": agency["other_admin"].organization.pk})
        .content.decode()
    )
    assert "Bowling Green" not in page
    assert "Frankfort" in page


def test_the_helper_list_shows_status_availability_misses_open_requests_and_pending_offers(agency):
    holder, colleague = agency["holder"], agency["colleague"]
    Helper.objects.filter(pk=colleague.pk).update(consecutive_misses=2)
    helper_availability_set(helper=colleague, is_available=False)
    waiting = request_row(submitted=NOW - timedelta(minutes=1))
    offer_row(waiting, colleague, offered=NOW - timedelta(minutes=1))
    never = unregistered(agency["admin"].organization)
    response = signed_in(agency["admin"].user).get("/ondemand/oversight/")
    rows = {row["name"]: row for row in response.context["helper_rows"]}
    holder_row = rows[holder.user.get_full_name()]
    assert holder_row["availability"] == "Available now"
    assert holder_row["helper"].open_requests == 1
    assert holder_row["helper"].pending_offers == 0
    colleague_row = rows[colleague.user.get_full_name()]
    assert colleague_row["availability"] == "Not available: switched off"
    assert colleague_row["helper"].consecutive_misses == 2
    assert colleague_row["helper"].pending_offers == 1
    assert rows[never.user.get_full_name()]["availability"] == "—"
    # The Pending request offered to one of the agency's helpers is listed too, but not reassignable.
    listed = {row["request"].pk: row for row in response.context["request_rows"]}
    assert listed[waiting.pk]["can_reassign"] is False
    assert listed[agency["held"].pk]["can_reassign"] is True


def test_escalated_requests_come_first_through_routing_and_the_sweeper(traveller):
    helper = ready_helper()
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN, organization=helper.organization)
    with sending():
        escalated = help_request_submit(
            name="Maria Lopez",
            phone="(502) 555-0123",
            email="",
            contact_method=HelpRequest.ContactMethod.TEXT,
            language="en",
            zip_code="40601",
            program="not_sure",
            consent=True,
            message_language="en",
            client_key="203.0.113.7",
        ).help_request
    offer = Offer.objects.get(help_request=escalated)
    offers.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.DESKTOP)
    traveller.shift(timedelta(minutes=31))
    with sending():
        sweeps.help_requests_sla_sweep(now=datetime.now(UTC))
    later = request_row(
        submitted=datetime.now(UTC), status=HelpRequest.Status.IN_PROGRESS, helper=helper, zip_code="40602"
    )
    response = signed_in(admin.user).get("/ondemand/oversight/")
    assert [row["request"].pk for row in response.context["escalated_rows"]] == [escalated.pk]
    assert [row["request"].pk for row in response.context["request_rows"]] == [later.pk]
    page = response.content.decode()
    assert page.index("Escalated requests") < page.index("40601") < page.index("40602")
    assert "1 request has no call logged by its due time" in page


# --- Reassigning through the page ------------------------------------------------------------------


def reassign_path(request: HelpRequest) -> str:
    return f"/ondemand/oversight/requests/{request.pk}/reassign/"


def test_an_agency_admin_reassigns_to_a_colleague(agency):
    client = signed_in(agency["admin"].user)
    form = client.get(reassign_path(agency["held"]))
    choices = [str(value) for value, _ in form.context["form"].fields["helper"].widget.choices]
    assert str(agency["colleague"].pk) in choices
    assert str(agency["outsider"].pk) not in choices  # another agency's helper is not offered
    assert str(agency["holder"].pk) not in choices  # nor the helper who has it
    assert "Maria" not in form.content.decode()
    response = client.post(reassign_path(agency["held"]), {"helper": agency["colleague"].pk})
    assert response.status_code == 302
    assert response["Location"] == "/ondemand/oversight/"
    agency["held"].refresh_from_db()
    assert agency["held"].accepted_helper == agency["colleague"]
    assert AccessEvent.objects.filter(
        subject_type="ondemand.helprequest", subject_id=str(agency["held"].pk)
    ).exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("outsider", "Choose a helper of your agency."),
        ("holder", "This helper already has the request."),
        ("unregistered", "Choose a registered helper."),
        ("nobody", "Choose one of the helpers in the list."),
    ],
)
def test_an_agency_admin_is_told_why_a_reassign_is_refused(agency, target, message):
    not_registered = unregistered(agency["admin"].organization)
    helper_id = {
        "outsider": agency["outsider"].pk,
        "holder": agency["holder"].pk,
        "unregistered": not_registered.pk,
        "nobody": "7f0b3c1e-0000-4000-8000-000000000000",
    }[target]
    response = signed_in(agency["admin"].user).post(reassign_path(agency["held"]), {"helper": helper_id})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "usa-alert--error" in response.content.decode()
    agency["held"].refresh_from_db()
    assert agency["held"].accepted_helper == agency["holder"]


def test_a_state_administrator_reassigns_across_agencies_and_may_list_every_helper(agency):
    client = signed_in(agency["state"].user)
    far = ready_helper(counties=("21111",))  # serves Jefferson only: the request is from Franklin
    listed = [
        str(value)
        for value, _ in client.get(reassign_path(agency["held"]))
        .context["form"]
        .fields["helper"]
        .widget.choices
    ]
    assert str(agency["outsider"].pk) in listed
    assert str(far.pk) not in listed
    every = client.get(reassign_path(agency["held"]), {"every": "1"})
    assert str(far.pk) in [str(value) for value, _ in every.context["form"].fields["helper"].widget.choices]
    response = client.post(reassign_path(agency["held"]), {"helper": far.pk})
    assert response.status_code == 302
    agency["held"].refresh_from_db()
    assert agency["held"].accepted_helper == far


def test_a_request_no_longer_in_progress_cannot_be_reassigned(agency):
    HelpRequest.objects.filter(pk=agency["held"].pk).update(
        status=HelpRequest.Status.COMPLETE, outcome="enrolled", closed_at=NOW, first_contact_at=NOW
    )
    client = signed_in(agency["admin"].user)
    page = client.get(reassign_path(agency["held"]))
    assert page.status_code == 200
    assert "Only a request In Progress can be reassigned." in page.content.decode()
    assert '<form class="usa-form' not in page.content.decode()
    response = client.post(reassign_path(agency["held"]), {"helper": agency["colleague"].pk})
    assert response.status_code == 400
    assert "Only a request In Progress can be reassigned." in response.content.decode()


def test_an_unknown_request_is_not_found(agency):
    response = signed_in(agency["state"].user).get(
        "/ondemand/oversight/requests/7f0b3c1e-0000-4000-8000-000000000000/reassign/"
    )
    assert response.status_code == 404


def test_the_pages_are_in_spanish(agency):
    client = signed_in(agency["state"].user)
    assert "Supervisión" in client.get("/es/ondemand/oversight/").content.decode()
    assert "Panel" in client.get("/es/ondemand/oversight/dashboard/").content.decode()


# --- The dashboard's figures -----------------------------------------------------------------------


def test_the_period_is_whole_days_in_eastern_time(traveller):
    today = period_named(key="today", now=NOW)
    assert today.start == TODAY_STARTS
    assert today.end == TODAY_STARTS + timedelta(days=1)
    week = period_named(key="week", now=NOW)
    assert week.days == tuple(date(2026, 11, day) for day in range(18, 25))
    assert week.start == datetime(2026, 11, 18, 5, 0, tzinfo=UTC)
    # 11:30 p.m. Eastern is already the next day in UTC, but still today here.
    late = period_named(key="today", now=datetime(2026, 11, 25, 4, 30, tzinfo=UTC))
    assert late.days == (date(2026, 11, 24),)
    # Across the spring change the day is 23 hours long.
    spring = period_named(key="today", now=datetime(2026, 3, 8, 17, 0, tzinfo=UTC))
    assert spring.end - spring.start == timedelta(hours=23)
    assert period_named(key="nonsense", now=NOW).key == "today"


def test_requests_today_by_status(traveller):
    helper = ready_helper()
    request_row(submitted=TODAY_STARTS - timedelta(minutes=1))  # yesterday, 11:59 p.m.
    request_row(submitted=TODAY_STARTS)
    request_row(submitted=NOW - timedelta(minutes=5))
    request_row(submitted=NOW - timedelta(hours=1), status=HelpRequest.Status.IN_PROGRESS, helper=helper)
    request_row(submitted=NOW - timedelta(hours=2), status=HelpRequest.Status.COMPLETE, helper=helper)
    request_row(submitted=NOW - timedelta(hours=3), status=HelpRequest.Status.CANCELLED)
    counts = requests_by_status(period=period_named(key="today", now=NOW))
    assert counts == {"pending": 2, "in_progress": 1, "complete": 1, "cancelled": 1, "unserved": 0}
    week = requests_by_status(period=period_named(key="week", now=NOW))
    assert week["pending"] == 3


def test_share_called_back_within_30_minutes(traveller):
    helper = ready_helper()
    hour = NOW - timedelta(hours=2)
    progress: dict[str, Any] = {"status": HelpRequest.Status.IN_PROGRESS, "helper": helper}
    request_row(submitted=hour, contact=hour + timedelta(minutes=30), **progress)  # on time, to the minute
    request_row(submitted=hour, contact=hour + timedelta(minutes=12), **progress)  # on time
    request_row(submitted=hour, contact=hour + timedelta(minutes=31), **progress)  # late
    request_row(submitted=hour, **progress)  # due, no call
    request_row(submitted=hour, status=HelpRequest.Status.UNSERVED, closed=NOW)  # due, no call
    request_row(
        submitted=NOW - timedelta(minutes=10), contact=NOW - timedelta(minutes=5), **progress
    )  # on time
    request_row(submitted=NOW - timedelta(minutes=10), **progress)  # not yet due: left out
    request_row(
        submitted=hour, status=HelpRequest.Status.CANCELLED, closed=hour + timedelta(minutes=5)
    )  # left out
    request_row(
        submitted=hour, status=HelpRequest.Status.CANCELLED, closed=hour + timedelta(minutes=45)
    )  # no call
    # Submitted last night, outside service hours: its clock starts at 8 a.m. today.
    request_row(
        submitted=TODAY_STARTS - timedelta(hours=2),
        clock_starts=TODAY_STARTS + timedelta(hours=3),
        contact=TODAY_STARTS + timedelta(hours=3, minutes=20),
        **progress,
    )
    request_row(
        submitted=TODAY_STARTS - timedelta(hours=20), contact=TODAY_STARTS - timedelta(hours=19), **progress
    )
    result = call_backs(period=period_named(key="today", now=NOW), now=NOW)
    assert (result.on_time, result.late, result.not_called) == (4, 1, 3)
    assert result.due == 8
    assert result.on_time_share == 0.5
    assert call_backs(period=period_named(key="week", now=NOW), now=NOW).due == 9


def test_median_times_to_accept_and_to_first_contact(traveller):
    helper, other = ready_helper(), ready_helper()
    start = NOW - timedelta(hours=3)
    progress: dict[str, Any] = {"status": HelpRequest.Status.IN_PROGRESS, "helper": helper}
    for accept_minutes, contact_minutes in ((2, 10), (4, None), (9, 20), (30, 45)):
        row = request_row(
            submitted=start,
            accepted=start + timedelta(minutes=accept_minutes),
            contact=start + timedelta(minutes=contact_minutes) if contact_minutes else None,
            **progress,
        )
        offer_row(
            row,
            helper,
            offered=start,
            status=Offer.Status.ACCEPTED,
            accepted_via=Offer.Via.DESKTOP,
            responded_at=start + timedelta(minutes=accept_minutes),
        )
    # Reassigned at 50 minutes: the time to accept is still the helper's accept at 6 minutes.
    reassigned = request_row(
        submitted=start, accepted=start + timedelta(minutes=50), helper=other, status="in_progress"
    )
    offer_row(
        reassigned,
        helper,
        offered=start,
        status=Offer.Status.ACCEPTED,
        accepted_via=Offer.Via.DESKTOP,
        responded_at=start + timedelta(minutes=6),
    )
    request_row(submitted=start)  # never accepted: not counted
    request_row(
        submitted=start - timedelta(days=1), accepted=start - timedelta(days=1), **progress
    )  # yesterday
    medians = median_times(period=period_named(key="today", now=NOW))
    assert medians.to_accept.count == 5
    assert medians.to_accept.minutes == 6  # 2, 4, 6, 9, 30
    assert medians.to_first_contact.count == 3
    assert medians.to_first_contact.minutes == 20  # 10, 20, 45
    assert medians.to_first_contact.p90 == 45  # the 3rd of 3 (nearest rank)
    assert medians.to_accept.p90 == 30  # the 5th of 5


def test_an_accept_before_the_clock_starts_counts_as_zero(traveller):
    helper = ready_helper()
    opening = TODAY_STARTS + timedelta(hours=3)
    request_row(
        submitted=TODAY_STARTS - timedelta(hours=1),
        clock_starts=opening,
        accepted=opening - timedelta(minutes=20),
        contact=opening + timedelta(minutes=3),
        status=HelpRequest.Status.IN_PROGRESS,
        helper=helper,
    )
    medians = median_times(period=period_named(key="today", now=NOW))
    assert medians.to_accept.minutes == 0
    assert medians.to_first_contact.minutes == 3


def test_missed_offer_rate(traveller):
    helpers = [ready_helper() for _ in range(8)]
    earlier = NOW - timedelta(hours=1)
    rows = [request_row(submitted=earlier) for _ in range(8)]
    offer_row(rows[0], helpers[0], offered=earlier, status=Offer.Status.EXPIRED, counted_miss=True)
    offer_row(rows[1], helpers[1], offered=earlier, status=Offer.Status.REJECTED, responded_at=earlier)
    offer_row(rows[2], helpers[2], offered=earlier, status=Offer.Status.ACCEPTED, accepted_via="desktop")
    offer_row(rows[3], helpers[3], offered=earlier, status=Offer.Status.RESCINDED)
    offer_row(rows[4], helpers[4], offered=NOW, status=Offer.Status.PENDING)  # still open: left out
    # Mass offers: a link accept never verified is a miss; an unanswered one is not.
    offer_row(
        rows[5],
        helpers[5],
        offered=earlier,
        kind=Offer.Kind.MASS,
        status=Offer.Status.ABANDONED,
        counted_miss=True,
        accepted_via="link",
    )
    offer_row(rows[6], helpers[6], offered=earlier, kind=Offer.Kind.MASS, status=Offer.Status.EXPIRED)
    # Two days ago: only in the week.
    offer_row(
        rows[7], helpers[7], offered=NOW - timedelta(days=2), status=Offer.Status.EXPIRED, counted_miss=True
    )
    today = missed_offers(period=period_named(key="today", now=NOW))
    assert (today.general_closed, today.mass_missed, today.missed) == (4, 1, 2)
    assert today.rate == 2 / 5
    week = missed_offers(period=period_named(key="week", now=NOW))
    assert (week.missed, week.could_miss) == (3, 6)


def test_deregistrations_for_missed_referrals_by_day(traveller):
    def deregistered(at: datetime, reason: str = Helper.DeregistrationReason.MISSED_REFERRALS) -> None:
        with time_machine.travel(at, tick=False):
            assert helper_deregister(helper=ready_helper(), reason=reason)

    deregistered(NOW - timedelta(hours=1))
    deregistered(TODAY_STARTS)
    deregistered(TODAY_STARTS - timedelta(minutes=1))  # yesterday evening, Eastern
    deregistered(NOW - timedelta(days=3))
    deregistered(NOW - timedelta(days=8))  # before the week
    deregistered(NOW, reason=Helper.DeregistrationReason.HELPER_REQUEST)
    assert deregistrations_by_day(period=period_named(key="today", now=NOW)) == {date(2026, 11, 24): 2}
    week = deregistrations_by_day(period=period_named(key="week", now=NOW))
    assert list(week) == [date(2026, 11, day) for day in range(18, 25)]
    assert week[date(2026, 11, 23)] == 1
    assert week[date(2026, 11, 21)] == 1
    assert sum(week.values()) == 4
    # Helpers on their way to registering again (which clears the date) are still counted on the day
    # they were de-registered.
    Helper.objects.filter(status=Helper.Status.DEREGISTERED).update(
        status=Helper.Status.NOT_REGISTERED, deregistered_at=None, deregistration_reason=""
    )
    assert deregistrations_by_day(period=period_named(key="week", now=NOW)) == week


def test_helpers_available_now_by_county_and_language(traveller):
    ready_helper(counties=("21073", "21111"), languages=("en", "es"))
    ready_helper(counties=("21073",), languages=("en",))
    switched_off = ready_helper(counties=("21073",), languages=("so",))
    helper_availability_set(helper=switched_off, is_available=False)
    ready_helper(counties=("21073",), languages=("vi",), all_week=False)  # not working now
    unregistered(None, counties=("21073",), languages=("ar",))
    available = helpers_available_now(at=NOW)
    assert available.total == 2
    assert available.by_language["en"] == 2
    assert available.by_language["es"] == 1
    assert available.by_language["so"] == available.by_language["vi"] == available.by_language["ar"] == 0
    assert available.by_county["21073"] == 2
    assert available.by_county["21111"] == 1
    assert len(available.by_county) == 120
    assert sum(1 for value in available.by_county.values() if value == 0) == 118


def test_the_dashboard_shows_each_chart_with_its_table(agency):
    helper = agency["holder"]
    hour = NOW - timedelta(hours=2)
    request_row(submitted=hour, contact=hour + timedelta(minutes=10), status="in_progress", helper=helper)
    request_row(submitted=hour, status="in_progress", helper=helper)
    earlier = NOW - timedelta(days=3)  # in the last 7 days and this month, not today
    request_row(
        submitted=earlier, contact=earlier + timedelta(minutes=20), status="in_progress", helper=helper
    )
    client = signed_in(agency["state"].user)
    page = client.get("/ondemand/oversight/dashboard/").content.decode()
    assert page.count('<svg role="img"') == 8
    assert page.count("<caption>") == 9  # each chart's table, and every county's
    assert "Called back on time: 50% (1 of 2 due)." in page
    # The promise, today, in the last 7 days and this month, whatever the period chosen.
    assert "Called back within 30 minutes: today, last 7 days, this month" in page
    assert "The target is at least 95% of requests called back on time." in page
    assert '<th scope="row">Today</th><td>50.0% (1 of 2 due)</td>' in page
    assert '<th scope="row">Last 7 days</th><td>66.7% (2 of 3 due)</td>' in page
    assert '<th scope="row">This month</th><td>66.7% (2 of 3 due)</td>' in page
    assert "Today, Tuesday, Nov. 24, 2026" in page
    week = client.get("/ondemand/oversight/dashboard/", {"period": "week"}).content.decode()
    assert "Wednesday, Nov. 18, 2026 to Tuesday, Nov. 24, 2026" in week
    assert 'href="?period=week" aria-current="page"' in week


def test_the_dashboard_queries_are_bounded(agency, django_assert_max_num_queries):
    for minutes in range(20):
        request_row(
            submitted=NOW - timedelta(minutes=minutes + 40), status="in_progress", helper=agency["holder"]
        )
    client = signed_in(agency["state"].user)
    # 20: the figures (the promise's three periods among them), the page, and the header asking
    # whether to link the oversight pages.
    with django_assert_max_num_queries(20):
        client.get("/ondemand/oversight/dashboard/")


def test_the_oversight_page_queries_do_not_grow_with_rows(agency, django_assert_max_num_queries):
    organization = agency["admin"].organization
    for _ in range(10):
        helper = ready_helper(organization=organization)
        request_row(submitted=NOW - timedelta(minutes=50), status="in_progress", helper=helper)
    client = signed_in(agency["admin"].user)
    with django_assert_max_num_queries(20):
        response = client.get("/ondemand/oversight/")
    assert len(response.context["helper_rows"]) == 12


def test_memberships_that_are_not_active_do_not_count(agency):
    Membership.objects.filter(pk=agency["admin"].pk).update(is_active=False)
    assert signed_in(agency["admin"].user).get("/ondemand/oversight/").status_code == 403
    assert OrganizationFactory.create()  # an agency with no helpers does not break the state's list
    assert signed_in(agency["state"].user).get("/ondemand/oversight/").status_code == 200


def test_state_administrators_reach_oversight_from_the_header_and_agency_admins_from_their_page(client):
    from kynect.accounts.models import Role
    from kynect.accounts.tests.factories import MembershipFactory

    state = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)
    client.force_login(state.user)
    assert 'href="/ondemand/oversight/"' in client.get("/").content.decode()
    resident = MembershipFactory.create(role=Role.RESIDENT, organization=None)
    client.force_login(resident.user)
    assert 'href="/ondemand/oversight/"' not in client.get("/").content.decode()
