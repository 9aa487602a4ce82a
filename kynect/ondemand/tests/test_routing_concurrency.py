"""Routing under concurrency and crashes (DESIGN §5.6): one winner among many accepts, never two pending
offers for a helper, and a sweeper that dies mid-batch loses and doubles nothing when run again."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.test import Client

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.core.tests.concurrency import in_threads, postgresql_only
from kynect.notifications.models import OutboundMessage
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand import messages
from kynect.ondemand.models import Helper, HelpRequest, Offer
from kynect.ondemand.services import offers as offer_services
from kynect.ondemand.services import sweeps
from kynect.ondemand.services.deregistration import helper_agency_active_set
from kynect.ondemand.services.help_requests import help_request_submit
from kynect.ondemand.tests.factories import ready_helper

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 1000


def submit_only(number: int = 0, **overrides: Any) -> HelpRequest:
    """A request submitted and not yet routed."""
    values: dict[str, Any] = {
        "name": "Maria Lopez",
        "phone": f"(502) 555-{number:04d}",
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
    return help_request_submit(**values).help_request


def submit(number: int = 0, **overrides: Any) -> HelpRequest:
    """A request submitted and routed, as the workers' routing loop does next."""
    request = submit_only(number, **overrides)
    offer_services.help_request_route(help_request_id=request.pk)
    return request


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_fifty_helpers_accepting_one_mass_round_at_once_yield_exactly_one_winner(settings):
    settings.ONDEMAND_MASS_SIZE = 50
    settings.ONDEMAND_ROUTING_STRATEGY = "mass_first"
    helpers = [ready_helper() for _ in range(50)]
    with time_machine.travel(OPEN, tick=False):
        request = submit()
        offers = list(Offer.objects.filter(help_request=request))
        assert len(offers) == 50
        assert {offer.kind for offer in offers} == {Offer.Kind.MASS}
        by_helper = {offer.helper_id: offer for offer in offers}

        def accept(i: int) -> Any:
            helper = helpers[i]
            return offer_services.offer_accept(
                offer_id=by_helper[helper.pk].pk, helper=helper, via=Offer.Via.DESKTOP
            )

        results = in_threads(50, accept)
    winners = [result for result in results if isinstance(result, Offer)]
    losers = [result for result in results if isinstance(result, offer_services.OfferClosedError)]
    assert len(winners) == 1, results
    assert len(losers) == 49, [
        r for r in results if not isinstance(r, (Offer, offer_services.OfferClosedError))
    ]
    assert {loser.code for loser in losers} == {"taken"}
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.IN_PROGRESS
    assert request.accepted_helper_id == winners[0].helper_id
    statuses = Counter(Offer.objects.filter(help_request=request).values_list("status", flat=True))
    assert statuses == {Offer.Status.ACCEPTED: 1, Offer.Status.RESCINDED: 49}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_requests_routed_at_once_never_give_a_helper_two_pending_offers():
    helpers = [ready_helper() for _ in range(3)]
    with time_machine.travel(OPEN, tick=False):
        requests = [submit_only(7000 + i) for i in range(8)]
        # None has been routed yet (that is the routing loop's work): route all eight at the same moment.
        assert not Offer.objects.exists()
        results = in_threads(8, lambda i: offer_services.help_request_route(help_request_id=requests[i].pk))
    assert all(isinstance(result, offer_services.RouteResult) for result in results), results
    pending = Counter(Offer.objects.filter(status=Offer.Status.PENDING).values_list("helper_id", flat=True))
    assert set(pending) == {helper.pk for helper in helpers}
    assert set(pending.values()) == {1}
    waiting = HelpRequest.objects.filter(rounds=0, route_at__isnull=False).count()
    assert waiting == 5


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_four_routing_loops_at_once_route_each_request_once():
    helpers = [ready_helper() for _ in range(30)]
    with time_machine.travel(OPEN, tick=False):
        requests = [submit_only(7100 + i) for i in range(24)]
        routed = in_threads(4, lambda _i: sweeps.help_requests_route(limit=24))
    assert all(isinstance(count, int) for count in routed), routed
    assert sum(routed) == 24  # each request claimed by exactly one loop
    offers = Offer.objects.filter(help_request__in=requests)
    assert Counter(offers.values_list("help_request_id", flat=True)) == Counter({r.pk: 1 for r in requests})
    assert set(offers.values_list("kind", flat=True)) == {Offer.Kind.GENERAL}
    assert len(set(offers.values_list("helper_id", flat=True))) == 24  # no helper offered two at once
    assert {h.pk for h in helpers} >= set(offers.values_list("helper_id", flat=True))
    assert not HelpRequest.objects.filter(route_at__isnull=False).exists()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_expire_each_offer_once():
    for _ in range(12):
        ready_helper()
    with time_machine.travel(OPEN, tick=False) as traveller:
        for i in range(12):
            submit(i)
        traveller.shift(timedelta(minutes=15))
        now = datetime.now(UTC)
        results = in_threads(2, lambda i: sweeps.offers_expire_sweep(now=now))
    assert sum(results) == 12, results
    assert Offer.objects.filter(kind=Offer.Kind.GENERAL, status=Offer.Status.EXPIRED).count() == 12
    assert sorted(Helper.objects.values_list("consecutive_misses", flat=True)) == [1] * 12
    assert OutboundMessage.objects.filter(template="ondemand/helper_unavailable").count() == 24  # email + SMS


