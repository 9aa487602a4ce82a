"""The routing simulation (bench/ondemand_sim.py) in a tiny configuration, in the test database: its
figures must add up, whatever the routing code decides. No wall-clock assertions."""

from __future__ import annotations

import importlib.util
import itertools
import math
import random
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from kynect.ondemand.models import Helper, HelpRequest, Offer

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[3] / "bench" / "ondemand_sim.py"
TODAY = "General then Mass, K=5 (today)"
MASS_FIRST = "Mass first, K=5 (comparison)"
PLATFORM = "Platform defaults"


@pytest.fixture(scope="module")
def sim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ondemand_sim", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ondemand_sim"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def named(sim, name):
    return next(scenario for scenario in sim.SCENARIOS if scenario.name == name)


@pytest.mark.parametrize(
    ("name", "drain_minutes"),
    [(TODAY, 30), (MASS_FIRST, 30), (PLATFORM, None)],
    ids=["general-then-mass", "mass-first", "platform-defaults-until-settled"],
)
def test_a_tiny_day_adds_up(sim, name, drain_minutes, settings):
    # Kept small: every helper serves the whole state (so few requests wait), and a waiting request is
    # looked at again every 5 minutes rather than every minute.
    settings.ONDEMAND_ROUTE_RETRY_SECONDS = 300
    model = sim.Model(agent_statewide=1.0, kynector_statewide=1.0)
    chosen = named(sim, name)
    result = sim.simulate(
        scenario=chosen,
        rate=12,
        helpers=10,
        hours=0.5,
        seed=11,
        replication=0,
        model=model,
        drain_minutes=drain_minutes,
    )

    # Every request was submitted through the service and ends in one of the platform's states.
    assert result.requests == HelpRequest.objects.count() > 0
    assert set(result.states) <= set(HelpRequest.Status.values)
    assert sum(result.states.values()) == result.requests
    assert result.unserved == HelpRequest.objects.filter(status=HelpRequest.Status.UNSERVED).count()
    assert result.unserved_share == pytest.approx(result.unserved / result.requests)
    # Offers: every one is counted once, in a known status; each request has at most one accepted.
    assert set(result.offers_by_status) <= set(Offer.Status.values)
    assert sum(result.offers_by_status.values()) == result.offers == Offer.objects.count()
    assert result.offers_per_request == pytest.approx(result.offers / result.requests)
    accepted = result.offers_by_status.get(Offer.Status.ACCEPTED, 0)
    worked = result.states.get("in_progress", 0) + result.states.get("complete", 0)
    assert accepted == worked == sum(result.assignments) == result.accepted
    assert len(result.assignments) == result.helpers == 10
    # Accepted on the General offer: a part of the accepted requests, and a smaller part of all.
    general_accepted = Offer.objects.filter(status=Offer.Status.ACCEPTED, kind=Offer.Kind.GENERAL).count()
    assert result.general_accepted == general_accepted <= result.accepted
    assert 0 <= result.general_accepted_share <= 1
    assert result.general_accepted_share == pytest.approx(general_accepted / max(result.accepted, 1))
    assert result.general_accepted_of_all == pytest.approx(general_accepted / result.requests)
    assert result.general_accepted_of_all <= result.general_accepted_share
    # Contact: only a request someone accepted is contacted, and within 30 minutes is a part of that.
    assert result.contacted <= worked
    assert 0 <= result.contacted_in_30 <= result.contacted / result.requests <= 1
    assert result.never_contacted_share == pytest.approx(1 - result.contacted / result.requests)
    # Nobody cancels and a request is completed only after a call: a request never contacted is
    # Unserved, or was still open (Pending, or In Progress with no call) when the run stopped.
    still_open = (
        HelpRequest.objects.filter(status=HelpRequest.Status.PENDING).count()
        + HelpRequest.objects.filter(
            status=HelpRequest.Status.IN_PROGRESS, first_contact_at__isnull=True
        ).count()
    )
    assert result.unresolved == still_open
    assert result.requests - result.contacted == result.unserved + result.unresolved
    assert result.never_contacted_share >= result.unserved_share
    assert 0 <= result.missed_offer_rate <= 1
    assert 0 <= result.gini <= 1
    assert result.first_contact_p50 <= result.first_contact_p90 <= result.first_contact_p99
    if result.contacted == result.requests:
        assert not math.isinf(result.first_contact_p99)
    # Misses: only General offers are misses; mass first has none, so nobody is de-registered for them.
    assert result.faq_misses <= result.general_offers
    assert result.faq_misses_per_helper == pytest.approx(result.faq_misses / 10)
    deregistered = Helper.objects.filter(status=Helper.Status.DEREGISTERED).count()
    assert result.deregistrations == deregistered
    if chosen.settings.get("ONDEMAND_ROUTING_STRATEGY") == "mass_first":
        assert result.general_offers == result.faq_misses == result.deregistrations == 0
        assert result.general_accepted == 0
    else:
        assert result.general_offers >= min(result.requests, 1)
    # The day's end: never past the cap; by default it runs until every request is settled.
    arrivals_end = sim.DAY_OPENS + timedelta(hours=0.5)
    ended = sim.DAY_OPENS + timedelta(minutes=result.minutes)
    if drain_minutes is not None:
        assert ended <= arrivals_end + timedelta(minutes=drain_minutes)
    else:
        waiting = settings.ONDEMAND_WAITING_LIMIT_MINUTES
        assert ended <= arrivals_end + timedelta(minutes=waiting + sim.DRAIN_MARGIN_MINUTES)
        assert result.unresolved == 0
        assert result.requests - result.contacted == result.unserved
        # Every request is then due, so the state dashboard's "called back within 30 minutes", read by its
        # own selector, is the simulation's figure.
        assert result.dashboard_on_time == pytest.approx(result.contacted_in_30)


