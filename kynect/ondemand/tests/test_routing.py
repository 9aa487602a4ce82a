"""Routing (DESIGN §5.4): the General offer, Mass rounds, waiting, misses, link accepts with passcodes,
working the request and the sweeper's deadlines, through the services with time-machine."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.interop.doi.roster import Roster, RosterRow
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import sms_opt_out
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import CallAttempt, Helper, HelpRequest, Offer
from kynect.ondemand.selectors import help_request_caller
from kynect.ondemand.services import help_requests, sweeps, verification
from kynect.ondemand.services import offers as offer_services
from kynect.ondemand.services.deregistration import helper_agency_active_set, helper_deregister
from kynect.ondemand.services.help_requests import help_request_cancel, help_request_submit
from kynect.ondemand.services.helpers import helper_availability_set
from kynect.ondemand.services.roster import licence_roster_import
from kynect.ondemand.tests.conftest import sending
from kynect.ondemand.tests.factories import DoiLicenceFactory, ready_helper

pytestmark = pytest.mark.django_db

# Tuesday 24 November 2026, 10:00 Eastern: inside service hours.
OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_MASS_SIZE = 3
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 100
    settings.SITE_URL = "https://kynect.example"


@pytest.fixture
def traveller():
    with time_machine.travel(OPEN, tick=False) as moving:
        yield moving


def submit(**overrides: Any) -> HelpRequest:
    values: dict[str, Any] = {
        "name": "Maria Lopez",
        "phone": "(502) 555-0123",
        "email": "",
        "contact_method": HelpRequest.ContactMethod.TEXT,
        "language": "en",
        "zip_code": "40601",
        "program": "not_sure",
        "consent": True,
        "message_language": "en",
        "client_key": "203.0.113.7",
    }
    values.update(overrides)
    with sending():
        return help_request_submit(**values).help_request


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, text
    return match.group(1)


def last_passcode() -> str:
    return found(r"\b(\d{6})\b", LocmemSmsBackend.outbox[-1].body)


def sweep(traveller, minutes: float = 0) -> None:
    if minutes:
        traveller.shift(timedelta(minutes=minutes))
    with sending():
        for handler in sweeps.SWEEPS.values():
            handler(now=datetime.now(UTC))


def offers(request: HelpRequest, **filters: Any) -> list[Offer]:
    return list(Offer.objects.filter(help_request=request, **filters).order_by("round", "score"))


def test_a_new_request_goes_to_the_nearest_helper_as_a_general_offer(traveller):
    far = ready_helper(home=(37.0, -86.0))
    near = ready_helper(home=(38.2, -84.87))
    request = submit()
    [offer] = offers(request)
    assert offer.helper == near
    assert offer.kind == Offer.Kind.GENERAL
    assert offer.round == 1
    assert offer.expires_at == OPEN + timedelta(minutes=15)
    assert offer.remind_at == OPEN + timedelta(minutes=10)
    assert offer.score_parts["miles"] < 5
    assert set(offer.score_parts) == {"miles", "recent_load", "misses", "answer_minutes"}
    assert Offer.objects.filter(helper=far).count() == 0
    request.refresh_from_db()
    assert request.rounds == 1
    assert request.route_at is None
    # The helper is told by email and text message, with a working link that the outbox never stored.
    sms = LocmemSmsBackend.outbox[-1]
    assert sms.to == near.phone
    assert "40601" in sms.body
    assert "Maria" not in sms.body
    link = found(r"https://kynect.example(\S+)", sms.body)
    stored = OutboundMessage.objects.filter(template="ondemand/offer", channel="sms").get()
    assert link not in stored.body
    assert "hidden-until-sent" in stored.body
    assert any(near.email in message.to for message in mail.outbox)


def test_hard_filters_county_program_language_schedule_and_switch(traveller):
    ready_helper(counties=("21111",))  # Jefferson only: the request is from Franklin
    ready_helper(programs=("qhp",))
    ready_helper(languages=("es",))
    ready_helper(all_week=False)  # no schedule now
    off = ready_helper()
    helper_availability_set(helper=off, is_available=False)
    good = ready_helper(home=(37.0, -86.0))
    request = submit(program="medicaid_kchip")
    assert [offer.helper for offer in offers(request)] == [good]


def test_reject_turns_it_into_a_mass_round_of_k_and_the_first_accept_wins(traveller):
    helpers = [ready_helper(home=(38.2 - i / 10, -84.87)) for i in range(6)]
    request = submit()
    [general] = offers(request)
    offer_services.offer_reject(offer_id=general.pk, helper=general.helper)
    mass = offers(request, kind=Offer.Kind.MASS)
    assert len(mass) == 3
    assert {offer.round for offer in mass} == {2}
    assert general.helper not in [offer.helper for offer in mass]
    winner, loser = mass[1], mass[0]
    with sending():
        offer_services.offer_accept(offer_id=winner.pk, helper=winner.helper, via=Offer.Via.DESKTOP)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.IN_PROGRESS
    assert request.accepted_helper == winner.helper
    assert {o.status for o in offers(request, kind=Offer.Kind.MASS) if o.pk != winner.pk} == {"rescinded"}
    with pytest.raises(offer_services.OfferClosedError) as error:
        offer_services.offer_accept(offer_id=loser.pk, helper=loser.helper, via=Offer.Via.DESKTOP)
    assert error.value.code == "taken"
    # The requester is told who will call, and from which number.
    assert "will call you" in LocmemSmsBackend.outbox[-1].body
    assert len(helpers) == 6


def test_a_round_with_no_accept_moves_on_to_the_next_k(traveller):
    for i in range(8):
        ready_helper(home=(38.2 - i / 10, -84.87))
    request = submit()
    sweep(traveller, 15)  # the General offer times out
    assert len(offers(request, round=2)) == 3
    for offer in offers(request, round=2)[:2]:
        offer_services.offer_reject(offer_id=offer.pk, helper=offer.helper)
    assert offers(request, round=3) == []  # one offer of the round is still open
    sweep(traveller, 15)
    assert len(offers(request, round=3)) == 3
    # Unanswered Mass offers are not misses.
    assert Helper.objects.filter(consecutive_misses__gt=0).count() == 1


def test_an_accept_one_second_after_expiry_is_refused_even_before_the_sweeper(traveller):
    ready_helper()
    request = submit()
    [offer] = offers(request)
    traveller.shift(timedelta(minutes=15, seconds=1))
    with pytest.raises(offer_services.OfferClosedError) as error:
        offer_services.offer_accept(offer_id=offer.pk, helper=offer.helper, via=Offer.Via.DESKTOP)
    assert error.value.code == "expired"
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.PENDING


def test_a_reminder_five_minutes_before_expiry_once(traveller):
    helper = ready_helper()
    submit()
    sweep(traveller, 9)
    assert not OutboundMessage.objects.filter(template="ondemand/offer_reminder").exists()
    sweep(traveller, 1)
    sweep(traveller, 1)
    assert OutboundMessage.objects.filter(template="ondemand/offer_reminder").count() == 2  # email and SMS
    assert "reminder" in LocmemSmsBackend.outbox[-1].body
    assert LocmemSmsBackend.outbox[-1].to == helper.phone


def test_misses_warn_after_two_and_deregister_after_three(traveller):
    helper = ready_helper()
    for number in (1, 2, 3):
        request = submit(phone=f"(502) 555-01{number:02d}")
        assert offers(request)[0].helper == helper
        sweep(traveller, 15)
        helper.refresh_from_db()
        assert helper.consecutive_misses == number
        assert not helper.is_available
        if number < 3:
            helper_availability_set(helper=helper, is_available=True)
        HelpRequest.objects.filter(pk=request.pk).update(
            status="cancelled", route_at=None, closed_at=datetime.now(UTC)
        )
    templates = list(
        OutboundMessage.objects.filter(recipient=helper.phone).values_list("template", flat=True)
    )
    assert "ondemand/helper_missed_warning" in templates
    assert "ondemand/helper_deregistered" in templates
    helper.refresh_from_db()
    assert helper.status == Helper.Status.DEREGISTERED
    assert helper.deregistration_reason == Helper.DeregistrationReason.MISSED_REFERRALS


def test_a_reject_or_a_desktop_accept_resets_the_misses(traveller):
    helper = ready_helper(consecutive_misses=2)
    request = submit()
    offer_services.offer_reject(offer_id=offers(request)[0].pk, helper=helper)
    helper.refresh_from_db()
    assert helper.consecutive_misses == 0


def test_no_eligible_helper_waits_and_is_routed_when_one_switches_on(traveller):
    request = submit()
    request.refresh_from_db()
    assert request.route_at is not None
    assert request.waiting_since == OPEN
    assert offers(request) == []
    helper = ready_helper()
    helper_availability_set(helper=helper, is_available=False)
    helper_availability_set(helper=helper, is_available=True)
    request.refresh_from_db()
    assert request.route_at == OPEN  # nudged: the next sweep routes it, not in a minute
    sweep(traveller)
    assert [offer.helper for offer in offers(request)] == [helper]


def test_language_is_hard_then_relaxed_with_an_interpreter(traveller):
    english = ready_helper()
    request = submit(language="so")  # nobody speaks Somali: offered with an interpreter at once
    [offer] = offers(request)
    assert offer.helper == english
    assert offer.needs_interpreter
    # A Spanish speaker who is busy makes a Spanish request wait for the language in round 1.
    spanish = ready_helper(languages=("es", "en"))
    other = submit(phone="(502) 555-0177", language="es")
    assert [o.helper for o in offers(other)] == [spanish]
    assert not offers(other)[0].needs_interpreter


def test_link_accept_passcode_details_and_single_use(traveller, settings):
    helper = ready_helper()
    request = submit()
    [offer] = offers(request)
    with sending():
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.LINK)
    code = last_passcode()
    with pytest.raises(verification.PasscodeError) as wrong:
        verification.offer_passcode_verify(offer_id=offer.pk, code="000000" if code != "000000" else "111111")
    assert wrong.value.code == "wrong"
    verified = verification.offer_passcode_verify(offer_id=offer.pk, code=code)
    assert verification.offer_details_open(offer=verified)
    with pytest.raises(verification.PasscodeError):
        verification.offer_passcode_verify(offer_id=offer.pk, code=code)  # single use
    traveller.shift(timedelta(minutes=5, seconds=1))
    verified.refresh_from_db()
    assert not verification.offer_details_open(offer=verified)
    # Resend opens the page again with a new code; a second Resend at once meets the cooldown.
    with sending():
        verification.offer_passcode_send(offer=verified)
    with pytest.raises(verification.PasscodeError) as cooldown:
        verification.offer_passcode_send(offer=verified)
    assert cooldown.value.code == "cooldown"


def test_five_wrong_passcodes_lock_the_code_and_expiry_needs_a_resend(traveller):
    helper = ready_helper()
    request = submit()
    [offer] = offers(request)
    with sending():
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.LINK)
    code = last_passcode()
    bad = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(verification.PasscodeError):
            verification.offer_passcode_verify(offer_id=offer.pk, code=bad)
    with pytest.raises(verification.PasscodeError) as locked:
        verification.offer_passcode_verify(offer_id=offer.pk, code=bad)
    assert locked.value.code == "locked"
    with pytest.raises(verification.PasscodeError):
        verification.offer_passcode_verify(offer_id=offer.pk, code=code)  # even the right one, now
    traveller.shift(timedelta(seconds=31))
    with sending():
        verification.offer_passcode_send(offer=offer)
    code = last_passcode()
    traveller.shift(timedelta(minutes=5, seconds=1))
    with pytest.raises(verification.PasscodeError) as expired:
        verification.offer_passcode_verify(offer_id=offer.pk, code=code)
    assert expired.value.code == "expired"


def test_an_unverified_link_accept_goes_back_to_routing_as_a_miss(traveller):
    first = ready_helper(home=(38.2, -84.87))
    second = ready_helper(home=(37.9, -84.87))
    request = submit()
    with sending():
        offer_services.offer_accept(offer_id=offers(request)[0].pk, helper=first, via=Offer.Via.LINK)
    sweep(traveller, 9)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.IN_PROGRESS
    sweep(traveller, 1)
    request.refresh_from_db()
    first.refresh_from_db()
    assert request.status == HelpRequest.Status.PENDING
    assert request.accepted_helper is None
    assert first.consecutive_misses == 1
    assert not first.is_available
    assert [o.helper for o in offers(request, status="pending")] == [second]


def test_a_link_accept_needs_texts(traveller):
    helper = ready_helper()
    sms_opt_out(phone=helper.phone)
    request = submit()
    with pytest.raises(offer_services.OfferClosedError) as error:
        offer_services.offer_accept(offer_id=offers(request)[0].pk, helper=helper, via=Offer.Via.LINK)
    assert error.value.code == "no_sms"


def test_only_the_offered_helper_may_answer(traveller):
    ready_helper()
    stranger = ready_helper(counties=("21111",))
    request = submit()
    with pytest.raises(PermissionDenied):
        offer_services.offer_accept(offer_id=offers(request)[0].pk, helper=stranger, via=Offer.Via.DESKTOP)


def test_call_attempt_stops_the_clock_and_complete_needs_an_outcome(traveller):
    helper = ready_helper()
    request = submit()
    offer_services.offer_accept(offer_id=offers(request)[0].pk, helper=helper, via=Offer.Via.DESKTOP)
    with pytest.raises(ValidationError):
        help_requests.help_request_complete(help_request_id=request.pk, helper=helper, outcome="enrolled")
    traveller.shift(timedelta(minutes=12))
    help_requests.call_attempt_log(
        help_request_id=request.pk, helper=helper, result=CallAttempt.Result.REACHED
    )
    help_requests.call_attempt_log(
        help_request_id=request.pk, helper=helper, result=CallAttempt.Result.REACHED
    )
    request.refresh_from_db()
    assert request.first_contact_at == OPEN + timedelta(minutes=12)
    with pytest.raises(ValidationError):
        help_requests.help_request_complete(help_request_id=request.pk, helper=helper, outcome="nonsense")
    done = help_requests.help_request_complete(help_request_id=request.pk, helper=helper, outcome="enrolled")
    assert done.status == HelpRequest.Status.COMPLETE
    assert done.outcome == "enrolled"
    assert done.closed_at
    sweep(traveller, 60)
    done.refresh_from_db()
    assert done.escalated_at is None


def test_no_contact_by_the_due_time_escalates_once_to_agency_and_state(traveller):
    helper = ready_helper()
    agency = MembershipFactory.create(role=Role.AGENCY_ADMIN, organization=helper.organization)
    state = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)
    request = submit()
    offer_services.offer_accept(offer_id=offers(request)[0].pk, helper=helper, via=Offer.Via.DESKTOP)
    sweep(traveller, 29)
    assert not OutboundMessage.objects.filter(template="ondemand/help_request_escalated").exists()
    sweep(traveller, 1)
    sweep(traveller, 1)
    recipients = set(
        OutboundMessage.objects.filter(template="ondemand/help_request_escalated").values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {agency.user.email, state.user.email}
    other = ready_helper(organization=helper.organization)
    reassigned = help_requests.help_request_reassign(
        help_request_id=request.pk, actor=agency.user, to_helper=other
    )
    assert reassigned.accepted_helper == other
    assert reassigned.accepted_at == OPEN  # when it was first accepted, not reassigned
    stranger = MembershipFactory.create(role=Role.AGENCY_ADMIN)
    with pytest.raises(PermissionDenied):
        help_requests.help_request_reassign(help_request_id=request.pk, actor=stranger.user, to_helper=helper)


def test_waiting_past_the_limit_is_unserved_with_other_help(traveller, settings):
    request = submit()
    sweep(traveller, 239)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.PENDING
    sweep(traveller, 1)
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.UNSERVED
    assert request.closed_at
    assert "2-1-1" in LocmemSmsBackend.outbox[-1].body


def test_cancel_rescinds_pending_offers(traveller):
    ready_helper()
    request = submit()
    help_request_cancel(help_request=request)
    assert offers(request)[0].status == Offer.Status.RESCINDED


def test_sweeps_twice_change_nothing_the_second_time(traveller):
    ready_helper()
    for number in range(3):
        submit(phone=f"(502) 555-02{number:02d}")
    traveller.shift(timedelta(minutes=15))
    now = datetime.now(UTC)
    with sending():
        first = {name: handler(now=now) for name, handler in sweeps.SWEEPS.items()}
        second = {name: handler(now=now) for name, handler in sweeps.SWEEPS.items()}
    assert first["ondemand.offers_expire"] == 1
    assert all(count == 0 for name, count in second.items() if name != "ondemand.requests_route")


def test_a_failure_in_routing_after_submit_loses_nothing_the_next_pass_routes_it(traveller, monkeypatch):
    helper = ready_helper()

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(sweeps, "help_request_route_locked", broken)
    with pytest.raises(RuntimeError):
        submit()  # the routing loop's pass fails once the request is saved and confirmed
    request = HelpRequest.objects.get()
    assert offers(request) == []
    assert request.route_at == OPEN  # still due: the worker logs the failure and its next pass retries
    monkeypatch.undo()
    sweep(traveller)
    assert [offer.helper for offer in offers(request)] == [helper]


def test_a_round_reads_the_helpers_it_offers_to_whole_not_a_column_at_a_time(traveller):
    for i in range(8):
        ready_helper(home=(38.2 - i / 10, -84.87))
    request = submit()
    [general] = offers(request)
    with CaptureQueriesContext(connection) as queries:
        offer_services.offer_reject(offer_id=general.pk, helper=general.helper)
    assert len(offers(request, kind=Offer.Kind.MASS)) == 3
    # A helper's row read for one column (a deferred field loaded on use) would be one query per column.
    helper_table = Helper._meta.db_table
    one_column = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith(f'SELECT "{helper_table}"."id", "{helper_table}".')
        and " FROM " in query["sql"]
        and query["sql"].split(" FROM ")[0].count(",") == 1
    ]
    assert one_column == []


def test_a_request_still_due_after_routing_does_not_hold_up_the_others(traveller, caplog):
    first_helper, second_helper = ready_helper(), ready_helper()
    first = submit(phone="(502) 555-0160")
    assert [offer.helper for offer in offers(first)] in ([first_helper], [second_helper])
    # A request with a round in flight should not be due; were it, routing would leave it as it is.
    HelpRequest.objects.filter(pk=first.pk).update(route_at=OPEN - timedelta(minutes=1))
    second = submit(phone="(502) 555-0161")
    assert len(offers(second)) == 1  # routed in the same pass, after the stuck one
    first.refresh_from_db()
    assert first.route_at == OPEN + timedelta(seconds=settings.ONDEMAND_ROUTE_RETRY_SECONDS)
    assert len(offers(first)) == 1
    assert f"Help request {first.pk} was still due after routing" in caplog.text


def test_a_request_waits_for_a_busy_speaker_of_its_language_for_at_most_an_offers_time(traveller, settings):
    settings.ONDEMAND_WIDEN_AFTER_MINUTES = 0  # the English speaker stays free (widening: test_levers.py)
    spanish = ready_helper(languages=("es", "en"), home=(38.2, -84.87))
    english = ready_helper(languages=("en",), home=(37.0, -86.0))
    first = submit(phone="(502) 555-0150")  # English: goes to the nearest, the Spanish speaker
    assert offers(first)[0].helper == spanish
    second = submit(phone="(502) 555-0151", language="es")
    assert offers(second) == []  # waits for the busy Spanish speaker
    # The Spanish speaker stays busy (their offer made to last an hour, so that only the wait is tested).
    Offer.objects.filter(helper=spanish).update(expires_at=OPEN + timedelta(hours=1), remind_at=None)
    sweep(traveller, 14)
    assert offers(second) == []
    sweep(traveller, 1)
    [offer] = offers(second)
    assert offer.helper == english
    assert offer.needs_interpreter


def test_the_requester_learns_who_will_call_only_once_a_link_accept_is_verified(traveller):
    helper = ready_helper()
    request = submit()
    [offer] = offers(request)
    with sending():
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.LINK)
    request.refresh_from_db()
    assert help_request_caller(help_request=request) is None
    assert not OutboundMessage.objects.filter(template="ondemand/help_request_accepted").exists()
    with sending():
        verification.offer_passcode_verify(offer_id=offer.pk, code=last_passcode())
    request.refresh_from_db()
    caller = help_request_caller(help_request=request)
    assert caller is not None
    assert OutboundMessage.objects.filter(template="ondemand/help_request_accepted").count() == 1


def test_helpers_freed_when_another_accepts_are_offered_waiting_requests_at_once(traveller):
    for i in range(3):
        ready_helper(home=(38.2 - i / 10, -84.87))
    request = submit(phone="(502) 555-0160")
    [general] = offers(request)
    offer_services.offer_reject(offer_id=general.pk, helper=general.helper)
    helper_availability_set(helper=general.helper, is_available=False)
    mass = offers(request, round=2)
    assert len(mass) == 2
    waiting = submit(phone="(502) 555-0161")  # everyone is busy: it waits a minute
    waiting.refresh_from_db()
    assert waiting.route_at == OPEN + timedelta(minutes=1)
    offer_services.offer_accept(offer_id=mass[0].pk, helper=mass[0].helper, via=Offer.Via.DESKTOP)
    waiting.refresh_from_db()
    assert waiting.route_at == OPEN  # the other Mass helper is free: routed on the next turn
    sweep(traveller)
    assert [offer.helper for offer in offers(waiting)] == [mass[1].helper]


# --- De-registration ------------------------------------------------------------------------------------


def _deregister_by_the_helper(helper: Helper, traveller) -> None:
    assert helper_deregister(helper=helper, reason=Helper.DeregistrationReason.HELPER_REQUEST)


def _deregister_by_an_agency_admin(helper: Helper, traveller) -> None:
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN, organization=helper.organization)
    membership = MembershipFactory.create(
        user=helper.user, role=Role.KYNECTOR, organization=helper.organization
    )
    helper_agency_active_set(actor=admin.user, membership=membership, active=False)


def _deregister_by_the_state(helper: Helper, traveller) -> None:
    state = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)
    membership = MembershipFactory.create(
        user=helper.user, role=Role.KYNECTOR, organization=helper.organization
    )
    helper_agency_active_set(actor=state.user, membership=membership, active=False)


def _deregister_by_the_roster(helper: Helper, traveller) -> None:
    licence = DoiLicenceFactory.create(email=helper.user.email)
    Helper.objects.filter(pk=helper.pk).update(role=Helper.Role.AGENT, licence=licence)
    row = RosterRow(
        line=2,
        npn=licence.npn,
        licence_number=licence.licence_number,
        first_name=licence.first_name,
        last_name=licence.last_name,
        email=licence.email,
        phone=licence.phone,
        status="inactive",
        lines_of_authority=("Health",),
        expires_on=licence.expires_on,
        certification_completed_on=licence.certification_completed_on,
    )
    assert licence_roster_import(roster=Roster(rows=[row], problems=[])).deregistered == 1


def _deregister_by_a_third_miss(helper: Helper, traveller) -> None:
    """The helper's earlier link accept is never verified: the third miss, while the offer is pending."""
    [accepted] = Offer.objects.filter(helper=helper, status=Offer.Status.ACCEPTED)
    Helper.objects.filter(pk=helper.pk).update(consecutive_misses=2)
    sweep(traveller, 10)
    accepted.refresh_from_db()
    assert accepted.status == Offer.Status.ABANDONED


