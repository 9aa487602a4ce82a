"""The routing simulation (bench/ondemand_sim.py) in a tiny configuration, in the test database: its
figures must add up, whatever the routing code decides. No wall-clock assertions."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

from kynect.ondemand.models import Helper, HelpRequest, Offer

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[3] / "bench" / "ondemand_sim.py"


@pytest.fixture(scope="module")
def sim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ondemand_sim", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ondemand_sim"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("scenario", [1, 4], ids=["general-then-mass", "mass-first"])
def test_a_tiny_day_adds_up(sim, scenario, settings):
    # Kept small: every helper serves the whole state (so few requests wait), and a waiting request is
    # looked at again every 5 minutes rather than every minute.
    settings.ONDEMAND_ROUTE_RETRY_SECONDS = 300
    model = sim.Model(agent_statewide=1.0, kynector_statewide=1.0)
    chosen = sim.SCENARIOS[scenario]
    result = sim.simulate(
        scenario=chosen, rate=12, helpers=10, hours=0.5, seed=11, replication=0, model=model, drain_minutes=30
    )

    # Every request was submitted through the service and ends in one of the platform's states.
    assert result.requests == HelpRequest.objects.count() > 0
    assert set(result.states) <= set(HelpRequest.Status.values)
    assert sum(result.states.values()) == result.requests
    # Offers: every one is counted once, in a known status; each request has at most one accepted.
    assert set(result.offers_by_status) <= set(Offer.Status.values)
    assert sum(result.offers_by_status.values()) == result.offers == Offer.objects.count()
    accepted = result.offers_by_status.get(Offer.Status.ACCEPTED, 0)
    worked = result.states.get("in_progress", 0) + result.states.get("complete", 0)
    assert accepted == worked == sum(result.assignments)
    assert len(result.assignments) == 10
    # Contact: only a request someone accepted is contacted, and within 30 minutes is a part of that.
    assert result.contacted <= worked
    assert 0 <= result.contacted_in_30 <= result.contacted / result.requests <= 1
    assert 0 <= result.missed_offer_rate <= 1
    assert 0 <= result.gini <= 1
    assert result.first_contact_p50 <= result.first_contact_p90
    if result.contacted == result.requests:
        assert not math.isinf(result.first_contact_p90)
    # Misses: only General offers are misses; mass first has none, so nobody is de-registered for them.
    assert result.faq_misses <= result.general_offers
    deregistered = Helper.objects.filter(status=Helper.Status.DEREGISTERED).count()
    assert result.deregistrations == deregistered
    if chosen.strategy == "mass_first":
        assert result.general_offers == result.faq_misses == result.deregistrations == 0
    else:
        assert result.general_offers >= min(result.requests, 1)


def test_gini_and_percentile(sim):
    assert sim.gini([0, 0, 0]) == 0
    assert sim.gini([2, 2, 2, 2]) == 0
    assert sim.gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert sim.percentile([1.0, 2.0, 3.0, math.inf], 0.5) == pytest.approx(2.5)
    assert math.isinf(sim.percentile([1.0, math.inf], 0.9))