def test_gini_and_percentile(sim):
    assert sim.gini([0, 0, 0]) == 0
    assert sim.gini([2, 2, 2, 2]) == 0
    assert sim.gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert sim.percentile([1.0, 2.0, 3.0, math.inf], 0.5) == pytest.approx(2.5)
    assert math.isinf(sim.percentile([1.0, math.inf], 0.9))


def test_the_last_line(sim):
    assert sim.contacted_line(0.934) == "contacted within 30 minutes: 93.4 %"
    assert sim.contacted_line(1.0) == "contacted within 30 minutes: 100.0 %"
    assert sim.contacted_line(0.0) == "contacted within 30 minutes: 0.0 %"


def test_scenarios_selection_always_keeps_platform_defaults(sim):
    names = lambda chosen: [scenario.name for scenario in sim.scenarios_select(chosen)]  # noqa: E731
    assert names([]) == [scenario.name for scenario in sim.SCENARIOS]
    assert names(["Mass, K=3"]) == ["General then Mass, K=3", PLATFORM]
    assert names(["k=5"]) == [TODAY, MASS_FIRST, PLATFORM]
    assert names(["0"]) == [TODAY, PLATFORM]
    assert names(["platform"]) == [PLATFORM]  # chosen, and not twice
    assert names(["nudge effect 0", "1"]) == [
        "General then Mass, K=3",
        "All four levers, nudge effect 0",
        PLATFORM,
    ]
    with pytest.raises(ValueError, match="no scenario"):
        sim.scenarios_select(["K=4"])
    with pytest.raises(ValueError, match="no scenario"):
        sim.scenarios_select([str(len(sim.SCENARIOS))])


