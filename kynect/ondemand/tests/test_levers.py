"""The 30-minute promise's routing rules (ADR 0044): the responsiveness score and its prior, widening a
General offer with a Mass round, the reminder to call and the capacity skips, through the services with
time-machine (the same steps as `test_routing`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from kynect.notifications.models import OutboundMessage
from kynect.ondemand import routing
from kynect.ondemand.models import CallAttempt, Helper, HelpRequest, Offer, ScheduleWindow
from kynect.ondemand.services import help_requests
from kynect.ondemand.services import offers as offer_services
from kynect.ondemand.services.helpers import helper_responsiveness_count
from kynect.ondemand.tests.conftest import sending
from kynect.ondemand.tests.factories import ready_helper
from kynect.ondemand.tests.test_routing import OPEN, offers, submit, sweep

pytestmark = pytest.mark.django_db

NEAR = (38.2, -84.87)  # by the request's ZIP code, 40601


def away(miles_north: float) -> tuple[float, float]:
    """A home about this many miles north of NEAR (a degree of latitude is about 69 miles)."""
    return (NEAR[0] + miles_north / 69.0, NEAR[1])


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_MASS_SIZE = 3
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 100
    settings.SITE_URL = "https://kynect.example"
    settings.ONDEMAND_RESPONSIVENESS_WEIGHT = 1.0
    settings.ONDEMAND_WIDEN_AFTER_MINUTES = 5
    settings.ONDEMAND_DIAL_REMINDER_MINUTES = 20
    settings.ONDEMAND_CAPACITY_MINUTES = 20


@pytest.fixture
def traveller():
    with time_machine.travel(OPEN, tick=False) as moving:
        yield moving


def accept(offer: Offer) -> Offer:
    with sending():
        return offer_services.offer_accept(offer_id=offer.pk, helper=offer.helper, via=Offer.Via.DESKTOP)


def history(helper: Helper, *, answered: int, expired: int, minutes: float = 2.0) -> None:
    """Closed offers of earlier requests, answered after `minutes` or left to expire, then counted."""
    for number in range(answered + expired):
        earlier = submit(phone=f"(502) 555-{9000 + number:04d}")
        Offer.objects.filter(help_request=earlier).delete()
        offered = OPEN - timedelta(days=1, minutes=number * 20)
        Offer.objects.create(
            help_request=earlier,
            helper=helper,
            kind=Offer.Kind.MASS,
            round=2,
            status=Offer.Status.REJECTED if number < answered else Offer.Status.EXPIRED,
            score=0.0,
            offered_at=offered,
            expires_at=offered + timedelta(minutes=15),
            responded_at=offered + timedelta(minutes=minutes) if number < answered else None,
            token_hash=f"{helper.pk.int % 10**40:040d}{number:024d}",
        )
        HelpRequest.objects.filter(pk=earlier.pk).update(
            status=HelpRequest.Status.CANCELLED, closed_at=OPEN, route_at=None
        )
    helper_responsiveness_count(helper_id=helper.pk, now=OPEN)


# --- 1. Responsiveness ------------------------------------------------------------------------------


def test_the_prior_makes_a_new_helper_expected_to_answer_in_eight_minutes():
    # 0.7 * 5 minutes + 0.3 * the offer's 15 minutes.
    assert routing.expected_answer_minutes(counted=0, answered=0, median_minutes=None) == pytest.approx(8.0)


def test_one_answer_moves_a_new_helper_only_a_little_and_a_record_moves_them_far():
    # One quick answer: share (1 + 3.5) / 6 = 0.75, minutes (1 + 25) / 6; 0.75 * 4.33 + 0.25 * 15 = 7.0.
    assert routing.expected_answer_minutes(counted=1, answered=1, median_minutes=1.0) == pytest.approx(7.0)
    # Ten quick answers of ten: share 13.5 / 15 = 0.9, minutes 35 / 15; 0.9 * 2.33 + 0.1 * 15 = 3.6.
    assert routing.expected_answer_minutes(counted=10, answered=10, median_minutes=1.0) == pytest.approx(3.6)
    # Ten offers left to expire: share 3.5 / 15; 0.233 * 5 + 0.767 * 15 = 12.67.
    assert routing.expected_answer_minutes(counted=10, answered=0, median_minutes=None) == pytest.approx(
        12.667, abs=0.001
    )


def test_responsiveness_counts_answered_and_expired_offers_but_not_rescinded_ones(traveller):
    helper = ready_helper()
    history(helper, answered=3, expired=1, minutes=4.0)
    helper.refresh_from_db()
    assert (helper.offers_counted, helper.offers_answered, helper.answer_minutes) == (4, 3, 4.0)
    # An offer taken by someone else (rescinded) was not the helper's to answer.
    request = submit()
    [offer] = offers(request)
    Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.RESCINDED)
    helper_responsiveness_count(helper_id=helper.pk, now=OPEN)
    helper.refresh_from_db()
    assert (helper.offers_counted, helper.offers_answered) == (4, 3)


def test_answering_and_missing_offers_update_the_helpers_figures(traveller):
    helper = ready_helper()
    request = submit()
    [offer] = offers(request)
    traveller.shift(timedelta(minutes=3))
    accept(offer)
    helper.refresh_from_db()
    assert (helper.offers_counted, helper.offers_answered, helper.answer_minutes) == (1, 1, 3.0)
    help_requests.call_attempt_log(
        help_request_id=request.pk, helper=helper, result=CallAttempt.Result.REACHED
    )
    help_requests.help_request_complete(
        help_request_id=request.pk, helper=helper, outcome=HelpRequest.Outcome.ENROLLED
    )
    traveller.shift(timedelta(minutes=30))
    second = submit(phone="(502) 555-0124")
    [missed] = offers(second)
    assert missed.helper == helper
    sweep(traveller, 15)  # the General offer times out: a miss
    helper.refresh_from_db()
    assert (helper.offers_counted, helper.offers_answered, helper.answer_minutes) == (2, 1, 3.0)


def test_the_general_offer_goes_to_the_helper_likely_to_answer_soon_not_only_the_nearest(traveller, settings):
    slow = ready_helper(home=NEAR)
    quick = ready_helper(home=away(20))
    history(slow, answered=2, expired=8)  # expected 11.6 minutes to answer
    history(quick, answered=10, expired=0, minutes=1.0)  # expected 3.6 minutes
    request = submit()
    [offer] = offers(request)
    assert offer.helper == quick
    assert offer.score_parts["answer_minutes"] == pytest.approx(3.6)
    # Without the lever, proximity decides.
    settings.ONDEMAND_RESPONSIVENESS_WEIGHT = 0
    other = submit(phone="(502) 555-0124")
    [offer] = offers(other)
    assert offer.helper == slow
    assert "answer_minutes" not in offer.score_parts


# --- 2. Widening ------------------------------------------------------------------------------------


def test_an_unanswered_general_offer_is_widened_to_a_mass_round_at_minute_m(traveller):
    general_helper = ready_helper(home=NEAR)
    others = [ready_helper(home=away(10 + n)) for n in range(4)]
    request = submit()
    [general] = offers(request)
    assert general.helper == general_helper
    assert general.widen_at == OPEN + timedelta(minutes=5)
    sweep(traveller, 4)
    assert len(offers(request)) == 1
    sweep(traveller, 1)
    general.refresh_from_db()
    assert general.status == Offer.Status.PENDING  # still open
    assert general.widened_at == OPEN + timedelta(minutes=5)
    mass = offers(request, kind=Offer.Kind.MASS)
    assert [offer.helper for offer in mass] == others[:3]  # K = 3, best first
    assert {offer.round for offer in mass} == {2}
    request.refresh_from_db()
    assert request.rounds == 2
    # Widened once: later sweeps add nothing.
    sweep(traveller, 1)
    assert len(offers(request)) == 4


def test_a_general_helper_beaten_to_it_by_the_mass_round_is_not_charged_a_miss(traveller):
    general_helper = ready_helper(home=NEAR, consecutive_misses=1)
    [ready_helper(home=away(10 + n)) for n in range(3)]
    request = submit()
    sweep(traveller, 5)
    mass = offers(request, kind=Offer.Kind.MASS)
    traveller.shift(timedelta(minutes=2))
    accept(mass[1])
    [general] = offers(request, kind=Offer.Kind.GENERAL)
    assert general.status == Offer.Status.RESCINDED
    assert not general.counted_miss
    sweep(traveller, 20)  # past the General offer's 15 minutes: nothing left to expire
    general_helper.refresh_from_db()
    assert general_helper.consecutive_misses == 1
    assert general_helper.is_available
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.IN_PROGRESS
    assert request.accepted_helper == mass[1].helper


def test_the_general_helper_can_still_win_after_widening(traveller):
    general_helper = ready_helper(home=NEAR)
    [ready_helper(home=away(10 + n)) for n in range(3)]
    request = submit()
    sweep(traveller, 6)
    [general] = offers(request, kind=Offer.Kind.GENERAL)
    accept(general)
    request.refresh_from_db()
    assert request.accepted_helper == general_helper
    assert {offer.status for offer in offers(request, kind=Offer.Kind.MASS)} == {Offer.Status.RESCINDED}


def test_a_widened_general_offer_that_times_out_is_still_a_miss_and_routing_goes_on(traveller):
    general_helper = ready_helper(home=NEAR)
    [ready_helper(home=away(10 + n)) for n in range(5)]
    request = submit()
    sweep(traveller, 5)
    sweep(traveller, 10)  # minute 15: the General offer expires; the Mass round has 5 minutes left
    [general] = offers(request, kind=Offer.Kind.GENERAL)
    assert general.status == Offer.Status.EXPIRED
    assert general.counted_miss
    general_helper.refresh_from_db()
    assert general_helper.consecutive_misses == 1
    assert len(offers(request, round=3)) == 0  # the Mass round is still in flight
    sweep(traveller, 5)  # minute 20: the Mass round expires, the next goes out
    assert len(offers(request, round=3)) == 2  # the two helpers left


def test_without_the_lever_a_general_offer_is_never_widened(traveller, settings):
    settings.ONDEMAND_WIDEN_AFTER_MINUTES = 0
    ready_helper(home=NEAR)
    [ready_helper(home=away(10 + n)) for n in range(3)]
    request = submit()
    [general] = offers(request)
    assert general.widen_at is None
    sweep(traveller, 10)
    assert offers(request) == [general]


# --- 3. Time to dial --------------------------------------------------------------------------------


def test_the_accepted_helper_is_reminded_at_minute_20_if_no_call_is_logged(traveller):
    helper = ready_helper()
    request = submit()
    traveller.shift(timedelta(minutes=2))
    accept(offers(request)[0])
    request.refresh_from_db()
    assert request.dial_remind_at == OPEN + timedelta(minutes=20)
    before = OutboundMessage.objects.filter(template="ondemand/help_request_dial_reminder").count()
    sweep(traveller, 17)  # minute 19
    assert OutboundMessage.objects.filter(template="ondemand/help_request_dial_reminder").count() == before
    mail.outbox.clear()
    sweep(traveller, 1)  # minute 20
    request.refresh_from_db()
    assert request.dial_reminded_at == OPEN + timedelta(minutes=20)
    reminders = OutboundMessage.objects.filter(template="ondemand/help_request_dial_reminder")
    assert sorted(reminders.values_list("channel", flat=True)) == ["email", "sms"]
    [email] = [message for message in mail.outbox if helper.email in message.to]
    assert "ZIP code 40601" in email.body
    assert "10:30" in email.body  # the call-by time on the helper's clock
    assert "Maria" not in email.body  # no personal data
    sweep(traveller, 5)
    assert reminders.count() == 2  # once


def test_no_reminder_once_a_call_is_logged(traveller):
    helper = ready_helper()
    request = submit()
    accept(offers(request)[0])
    traveller.shift(timedelta(minutes=12))
    help_requests.call_attempt_log(
        help_request_id=request.pk, helper=helper, result=CallAttempt.Result.NO_ANSWER
    )
    sweep(traveller, 10)
    request.refresh_from_db()
    assert request.dial_reminded_at is None
    assert not OutboundMessage.objects.filter(template="ondemand/help_request_dial_reminder").exists()


def test_the_reminder_of_a_request_closed_without_a_call_is_dropped(traveller):
    helper = ready_helper()
    request = submit()
    accept(offers(request)[0])
    traveller.shift(timedelta(minutes=10))
    help_requests.help_request_complete(
        help_request_id=request.pk, helper=helper, outcome=HelpRequest.Outcome.UNABLE_TO_REACH
    )
    sweep(traveller, 10)  # minute 20
    request.refresh_from_db()
    assert (request.dial_remind_at, request.dial_reminded_at) == (None, None)
    assert not OutboundMessage.objects.filter(template="ondemand/help_request_dial_reminder").exists()


def test_a_helper_holding_an_accepted_request_not_yet_called_gets_no_new_general_offer(traveller):
    holder = ready_helper(home=NEAR)
    other = ready_helper(home=away(30))
    first = submit()
    accept(offers(first)[0])
    traveller.shift(timedelta(minutes=1))
    second = submit(phone="(502) 555-0124")
    [offer] = offers(second)
    assert offer.helper == other  # the nearer helper holds a request not yet called
    # Once the call is logged, the holder is free again for a General offer.
    help_requests.call_attempt_log(
        help_request_id=first.pk, helper=holder, result=CallAttempt.Result.NO_ANSWER
    )
    third = submit(phone="(502) 555-0125")
    [offer] = offers(third)
    assert offer.helper == holder


# --- 4. Capacity ------------------------------------------------------------------------------------


def _shift_until(helper: Helper, *, end_minute: int) -> None:
    """Tuesday only, 8:00 until `end_minute` (Eastern)."""
    ScheduleWindow.objects.filter(helper=helper).delete()
    ScheduleWindow.objects.create(helper=helper, weekday=1, start_minute=8 * 60, end_minute=end_minute)


def test_the_general_offer_skips_a_helper_whose_schedule_ends_within_20_minutes(traveller):
    ending = ready_helper(home=NEAR, all_week=False)
    _shift_until(ending, end_minute=10 * 60 + 15)  # now 10:00: ends in 15 minutes
    staying = ready_helper(home=away(40), all_week=False)
    _shift_until(staying, end_minute=10 * 60 + 30)  # ends in 30 minutes
    request = submit()
    [offer] = offers(request)
    assert offer.helper == staying
    # In a Mass round (here the widening at minute 5) the helper whose shift ends soon may still take it.
    sweep(traveller, 5)
    [mass] = offers(request, kind=Offer.Kind.MASS)
    assert mass.helper == ending


def test_the_general_offer_skips_a_helper_on_a_call_and_mass_rounds_take_them_only_when_nobody_is_free(
    traveller,
):
    calling = ready_helper(home=NEAR)
    first = submit()
    accept(offers(first)[0])
    help_requests.call_attempt_log(
        help_request_id=first.pk, helper=calling, result=CallAttempt.Result.REACHED
    )
    # Nobody else: the next request waits rather than go to a helper on a call.
    second = submit(phone="(502) 555-0124")
    assert offers(second) == []
    free = [ready_helper(home=away(40 + n)) for n in range(2)]
    sweep(traveller, 1)
    [general] = offers(second)
    assert general.helper == free[0]
    sweep(traveller, 5)  # widened: only to the free helper, though the one on a call is nearest
    [mass] = offers(second, kind=Offer.Kind.MASS)
    assert mass.helper == free[1]
    accept(mass)
    # The call over (the request completed), the helper is free for a General offer again.
    help_requests.help_request_complete(
        help_request_id=first.pk, helper=calling, outcome=HelpRequest.Outcome.ENROLLED
    )
    third = submit(phone="(502) 555-0125")
    [offer] = offers(third)
    assert offer.helper == calling


def test_with_nobody_free_a_mass_round_goes_to_helpers_on_a_call_or_holding_a_request(traveller):
    calling = ready_helper(home=NEAR)
    first = submit()
    accept(offers(first)[0])
    help_requests.call_attempt_log(
        help_request_id=first.pk, helper=calling, result=CallAttempt.Result.REACHED
    )
    holder = ready_helper(home=away(5))
    second = submit(phone="(502) 555-0124")
    accept(offers(second)[0])
    free = ready_helper(home=away(60))
    third = submit(phone="(502) 555-0125")
    [general] = offers(third)
    assert general.helper == free
    sweep(traveller, 5)  # widened: nobody else is free, so the busy helpers have it (better than waiting)
    mass = offers(third, kind=Offer.Kind.MASS)
    assert {offer.helper for offer in mass} == {calling, holder}
    assert all(offer.score_parts["busy"] is True for offer in mass)


def test_without_the_levers_busy_helpers_get_general_offers(traveller, settings):
    settings.ONDEMAND_CAPACITY_MINUTES = 0
    settings.ONDEMAND_DIAL_REMINDER_MINUTES = 0
    helper = ready_helper(home=NEAR)
    first = submit()
    accept(offers(first)[0])
    second = submit(phone="(502) 555-0124")
    [offer] = offers(second)
    assert offer.helper == helper
    assert "busy" not in offer.score_parts