@pytest.mark.parametrize(
    "deregister",
    [
        _deregister_by_the_helper,
        _deregister_by_an_agency_admin,
        _deregister_by_the_state,
        _deregister_by_the_roster,
        _deregister_by_a_third_miss,
    ],
)
def test_deregistration_by_any_cause_rescinds_the_pending_offer_and_routes_its_request_again(
    traveller, deregister, settings
):
    helper = ready_helper(home=(38.2, -84.87))
    if deregister is _deregister_by_a_third_miss:
        # The helper still holds the earlier request, not called, when offered the next (test_levers.py
        # covers the rule that skips such a helper for a General offer).
        settings.ONDEMAND_DIAL_REMINDER_MINUTES = 0
        earlier = submit(phone="(502) 555-0170")
        with sending():
            offer_services.offer_accept(offer_id=offers(earlier)[0].pk, helper=helper, via=Offer.Via.LINK)
        traveller.shift(timedelta(minutes=1))
    request = submit()
    [offer] = offers(request)
    assert offer.helper == helper
    others = [ready_helper(home=(37.9 - i / 10, -84.87)) for i in range(4)]

    with sending():
        deregister(helper, traveller)

    helper.refresh_from_db()
    offer.refresh_from_db()
    request.refresh_from_db()
    assert helper.status == Helper.Status.DEREGISTERED
    assert offer.status == Offer.Status.RESCINDED
    assert request.status == HelpRequest.Status.PENDING
    # Routed again at once, to other helpers: the request does not wait for the offer's 15 minutes.
    pending = offers(request, status=Offer.Status.PENDING)
    assert pending
    assert {o.helper for o in pending} <= set(others)
    with pytest.raises(offer_services.OfferClosedError) as error:
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.DESKTOP)
    assert error.value.code == "not_registered"