def test_scenarios_set_the_levers_and_platform_defaults_sets_none(sim):
    # Every scenario but Platform defaults names each routing setting, so the platform's own defaults
    # (the levers switched on) never leak into "today" or the comparisons.
    platform = sim.scenario_settings(sim.PLATFORM_DEFAULTS)
    assert not set(sim.ROUTING_SETTINGS) & set(platform)
    assert platform == sim.BASE_SETTINGS
    for scenario in sim.SCENARIOS:
        if scenario is not sim.PLATFORM_DEFAULTS:
            assert set(sim.ROUTING_SETTINGS) <= set(sim.scenario_settings(scenario)), scenario.name
    today = sim.scenario_settings(named(sim, TODAY))
    assert today["ONDEMAND_MASS_SIZE"] == 5
    assert today["ONDEMAND_ROUTING_STRATEGY"] == "general_then_mass"
    assert all(today[name] == 0 for name in sim.LEVERS_OFF)
    widening = sim.scenario_settings(named(sim, "Lever 2 alone: widening at 3 minutes"))
    assert {name: widening[name] for name in sim.LEVERS_OFF} == {
        **sim.LEVERS_OFF,
        "ONDEMAND_WIDEN_AFTER_MINUTES": 3,
    }
    no_nudge = named(sim, "All four levers, nudge effect 0")
    assert no_nudge.settings == named(sim, "All four levers, widening at 3 minutes").settings
    assert no_nudge.model == {"dial_nudge_response": 0.0}


def test_the_day_ends_inside_service_hours(sim):
    # 4 hours of arrivals from 09:00 and the default drain (waiting limit 240 + 60 minutes): 18:00.
    ends = sim.day_end(hours=4, drain_minutes=None, waiting_limit_minutes=240)
    assert ends == sim.DAY_OPENS.replace(hour=18)
    assert sim.day_end(hours=sim.MAX_HOURS, drain_minutes=None, waiting_limit_minutes=240) == sim.DAY_CLOSES
    assert sim.day_end(hours=0.5, drain_minutes=30, waiting_limit_minutes=240) == sim.DAY_OPENS.replace(
        hour=10
    )
    with pytest.raises(ValueError, match="hours must be"):
        sim.day_end(hours=sim.MAX_HOURS + 0.5, drain_minutes=0, waiting_limit_minutes=240)
    with pytest.raises(ValueError, match="after service hours end"):
        sim.day_end(hours=4, drain_minutes=None, waiting_limit_minutes=480)


def test_a_reminded_call_comes_forward_and_the_others_move_behind_it(sim):
    # The helper's queue of calls and the action heap, without a database: a Simulation's bare state.
    simulation = object.__new__(sim.Simulation)
    simulation.now = sim.DAY_OPENS
    simulation.actions, simulation.sequence, simulation.planned_calls = [], itertools.count(), {}
    person = sim.SimHelper(pk="h", respond=1.0, delay_median=3.0, rng=random.Random(1))
    at = lambda minutes: sim.DAY_OPENS + timedelta(minutes=minutes)  # noqa: E731

    def plan(request_id, ready, minutes):
        call = sim.PlannedCall(
            request_id=request_id, attempt=1, reached=True, minutes=minutes, ready=at(ready)
        )
        person.queue.append(call)
        simulation.calls_lay_out(person)
        return call

    first, second, third = plan("a", 1, 10), plan("b", 2, 10), plan("c", 3, 10)
    assert [c.starts for c in (first, second, third)] == [at(1), at(11), at(21)]
    assert person.busy_until == at(31)
    # Reminded at minute 0 and dialling at minute 4: "a" (from minute 1) goes on first, "c" goes next.
    assert simulation.call_bring_forward(person, third, at(4))
    assert [c.request_id for c in person.queue] == ["a", "c", "b"]
    assert [c.starts for c in person.queue] == [at(1), at(11), at(21)]
    assert person.busy_until == at(31)
    # Only the current entry of each call is acted on: the re-planned ones made the old entries stale.
    live = sorted((entry[0], entry[3][0]) for entry in simulation.actions if not simulation.stale(entry))
    assert live == [(at(1), "a"), (at(11), "c"), (at(21), "b")]
    assert len(simulation.actions) == 5
    # A call already planned sooner than the reminder's dial is left alone.
    assert not simulation.call_bring_forward(person, first, at(2))
    assert first.starts == at(1)