@pytest.mark.django_db(transaction=True)
def test_a_sweeper_killed_mid_batch_and_restarted_loses_and_doubles_nothing():
    for _ in range(10):
        ready_helper()
    with time_machine.travel(OPEN, tick=False) as traveller:
        for i in range(10):
            submit(i)
        traveller.shift(timedelta(minutes=15))
        now = datetime.now(UTC)
        real_notify = messages.helper_unavailable_notify
        calls = {"n": 0}

        def dies_on_the_fourth(*, helper: Helper) -> None:
            calls["n"] += 1
            if calls["n"] == 4:
                # The process dies in the middle of the fourth transition: its transaction never commits.
                raise SystemExit("killed")
            real_notify(helper=helper)

        with (
            mock.patch.object(messages, "helper_unavailable_notify", dies_on_the_fourth),
            pytest.raises(SystemExit),
        ):
            sweeps.offers_expire_sweep(now=now)
        # Three transitions committed; the fourth rolled back whole.
        assert Offer.objects.filter(status=Offer.Status.EXPIRED).count() == 3
        assert Helper.objects.filter(consecutive_misses=1).count() == 3
        # A restarted sweeper does the rest, once.
        assert sweeps.offers_expire_sweep(now=now) == 7
        assert sweeps.offers_expire_sweep(now=now) == 0
    assert Offer.objects.filter(kind=Offer.Kind.GENERAL, status=Offer.Status.EXPIRED).count() == 10
    assert Offer.objects.filter(kind=Offer.Kind.GENERAL, status=Offer.Status.PENDING).count() == 0
    assert sorted(Helper.objects.values_list("consecutive_misses", flat=True)) == [1] * 10
    assert OutboundMessage.objects.filter(template="ondemand/helper_unavailable").count() == 20
    # Each request moved on to its next round exactly once.
    assert set(HelpRequest.objects.values_list("rounds", flat=True)) <= {1, 2}
    assert Offer.objects.filter(kind=Offer.Kind.MASS).values("help_request").distinct().count() == (
        HelpRequest.objects.filter(rounds=2).count()
    )


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_helper_deactivated_while_accepting_either_accepted_first_or_is_refused():
    helper = ready_helper(home=(38.2, -84.87))
    others = {ready_helper(home=(37.9 - i / 10, -84.87)).pk for i in range(3)}
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN, organization=helper.organization)
    membership = MembershipFactory.create(
        user=helper.user, role=Role.KYNECTOR, organization=helper.organization
    )
    with time_machine.travel(OPEN, tick=False):
        request = submit()
        offer = Offer.objects.get(help_request=request)
        assert offer.helper == helper

        def work(i: int) -> Any:
            if i == 0:
                return helper_agency_active_set(actor=admin.user, membership=membership, active=False)
            return offer_services.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.DESKTOP)

        deactivated, accepted = in_threads(2, work)
    assert isinstance(deactivated, Helper), deactivated
    helper.refresh_from_db()
    offer.refresh_from_db()
    request.refresh_from_db()
    assert helper.status == Helper.Status.DEREGISTERED
    if isinstance(accepted, Offer):  # the accept came first; the de-registration then found no offer
        assert offer.status == Offer.Status.ACCEPTED
        assert (request.status, request.accepted_helper_id) == (HelpRequest.Status.IN_PROGRESS, helper.pk)
    else:
        assert isinstance(accepted, offer_services.OfferClosedError), accepted
        assert accepted.code == "not_registered"
        assert offer.status == Offer.Status.RESCINDED
        assert request.status == HelpRequest.Status.PENDING
        rerouted = set(
            Offer.objects.filter(help_request=request, status=Offer.Status.PENDING).values_list(
                "helper_id", flat=True
            )
        )
        assert rerouted == others  # the next round, a Mass one


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_three_link_accepts_by_the_same_helper_at_once_all_go_to_the_passcode(settings):
    settings.SITE_URL = "https://kynect.example"
    helper = ready_helper()
    with time_machine.travel(OPEN, tick=False):
        submit()
        body = next(m.body for m in reversed(LocmemSmsBackend.outbox) if m.to == helper.phone)
        match = re.search(r"https://kynect\.example(/\S*offer/[0-9a-f-]{36}/[\w-]+/)", body)
        assert match, body
        path = match.group(1)
        responses = in_threads(3, lambda i: Client().post(path + "accept/"))
    assert [(r.status_code, r.get("Location")) for r in responses] == [(302, path + "passcode/")] * 3, [
        (r.status_code, r.content.decode()) for r in responses
    ]
    assert Offer.objects.get(helper=helper).status == Offer.Status.ACCEPTED
    assert OutboundMessage.objects.filter(template="ondemand/offer_passcode").count() == 1