def test_deregistration_withdraws_a_link_accept_still_waiting_for_its_passcode(traveller):
    helper = ready_helper(home=(38.2, -84.87))
    request = submit()
    [offer] = offers(request)
    with sending():
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.LINK)
    code = last_passcode()
    others = [ready_helper(home=(37.9 - i / 10, -84.87)) for i in range(4)]

    with sending():
        _deregister_by_the_state(helper, traveller)

    offer.refresh_from_db()
    request.refresh_from_db()
    helper.refresh_from_db()
    assert offer.status == Offer.Status.RESCINDED
    assert offer.verify_due_at is None
    assert request.status == HelpRequest.Status.PENDING
    assert request.accepted_helper is None
    assert helper.consecutive_misses == 0  # withdrawn by the state, not missed by the helper
    pending = offers(request, status=Offer.Status.PENDING)
    assert pending
    assert {o.helper for o in pending} <= set(others)
    # The passcode the helper was sent no longer opens the resident's details.
    with pytest.raises(verification.PasscodeError) as closed:
        verification.offer_passcode_verify(offer_id=offer.pk, code=code)
    assert closed.value.code == "closed"
    assert not verification.offer_details_open(offer=offer)
    transitions = list(offer.events.values_list("transition", flat=True))
    assert transitions[-1] == "withdraw"


