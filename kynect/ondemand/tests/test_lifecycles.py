"""The timeline of a help request (`HelpRequestEvent`): each transition of the request and of its offers
is recorded in the transaction that made it, with who made it; a transition that loses records nothing."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.ondemand.models import Deregistration, Helper, HelpRequest, HelpRequestEvent, Offer
from kynect.ondemand.services import deregistration, help_requests
from kynect.ondemand.services import offers as offer_services
from kynect.ondemand.tests.conftest import sending
from kynect.ondemand.tests.factories import ready_helper
from kynect.ondemand.tests.test_routing import OPEN, offers, submit, sweep

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_MASS_SIZE = 3
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 100


@pytest.fixture
def traveller():
    with time_machine.travel(OPEN, tick=False) as moving:
        yield moving


def timeline(request: HelpRequest) -> list[tuple[str, str, str, bool]]:
    return [
        (event.transition, event.from_status, event.to_status, event.offer_id is not None)
        for event in HelpRequestEvent.objects.filter(help_request=request).order_by("at", "id")
    ]


def test_reject_accept_rescind_and_complete_are_on_the_timeline_with_their_actor(traveller):
    for i in range(4):
        ready_helper(home=(38.2 - i / 10, -84.87))
    request = submit()
    [general] = offers(request)
    offer_services.offer_reject(offer_id=general.pk, helper=general.helper)
    mass = offers(request, kind=Offer.Kind.MASS)
    winner = mass[0]
    with sending():
        offer_services.offer_accept(offer_id=winner.pk, helper=winner.helper, via=Offer.Via.DESKTOP)
    help_requests.call_attempt_log(help_request_id=request.pk, helper=winner.helper, result="reached")
    help_requests.help_request_complete(help_request_id=request.pk, helper=winner.helper, outcome="applied")
    assert timeline(request) == [
        ("reject", "pending", "rejected", True),
        ("accept", "pending", "in_progress", False),
        ("accept", "pending", "accepted", True),
        ("rescind", "pending", "rescinded", True),
        ("rescind", "pending", "rescinded", True),
        ("complete", "in_progress", "complete", False),
    ]
    events = HelpRequestEvent.objects.filter(help_request=request)
    assert events.get(transition="reject").actor == general.helper.user
    assert {event.actor for event in events.filter(transition="accept")} == {winner.helper.user}
    assert events.get(transition="complete").actor == winner.helper.user
    assert {event.offer_id for event in events.filter(transition="rescind")} == {o.pk for o in mass[1:]}


def test_expiry_abandon_return_unserve_and_cancel_are_recorded(traveller, settings):
    first = ready_helper(home=(38.2, -84.87))
    request = submit()
    with sending():
        offer_services.offer_accept(offer_id=offers(request)[0].pk, helper=first, via=Offer.Via.LINK)
    sweep(traveller, 10)  # the passcode never came: abandoned, the request goes back to Pending
    assert [step[0] for step in timeline(request)] == ["accept", "accept", "abandon", "return"]
    other = submit(phone="(502) 555-0199")
    help_requests.help_request_cancel(help_request=other)
    assert timeline(other) == [("cancel", "pending", "cancelled", False)]
    with pytest.raises(ValidationError):
        help_requests.help_request_cancel(help_request=other)  # the second cancel loses: nothing recorded
    assert len(timeline(other)) == 1
    sweep(traveller, 24 * 60)
    assert timeline(request)[-1] == ("unserve", "pending", "unserved", False)


def test_reassignment_is_recorded_with_the_administrator(traveller):
    helper = ready_helper()
    request = submit()
    with sending():
        offer_services.offer_accept(offer_id=offers(request)[0].pk, helper=helper, via=Offer.Via.DESKTOP)
    state = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None).user
    other = ready_helper(home=(37.9, -84.87))
    with sending():
        help_requests.help_request_reassign(help_request_id=request.pk, actor=state, to_helper=other)
    event = HelpRequestEvent.objects.get(help_request=request, transition="reassign")
    assert (event.from_status, event.to_status, event.actor) == ("in_progress", "in_progress", state)


def test_a_deregistration_is_the_helper_lifecycles_record_and_happens_once(traveller):
    helper = ready_helper()
    assert deregistration.helper_deregister(helper=helper, reason=Helper.DeregistrationReason.HELPER_REQUEST)
    assert helper.status == Helper.Status.DEREGISTERED  # the instance is updated: no refresh needed
    assert not deregistration.helper_deregister(
        helper=helper, reason=Helper.DeregistrationReason.HELPER_REQUEST
    )
    assert list(Deregistration.objects.filter(helper=helper).values_list("reason", flat=True)) == [
        Helper.DeregistrationReason.HELPER_REQUEST
    ]