def test_deregistration_leaves_a_verified_accept_with_its_helper(traveller):
    helper = ready_helper()
    request = submit()
    [offer] = offers(request)
    with sending():
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.LINK)
    verification.offer_passcode_verify(offer_id=offer.pk, code=last_passcode())

    with sending():
        _deregister_by_the_helper(helper, traveller)

    offer.refresh_from_db()
    request.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    assert request.status == HelpRequest.Status.IN_PROGRESS
    assert request.accepted_helper == helper


@pytest.mark.parametrize("via", [Offer.Via.DESKTOP, Offer.Via.LINK])
def test_accept_refuses_a_helper_who_is_not_registered(traveller, via):
    helper = ready_helper()
    request = submit()
    [offer] = offers(request)
    # De-registered by a write this offer's routing did not see: the offer is still pending.
    Helper.objects.filter(pk=helper.pk).update(
        status=Helper.Status.DEREGISTERED,
        deregistered_at=OPEN,
        deregistration_reason=Helper.DeregistrationReason.ADMINISTRATOR,
        is_available=False,
    )
    helper.refresh_from_db()
    with pytest.raises(offer_services.OfferClosedError) as error:
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=via)
    assert error.value.code == "not_registered"
    assert "not registered" in error.value.message
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.PENDING
    assert request.accepted_helper is None
    assert not OutboundMessage.objects.filter(template="ondemand/offer_passcode").exists()


def test_an_accept_that_loses_to_the_same_helpers_other_tap_says_it_was_accepted(traveller, monkeypatch):
    helper = ready_helper()
    request = submit()
    [offer] = offers(request)
    read_both = offer_services._offer_and_request

    def other_tap_lands_after_the_reads(offer_id: Any) -> tuple[Offer, HelpRequest]:
        # Where a second transaction can read before the first one's update lands, this tap reads the
        # offer and request as pending and the helper's other tap then accepts.
        read = read_both(offer_id)
        monkeypatch.setattr(offer_services, "_offer_and_request", read_both)
        with sending():
            offer_services.offer_accept(offer_id=offer_id, helper=helper, via=Offer.Via.LINK)
        return read

    monkeypatch.setattr(offer_services, "_offer_and_request", other_tap_lands_after_the_reads)
    with pytest.raises(offer_services.OfferClosedError) as error:
        offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.LINK)
    assert (error.value.code, error.value.message) == ("accepted", "You already accepted this referral.")
