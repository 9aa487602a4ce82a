"""Simulation: kynect On Demand routing under load, driving the platform's own routing and timer code.

A discrete-event simulation of one service day. Requesters submit help requests through
`help_requests.help_request_submit`, routed by the workers' routing loop (`sweeps.help_requests_route`); the
sweeper's handlers (`sweeps.SWEEPS`, in the worker's order)
apply every deadline; modelled helpers answer offers through `offers.offer_accept` / `offers.offer_reject`,
log their calls with `help_requests.call_attempt_log`, close the request with
`help_requests.help_request_complete` and switch themselves back on after a miss with
`helpers.helper_availability_set`. Who is eligible,
the score, General and Mass rounds, misses and de-registration are the platform's code, unchanged: this
script only decides what the people do and when. Time is moved with time-machine, so `clock.now()` is
the simulated instant everywhere.

The event loop: the next event is the earliest of the next arrival, the next modelled helper action and
the next deadline in the database, read from the platform's registry of deadlines (`deadlines.DEADLINES`:
for each, the earliest value of its column over its rows, so a deadline added there is followed without
a change here); the clock travels there; due deadlines are swept; new offers (rows created at that
instant) are handed to their helper's model, which decides whether and when to answer; a helper the
platform has just reminded to call (`HelpRequest.dial_reminded_at`) may dial that request sooner.

The day's end: arrivals stop after `--hours`; the day then runs on until what becomes of every request is
known: none Pending and none In Progress without a first contact (every request closed, as Complete,
Cancelled or Unserved, or at least contacted). A Pending request is closed as Unserved at the waiting
limit (ONDEMAND_WAITING_LIMIT_MINUTES, 240, from its clock start), so this comes by itself; as a safety,
the run stops at the latest the waiting limit + 60 minutes after the arrivals end, and a request still
open then counts as never contacted. Arrivals start at 09:00 Eastern and service hours end at 20:00:
the arrivals and that cap must fit in between, so MAX_HOURS is 6 (09:00 + 6 hours + 300 minutes = 20:00);
a longer waiting limit needs fewer hours (the run refuses a day that would end after closing time).

Scenarios (SCENARIOS; `--scenarios` picks some by name, or part of a name, or index): each is a set of
settings overrides merged over the simulation's base (service hours, no per-client limit, in-memory mail
and text backends), and overrides of the modelled people (`Model`) when it needs them:

- "General then Mass, K=5 (today)": the routing before the four levers of the 30-minute promise, all
  four off (0): ONDEMAND_RESPONSIVENESS_WEIGHT (the score weighs each helper's responsiveness),
  ONDEMAND_WIDEN_AFTER_MINUTES (a Mass round of K beside a General offer unanswered after M minutes),
  ONDEMAND_DIAL_REMINDER_MINUTES (the accepted helper reminded to call at minute N of the clock, and no
  new General offer to a helper holding an accepted request not yet called) and
  ONDEMAND_CAPACITY_MINUTES (the General offer skips helpers on a call or near the end of their shift);
- K = 3 and K = 8 (levers off); for comparison only, General without Mass
  (ONDEMAND_ROUTING_STRATEGY="general_only") and Mass first ("mass_first", which bypasses the On Demand
  FAQ's miss rule and so is not a candidate default);
- each lever alone on today's routing (weight 1.0; widening at 5 minutes; reminder at 20; capacity 20);
- all four together, widening at 3 or at 5 minutes; and all four with the reminder's effect on helpers
  set to zero (Model.dial_nudge_response = 0), to tell the reminder's effect from the rest of lever 3;
- "Platform defaults": no overrides at all, whatever config/settings.py says. It is always run.

Each at 40 and 90 requests an hour, with the same helpers and the same requesters in every scenario of a
replication (common random numbers).

Measures per scenario (a replication is one simulated day; mean ± standard deviation over replications):
contacted within 30 minutes (share of all requests), time to first contact at the 50th, 90th and 99th
percentiles (over all requests, one never contacted counting as never), offers per request, FAQ misses
(General offers that expired) per day and per helper per day, de-registrations per day, the share of
accepted requests whose accepted offer was the General one (and that share of all requests), Unserved
and never contacted (shares of all requests), with the missed-offer rate, the Gini coefficient of
accepted requests per helper and messages per request. The last line of the output is
`contacted within 30 minutes: NN.N %` for "Platform defaults" at the first rate given.

The model, its parameters and the results: docs/ondemand-routing-simulation.md. Run from the project
folder:

    .venv/bin/python bench/ondemand_sim.py --hours 4 --replications 3 --rates 40   # the doc's tables
    .venv/bin/python bench/ondemand_sim.py --hours 2 --replications 2 --rates 90
    .venv/bin/python bench/ondemand_sim.py --hours 1 --replications 1 --rates 40 --scenarios "K=5"
    .venv/bin/python bench/ondemand_sim.py --quick      # 1 replication of half an hour: a smoke run
    .venv/bin/python bench/ondemand_sim.py --quick --database postgres://postgres@127.0.0.1:5432/kynect_sim

Without options: 3 replications of a 4-hour day at both rates and every scenario, which takes hours on
2 cores (every routing attempt is the real code, and a waiting request is looked at again every minute
until it is accepted or Unserved).

With no --database, a new SQLite file in a temporary folder is used and deleted afterwards; a PostgreSQL
database named in --database is dropped and created again, so point it at a throwaway name. Every
replication runs inside one transaction that is rolled back, so each starts from an empty database
(and no outbox message is ever sent: the simulation is about routing). kynect/ondemand/tests/
test_simulation.py runs `simulate` inside the test database's transaction in the same way.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from kynect.ondemand.models import Helper, HelpRequest

ROOT = Path(__file__).resolve().parent.parent
EASTERN = ZoneInfo("America/New_York")
# Tuesday 24 November 2026 (no holiday, no clock change that week); service opens at 8:00 and arrivals
# start at 9:00 Eastern, when helpers in Central time have started too.
DAY_OPENS = datetime(2026, 11, 24, 9, 0, tzinfo=EASTERN)
SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00,thu=08:00-20:00,fri=08:00-20:00"
DAY_CLOSES = datetime(2026, 11, 24, 20, 0, tzinfo=EASTERN)  # the end of service hours that day
# After the arrivals end the day runs on until no request is Pending or In Progress without a first
# contact, but at most the waiting limit (ONDEMAND_WAITING_LIMIT_MINUTES, from its clock start a Pending
# request is Unserved) + DRAIN_MARGIN_MINUTES: past that, a request still open counts as never contacted.
DRAIN_MARGIN_MINUTES = 60
# Arrivals and the drain must both stay inside service hours (DAY_OPENS to DAY_CLOSES): with the default
# waiting limit, 09:00 + 6 hours + (240 + 60) minutes = 20:00. A longer waiting limit needs fewer hours
# of arrivals (`day_end` refuses a day that would run past DAY_CLOSES).
MAX_HOURS = 6
RATES = (40, 90)
HELPERS = 60

# Approximate 2020 census populations (thousands) of Kentucky's largest counties; the other counties
# share the rest of the state's 4,506 thousand equally. Requesters' and helpers' homes follow them.
KENTUCKY_THOUSANDS = 4506
COUNTY_THOUSANDS = {
    "Jefferson": 782, "Fayette": 322, "Kenton": 169, "Boone": 136, "Warren": 134, "Hardin": 111,
    "Daviess": 103, "Campbell": 93, "Madison": 92, "Bullitt": 82, "Christian": 73, "Oldham": 67,
    "McCracken": 67, "Pulaski": 65, "Laurel": 62, "Pike": 58, "Scott": 57, "Jessamine": 52,
    "Franklin": 51, "Boyd": 48, "Shelby": 48, "Nelson": 46, "Hopkins": 45, "Henderson": 45,
    "Barren": 44, "Clark": 37, "Calloway": 37, "Whitley": 36, "Floyd": 36, "Boyle": 31,
}  # fmt: skip
OTHER_LANGUAGES = ("ar", "fr", "ne", "so", "sw", "vi", "zh")


@dataclass(frozen=True)
class Model:
    """What the people do. Times are minutes; a log-normal is given by its median and sigma."""

    # Requesters.
    language_es: float = 0.08  # Spanish; another language (OTHER_LANGUAGES, equally) below; else English
    language_other: float = 0.04
    program_qhp: float = 0.35  # Qualified Health Plan; Medicaid/KCHIP below; else "not sure"
    program_medicaid: float = 0.45
    contact_email: float = 0.10  # preferred contact by email; by text below; else by phone call
    contact_text: float = 0.30
    # Helpers: role, programs, languages, where they serve.
    agent_share: float = 0.45  # insurance agents; agency admins below; else kynectors
    agency_admin_share: float = 0.10
    agent_also_medicaid: float = 0.30  # agents always help with QHP
    kynector_also_qhp: float = 0.80  # kynectors and agency admins always help with Medicaid/KCHIP
    helper_es: float = 0.15
    helper_other_language: float = 0.05
    # Serve all 120 counties (agents, licensed statewide, often work by phone); the others serve the
    # counties whose centre is within the radius of their home, and their home county.
    agent_statewide: float = 0.50
    kynector_statewide: float = 0.10
    serve_radius_miles: float = 60.0
    off_on_the_day: float = 0.15  # work Monday, Wednesday and Friday only (not the simulated Tuesday)
    # Answering offers: each helper has a response probability drawn from one of two groups.
    engaged_share: float = 0.80
    engaged_beta: tuple[float, float] = (8.0, 2.0)  # mean 0.80
    disengaged_beta: tuple[float, float] = (2.0, 3.0)  # mean 0.40
    delay_median_range: tuple[float, float] = (2.0, 6.0)  # each helper's median, uniform in this range
    delay_sigma: float = 0.8
    reminder_response: float = 0.35  # a General offer ignored at first is answered after the reminder
    reminder_delay_median: float = 2.0
    accept_share: float = 0.85  # an answer is an accept, else a reject
    busy_defers: float = 0.5  # a helper on a call when offered looks only after the call
    # After a miss (the platform sets them unavailable): switch back on, after a delay, or stay off.
    comeback_share: float = 0.85
    comeback_median: float = 20.0
    comeback_sigma: float = 0.7
    # Working an accepted request.
    call_delay_median: float = 4.0  # from accept (or the end of the current call) to the first dial
    call_delay_sigma: float = 0.6
    # The platform's reminder to call (lever 3, ONDEMAND_DIAL_REMINDER_MINUTES): a helper who has not
    # dialled the reminded request yet and is not on a call then dials it sooner with this probability,
    # after a log-normal delay of this median (sigma: call_delay_sigma), if that is sooner than planned.
    dial_nudge_response: float = 0.5
    dial_nudge_delay_median: float = 1.0
    reached_first: float = 0.80  # the first attempt reaches the resident; else a second attempt later
    reached_second: float = 0.50
    retry_after: float = 15.0
    failed_call_minutes: float = 2.0
    call_median: float = 15.0
    call_sigma: float = 0.5


# The four levers of the 30-minute promise, each off at 0: the routing before them ("today").
LEVERS_OFF: dict[str, Any] = {
    "ONDEMAND_RESPONSIVENESS_WEIGHT": 0.0,  # 1: the score weighs the helper's measured responsiveness
    "ONDEMAND_WIDEN_AFTER_MINUTES": 0,  # 2: a Mass round of K beside a General offer unanswered at M
    "ONDEMAND_DIAL_REMINDER_MINUTES": 0,  # 3: remind the accepted helper to call at minute N of the clock
    "ONDEMAND_CAPACITY_MINUTES": 0,  # 4: the General offer skips helpers on a call or ending their shift
}
ROUTING_SETTINGS = ("ONDEMAND_ROUTING_STRATEGY", "ONDEMAND_MASS_SIZE", *LEVERS_OFF)


@dataclass(frozen=True, eq=False)
class Scenario:
    """Settings overrides merged over the simulation's base (`scenario_settings`), and overrides of the
    modelled people (`Model` fields). With no settings at all, the platform's own (config/settings.py)
    decide: that is "Platform defaults". An override of a setting the platform does not have is unused."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    candidate: bool = True  # a possible default (mass_first bypasses the miss rule; general_only has no K)


def today(*, mass_size: int = 5, strategy: str = "general_then_mass", **levers: Any) -> dict[str, Any]:
    """The routing before the levers (strategy, K, the four levers off), with the `levers` given set."""
    unknown = set(levers) - set(LEVERS_OFF)
    if unknown:
        raise ValueError(f"not a lever: {', '.join(sorted(unknown))}")
    return {
        "ONDEMAND_ROUTING_STRATEGY": strategy,
        "ONDEMAND_MASS_SIZE": mass_size,
        **LEVERS_OFF,
        **levers,
    }


def all_levers(widen_after: int, mass_size: int = 5) -> dict[str, Any]:
    return today(
        mass_size=mass_size,
        ONDEMAND_RESPONSIVENESS_WEIGHT=1.0,
        ONDEMAND_WIDEN_AFTER_MINUTES=widen_after,
        ONDEMAND_DIAL_REMINDER_MINUTES=20,
        ONDEMAND_CAPACITY_MINUTES=20,
    )


PLATFORM_DEFAULTS = Scenario("Platform defaults")  # whatever config/settings.py says, read at run time
SCENARIOS = (
    Scenario("General then Mass, K=5 (today)", today()),
    Scenario("General then Mass, K=3", today(mass_size=3)),
    Scenario("General then Mass, K=8", today(mass_size=8)),
    Scenario("General only (comparison)", today(strategy="general_only"), candidate=False),
    Scenario("Mass first, K=5 (comparison)", today(strategy="mass_first"), candidate=False),
    Scenario("Lever 1 alone: responsiveness weight 1.0", today(ONDEMAND_RESPONSIVENESS_WEIGHT=1.0)),
    Scenario("Lever 2 alone: widening at 3 minutes", today(ONDEMAND_WIDEN_AFTER_MINUTES=3)),
    Scenario("Lever 3 alone: dial reminder at 20 minutes", today(ONDEMAND_DIAL_REMINDER_MINUTES=20)),
    Scenario("Lever 4 alone: capacity 20 minutes", today(ONDEMAND_CAPACITY_MINUTES=20)),
    Scenario("All four levers, widening at 2 minutes", all_levers(2)),
    Scenario("All four levers, widening at 3 minutes", all_levers(3)),
    Scenario("All four levers, widening at 5 minutes", all_levers(5)),
    Scenario("All four levers, widening at 3 minutes, K=3", all_levers(3, mass_size=3)),
    Scenario("All four levers, widening at 3 minutes, K=8", all_levers(3, mass_size=8)),
    Scenario("All four levers, nudge effect 0", all_levers(3), model={"dial_nudge_response": 0.0}),
    PLATFORM_DEFAULTS,
)


def scenarios_select(chosen: Sequence[str]) -> list[Scenario]:
    """The scenarios named in `chosen` (each an index into SCENARIOS, a whole name, or a part of names,
    case ignored), in SCENARIOS' order; all of them when `chosen` is empty. "Platform defaults" is always
    among them: the last line of the output reports it."""
    if not chosen:
        return list(SCENARIOS)
    picked: set[int] = set()
    for word in chosen:
        text = word.strip()
        if text.isdigit():
            if int(text) >= len(SCENARIOS):
                raise ValueError(
                    f"no scenario {text}: there are {len(SCENARIOS)} (0 to {len(SCENARIOS) - 1})"
                )
            picked.add(int(text))
            continue
        exact = [n for n, scenario in enumerate(SCENARIOS) if scenario.name.casefold() == text.casefold()]
        found = exact or [n for n, s in enumerate(SCENARIOS) if text.casefold() in s.name.casefold()]
        if not found:
            raise ValueError(f"no scenario matches {word!r}")
        picked.update(found)
    picked.add(SCENARIOS.index(PLATFORM_DEFAULTS))
    return [scenario for n, scenario in enumerate(SCENARIOS) if n in picked]


@dataclass
class Result:
    """One replication (one simulated day) of one scenario. Times in minutes; `math.inf` when not reached."""

    scenario: str
    rate: int
    replication: int
    helpers: int  # the pool's size
    requests: int
    states: dict[str, int]  # requests by status when the run stopped
    contacted: int
    contacted_in_30: float  # share of all requests with a first contact within 30 minutes of the clock start
    first_contact_p50: float  # over all requests, an uncontacted one counting as never
    first_contact_p90: float
    first_contact_p99: float
    offers: int
    offers_by_status: dict[str, int]
    general_offers: int
    accepted: int  # requests with an accepted offer (a request has at most one)
    general_accepted: int  # of which the accepted offer is the General one
    faq_misses: int  # General offers that timed out: the misses of the On Demand FAQ
    missed_offer_rate: float  # offers that expired unanswered, of all offers (General and Mass)
    deregistrations: int
    assignments: list[int]  # accepted offers per helper, every helper of the pool
    gini: float
    messages: int  # outbox rows queued (emails and texts to helpers and requesters)
    late_answers: int  # helpers' answers that found the offer closed (taken, rescinded or expired)
    dashboard_on_time: float | None = None  # the state dashboard's on-time share, from the same rows
    unresolved: int = 0  # Pending, or In Progress with no contact, when the run stopped (0 unless capped)
    nudges: int = 0  # first calls the dial reminder brought forward
    minutes: float = 0.0  # simulated minutes from DAY_OPENS to the run's last instant
    steps: int = 0
    seconds: float = 0.0

    @property
    def unserved(self) -> int:
        return self.states.get("unserved", 0)

    @property
    def unserved_share(self) -> float:
        return share(self.unserved, self.requests)

    @property
    def never_contacted_share(self) -> float:
        return 1 - share(self.contacted, self.requests) if self.requests else 0.0

    @property
    def general_accepted_share(self) -> float:
        """Requests accepted on their General offer, of the requests accepted."""
        return share(self.general_accepted, self.accepted)

    @property
    def general_accepted_of_all(self) -> float:
        """Requests accepted on their General offer, of all requests."""
        return share(self.general_accepted, self.requests)

    @property
    def offers_per_request(self) -> float:
        return share(self.offers, self.requests)

    @property
    def faq_misses_per_helper(self) -> float:
        """FAQ misses per helper of the pool in the day (a replication is one day)."""
        return share(self.faq_misses, self.helpers)


# --- Geography ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Geography:
    zips_by_county: dict[str, list[str]]
    county_weights: dict[str, float]
    centroids: dict[str, tuple[float, float]]


@lru_cache(maxsize=1)
def geography() -> Geography:
    """Kentucky's ZIP codes by county (every one with a centroid), county weights and centroids."""
    import zipcodes

    from kynect.core.geo import KENTUCKY_COUNTIES, county_lookup, zip_lookup

    zips: dict[str, list[str]] = {}
    points: dict[str, list[tuple[float, float]]] = {}
    for row in sorted(zipcodes.filter_by(state="KY"), key=lambda row: row["zip_code"]):
        if not row["lat"]:
            continue
        # The few ZIP codes the data lists without a county: the platform's own lookup knows them.
        county = county_lookup(row["county"]) if row["county"] else zip_lookup(row["zip_code"]).county
        if county is None:
            continue
        zips.setdefault(county.fips, []).append(row["zip_code"])
        points.setdefault(county.fips, []).append((float(row["lat"]), float(row["long"])))
    named = {county.name: county.fips for county in KENTUCKY_COUNTIES}
    others = [c.fips for c in KENTUCKY_COUNTIES if c.name not in COUNTY_THOUSANDS and c.fips in zips]
    rest = (KENTUCKY_THOUSANDS - sum(COUNTY_THOUSANDS.values())) / len(others)
    weights = {named[name]: float(people) for name, people in COUNTY_THOUSANDS.items()}
    weights.update(dict.fromkeys(others, rest))
    centroids = {
        fips: (sum(p[0] for p in found) / len(found), sum(p[1] for p in found) / len(found))
        for fips, found in points.items()
    }
    return Geography(zips_by_county=zips, county_weights=weights, centroids=centroids)


def draw_zip(rng: random.Random, geo: Geography) -> str:
    counties = list(geo.county_weights)
    county = rng.choices(counties, weights=[geo.county_weights[c] for c in counties])[0]
    return rng.choice(geo.zips_by_county[county])


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


# --- The modelled people -------------------------------------------------------------------------------


@dataclass
class PlannedCall:
    """A call attempt a helper means to make: ready to dial at `ready`, made at `starts` (not before the
    calls ahead of it in the helper's queue end), lasting `minutes`. `token` is the sequence number of
    its entry in the action heap: an entry whose token is no longer the request's is stale (re-planned)."""

    request_id: Any
    attempt: int
    reached: bool
    minutes: float
    ready: datetime
    starts: datetime = DAY_OPENS
    token: int = -1

    @property
    def ends(self) -> datetime:
        return self.starts + timedelta(minutes=self.minutes)


@dataclass
class SimHelper:
    """A modelled helper. The calls they mean to make wait in `queue`, made one after another in its
    order; `on_call_until` is when the latest call started ends."""

    pk: Any
    respond: float
    delay_median: float
    rng: random.Random
    queue: list[PlannedCall] = field(default_factory=list)
    on_call_until: datetime = DAY_OPENS

    @property
    def busy_until(self) -> datetime:
        """When the helper has made every call planned so far (the end of the last one)."""
        return self.queue[-1].ends if self.queue else self.on_call_until

    def on_call(self, now: datetime) -> bool:
        return self.on_call_until > now


@dataclass(frozen=True)
class Arrival:
    at: datetime
    zip_code: str
    language: str
    program: str
    contact_method: str


# Weekly shifts in the helper's own time zone: (share, start, end, breaks), minutes of the day.
SHIFTS = (
    (0.45, 8 * 60, 17 * 60, ((12 * 60, 13 * 60),)),
    (0.15, 8 * 60, 13 * 60, ()),
    (0.25, 12 * 60, 20 * 60, ((16 * 60, 16 * 60 + 30),)),
    (0.15, 10 * 60, 15 * 60, ()),
)


def helpers_create(*, rng: random.Random, count: int, model: Model, geo: Geography) -> list[SimHelper]:
    """The pool: registered, available helpers written straight to the database (as the routing tests'
    `ready_helper` does), with weekly schedules, languages, programs, homes and counties served."""
    from kynect.accounts.models import User
    from kynect.core import clock
    from kynect.core.geo import haversine_miles, zip_lookup
    from kynect.ondemand.models import (
        Helper,
        HelperCounty,
        HelperLanguage,
        HelperProgram,
        ScheduleBreak,
        ScheduleWindow,
    )

    now = clock.now()
    users = User.objects.bulk_create(
        [
            User(email=f"sim-helper-{n}@example.org", first_name="Helper", last_name=f"{n}", password="!")  # noqa: S106 (unusable)
            for n in range(count)
        ]
    )
    helpers: list[Helper] = []
    counties: list[HelperCounty] = []
    languages: list[HelperLanguage] = []
    programs: list[HelperProgram] = []
    windows: list[tuple[ScheduleWindow, tuple[tuple[int, int], ...]]] = []
    people: list[SimHelper] = []
    for n, user in enumerate(users):
        home = zip_lookup(draw_zip(rng, geo))
        assert home.county is not None
        roll = rng.random()
        role = (
            Helper.Role.AGENT
            if roll < model.agent_share
            else Helper.Role.AGENCY_ADMIN
            if roll < model.agent_share + model.agency_admin_share
            else Helper.Role.KYNECTOR
        )
        helper = Helper(
            user=user,
            role=role,
            status=Helper.Status.REGISTERED,
            terms_version="2026-1",
            terms_agreed_at=now,
            contact_completed_at=now,
            schedule_completed_at=now,
            registered_at=now,
            phone=f"+1606{200 + n // 10000:03d}{n % 10000:04d}",
            phone_verified_at=now,
            email=f"sim-helper-{n}@example.org",
            is_available=True,
            home_zip=home.zip_code,
            home_latitude=home.latitude,
            home_longitude=home.longitude,
            home_county_fips=home.county.fips,
            time_zone=home.time_zone,
            agency_active=role != Helper.Role.AGENT,
        )
        helpers.append(helper)
        served = (
            list(geo.centroids)
            if rng.random()
            < (model.agent_statewide if role == Helper.Role.AGENT else model.kynector_statewide)
            else [
                fips
                for fips, (lat, lon) in geo.centroids.items()
                if fips == home.county.fips
                or haversine_miles(home.latitude, home.longitude, lat, lon) <= model.serve_radius_miles
            ]
        )
        counties += [HelperCounty(helper=helper, county_fips=fips) for fips in served]
        spoken = ["en"]
        if rng.random() < model.helper_es:
            spoken.append("es")
        if rng.random() < model.helper_other_language:
            spoken.append(rng.choice(OTHER_LANGUAGES))
        languages += [HelperLanguage(helper=helper, language=code) for code in spoken]
        if role == Helper.Role.AGENT:
            helps = ["qhp", *(["medicaid_kchip"] if rng.random() < model.agent_also_medicaid else [])]
        else:
            helps = ["medicaid_kchip", *(["qhp"] if rng.random() < model.kynector_also_qhp else [])]
        programs += [HelperProgram(helper=helper, program=program) for program in helps]
        shift = rng.choices(SHIFTS, weights=[s[0] for s in SHIFTS])[0]
        days = (0, 2, 4) if rng.random() < model.off_on_the_day else (0, 1, 2, 3, 4)
        windows += [
            (ScheduleWindow(helper=helper, weekday=day, start_minute=shift[1], end_minute=shift[2]), shift[3])
            for day in days
        ]
        group = model.engaged_beta if rng.random() < model.engaged_share else model.disengaged_beta
        people.append(
            SimHelper(
                pk=helper.pk,
                respond=rng.betavariate(*group),
                delay_median=rng.uniform(*model.delay_median_range),
                rng=random.Random(rng.getrandbits(64)),
            )
        )
    Helper.objects.bulk_create(helpers)
    HelperCounty.objects.bulk_create(counties)
    HelperLanguage.objects.bulk_create(languages)
    HelperProgram.objects.bulk_create(programs)
    ScheduleWindow.objects.bulk_create([window for window, _breaks in windows])
    ScheduleBreak.objects.bulk_create(
        ScheduleBreak(window=window, start_minute=start, end_minute=end)
        for window, breaks in windows
        for start, end in breaks
    )
    return people


def arrivals_draw(
    *, rng: random.Random, rate: float, hours: float, model: Model, geo: Geography
) -> list[Arrival]:
    """A Poisson process of `rate` requests an hour from DAY_OPENS for `hours` hours."""
    found: list[Arrival] = []
    minutes = rng.expovariate(rate / 60)
    while minutes < hours * 60:
        roll = rng.random()
        language = (
            "es"
            if roll < model.language_es
            else rng.choice(OTHER_LANGUAGES)
            if roll < model.language_es + model.language_other
            else "en"
        )
        roll = rng.random()
        program = (
            "qhp"
            if roll < model.program_qhp
            else "medicaid_kchip"
            if roll < model.program_qhp + model.program_medicaid
            else "not_sure"
        )
        roll = rng.random()
        contact = (
            "email"
            if roll < model.contact_email
            else "text"
            if roll < model.contact_email + model.contact_text
            else "phone"
        )
        found.append(
            Arrival(
                at=DAY_OPENS + timedelta(minutes=minutes),
                zip_code=draw_zip(rng, geo),
                language=language,
                program=program,
                contact_method=contact,
            )
        )
        minutes += rng.expovariate(rate / 60)
    return found


# --- The simulation -------------------------------------------------------------------------------


# The simulation's own settings, the same in every scenario; a scenario's settings are merged over them.
BASE_SETTINGS: dict[str, Any] = {
    "ONDEMAND_SERVICE_HOURS": SERVICE_HOURS,
    "ONDEMAND_SERVICE_HOURS_TIME_ZONE": "America/New_York",
    "ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT": 1_000_000,
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "SMS_BACKEND": "kynect.notifications.sms.LocmemSmsBackend",
}
# The routing loop applies this deadline (`sweeps.help_requests_route`); the sweeps in SWEEPS the others.
ROUTE_DEADLINE = "ondemand.requests_route"
UNSWEPT_SAID: set[str] = set()  # deadlines without a sweep already reported (once a process)


def scenario_settings(scenario: Scenario) -> dict[str, Any]:
    """The settings a scenario runs with: the simulation's base, then the scenario's overrides. What
    neither names is the platform's own (config/settings.py)."""
    return {**BASE_SETTINGS, **scenario.settings}


def day_end(*, hours: float, drain_minutes: float | None, waiting_limit_minutes: int) -> datetime:
    """The latest instant a run may reach: the arrivals end after `hours`, then the drain, by default the
    waiting limit + DRAIN_MARGIN_MINUTES (by then every request is closed or contacted), or
    `drain_minutes`. It must stay inside the day's service hours (DAY_CLOSES)."""
    if not 0 < hours <= MAX_HOURS:
        raise ValueError(f"hours must be in (0, {MAX_HOURS}]")
    drain = waiting_limit_minutes + DRAIN_MARGIN_MINUTES if drain_minutes is None else drain_minutes
    ends = DAY_OPENS + timedelta(hours=hours, minutes=drain)
    if ends > DAY_CLOSES:
        raise ValueError(
            f"{hours:g} hours of arrivals from {DAY_OPENS:%H:%M} and {drain:g} minutes of drain end at "
            f"{ends:%H:%M}, after service hours end ({DAY_CLOSES:%H:%M}): give fewer hours"
        )
    return ends


class Simulation:
    """One replication of one scenario, in the current database and transaction."""

    def __init__(
        self,
        *,
        scenario: Scenario,
        rate: int,
        helpers: int,
        hours: float,
        seed: int,
        replication: int,
        model: Model,
        ends: datetime,
        traveller: Any,
    ) -> None:
        from kynect.ondemand.models import HelpRequest

        self.scenario, self.rate, self.replication, self.model = scenario, rate, replication, model
        self.traveller = traveller
        self.now = DAY_OPENS
        self.pool = helpers
        # The pool and the requesters depend on the seed and the replication only, not on the scenario.
        base = random.Random(f"{seed}:{replication}")
        geo = geography()
        self.people = {
            p.pk: p
            for p in helpers_create(
                rng=random.Random(base.getrandbits(64)), count=helpers, model=model, geo=geo
            )
        }
        self.arrivals = arrivals_draw(
            rng=random.Random(base.getrandbits(64)), rate=rate, hours=hours, model=model, geo=geo
        )
        self.ends = ends
        self.actions: list[tuple[datetime, int, str, tuple[Any, ...]]] = []
        self.sequence = itertools.count()
        self.planned_calls: dict[Any, int] = {}  # request → the token of its planned call's heap entry
        self.seen_offers: set[Any] = set()
        self.off: set[Any] = set()  # registered helpers known to be switched off
        self.reminded: set[Any] = set()  # requests whose reminder to call was handed to their helper
        # The reminder to call (lever 3) is a new column: without it there is nothing to look for.
        self.dial_reminders = any(
            getattr(f, "name", "") == "dial_reminded_at" for f in HelpRequest._meta.get_fields()
        )
        self.deadlines: list[Any] = []  # set by `run`
        self.late_answers = 0
        self.nudges = 0
        self.steps = 0
        self._helpers: dict[Any, Helper] = {}

    # The modelled people's actions, in time order.
    def later(self, at: datetime, kind: str, *args: Any) -> int:
        """Schedule an action; returns its token (its sequence number in the heap)."""
        token = next(self.sequence)
        heapq.heappush(self.actions, (at, token, kind, args))
        return token

    def stale(self, entry: tuple[datetime, int, str, tuple[Any, ...]]) -> bool:
        """A call entry replaced by a re-planned one (the reminder moved the call)."""
        _at, token, kind, args = entry
        return kind == "call" and self.planned_calls.get(args[0]) != token

    def helper(self, pk: Any) -> Helper:
        from kynect.ondemand.models import Helper

        if pk not in self._helpers:
            self._helpers[pk] = Helper.objects.select_related("user").get(pk=pk)
        return self._helpers[pk]

    def travel(self, at: datetime) -> None:
        self.now = max(self.now, at)
        self.traveller.move_to(self.now)

    def next_deadline(self) -> datetime | None:
        """The earliest deadline still to apply: for each deadline of the platform's registry that this
        run sweeps, the earliest non-null value of its column over its rows. (For the deadlines listed
        by hand before the registry was used, the registry's rows are the same, except that route_at is
        read on every request rather than the Pending ones: the platform sets it only while a request is
        Pending, a constraint, so the earliest is the same.)"""
        found = [
            deadline.rows()
            .filter(**{f"{deadline.column}__isnull": False})
            .order_by(deadline.column)
            .values_list(deadline.column, flat=True)
            .first()
            for deadline in self.deadlines
        ]
        return min((at for at in found if at is not None), default=None)

    def unresolved(self) -> QuerySet[HelpRequest]:
        """Requests whose fate is not known yet: Pending, or In Progress with no contact."""
        from django.db.models import Q

        from kynect.ondemand.models import HelpRequest

        return HelpRequest.objects.filter(
            Q(status=HelpRequest.Status.PENDING)
            | Q(status=HelpRequest.Status.IN_PROGRESS, first_contact_at__isnull=True)
        )

    def run(self) -> Result:
        from kynect.ondemand.deadlines import DEADLINES
        from kynect.ondemand.services.sweeps import SWEEPS, help_requests_route

        # The sweeps, then the routing loop (which the worker runs beside them, ADR 0036).
        sweeps = [handler for _name, handler in sorted(SWEEPS.items())] + [help_requests_route]
        # A deadline nothing here applies would stay due for ever, and the loop would step a second at a
        # time towards nothing: it is left out, and said.
        unswept = sorted(set(DEADLINES) - set(SWEEPS) - {ROUTE_DEADLINE})
        if unswept and set(unswept) - UNSWEPT_SAID:
            print(f"deadlines with no sweep, not followed: {', '.join(unswept)}", file=sys.stderr)
            UNSWEPT_SAID.update(unswept)
        self.deadlines = [deadline for name, deadline in DEADLINES.items() if name not in unswept]
        arrivals = iter(enumerate(self.arrivals))
        arrival = next(arrivals, None)
        swept_at: datetime | None = None
        while True:
            while self.actions and self.stale(self.actions[0]):
                heapq.heappop(self.actions)
            if arrival is None and not self.unresolved().exists():
                break  # every request arrived, and each is closed or contacted
            deadline = self.next_deadline()
            if deadline is not None and swept_at is not None and deadline <= swept_at:
                deadline = swept_at + timedelta(seconds=1)  # left due by the sweep: the worker's next turn
            candidates = [
                at
                for at in (
                    arrival[1].at if arrival else None,
                    self.actions[0][0] if self.actions else None,
                    deadline,
                )
                if at is not None
            ]
            if not candidates:
                break
            at = min(candidates)
            if at > self.ends:
                break
            self.travel(at)
            self.steps += 1
            while arrival is not None and arrival[1].at <= self.now:
                self.submit(*arrival)
                arrival = next(arrivals, None)
            while self.actions and self.actions[0][0] <= self.now:
                entry = heapq.heappop(self.actions)
                if not self.stale(entry):
                    _at, _token, kind, args = entry
                    getattr(self, f"do_{kind}")(*args)
            if deadline is not None and deadline <= self.now:
                for handler in sweeps:
                    handler(now=self.now)
                swept_at = self.now
                self.switched_off_notice()
                self.dial_reminders_notice()
            self.offers_notice()
        return self.result()

    def submit(self, number: int, arrival: Arrival) -> None:
        from kynect.ondemand.services.help_requests import help_request_submit
        from kynect.ondemand.services.sweeps import help_requests_route

        help_request_submit(
            name=f"Resident {number}",
            phone=f"(859) {200 + number // 10000:03d}-{number % 10000:04d}",
            email=f"resident-{number}@example.org" if arrival.contact_method == "email" else "",
            contact_method=arrival.contact_method,
            language=arrival.language,
            zip_code=arrival.zip_code,
            program=arrival.program,
            consent=True,
            message_language="es" if arrival.language == "es" else "en",
            client_key=f"sim-{number}",
        )
        # The workers' routing loop takes a new request within a fraction of a second: at this instant.
        help_requests_route(now=self.now)

    def offers_notice(self) -> None:
        """Offers made at this instant reach their helper, whose model decides whether and when to answer."""
        from kynect.ondemand.models import Offer

        fresh = Offer.objects.filter(created_at__gte=self.now).exclude(pk__in=self.seen_offers)
        for offer in fresh.only("pk", "helper_id", "kind", "expires_at", "remind_at").order_by("created_at"):
            self.seen_offers.add(offer.pk)
            person, model = self.people[offer.helper_id], self.model
            rng = person.rng
            if rng.random() < person.respond:
                looks = self.now
                if person.busy_until > self.now and rng.random() < model.busy_defers:
                    looks = person.busy_until
                answer = looks + timedelta(minutes=lognormal(rng, person.delay_median, model.delay_sigma))
            elif offer.remind_at is not None and rng.random() < model.reminder_response:
                delay = lognormal(rng, model.reminder_delay_median, model.delay_sigma)
                answer = offer.remind_at + timedelta(minutes=delay)
            else:
                continue  # ignored: it expires (a miss when General)
            accept = rng.random() < model.accept_share
            if answer < offer.expires_at:
                self.later(answer, "answer", offer.pk, person.pk, accept)
            else:
                self.late_answers += 1  # too late: the offer has expired by then

    def switched_off_notice(self) -> None:
        """Helpers the platform set unavailable after a miss: back on after a while, or off for the day."""
        from kynect.ondemand.models import Helper

        off = set(
            Helper.objects.filter(status=Helper.Status.REGISTERED, is_available=False).values_list(
                "pk", flat=True
            )
        )
        for pk in off - self.off:
            person = self.people[pk]
            if person.rng.random() < self.model.comeback_share:
                delay = lognormal(person.rng, self.model.comeback_median, self.model.comeback_sigma)
                self.later(self.now + timedelta(minutes=delay), "comeback", pk)
        self.off = off

    # Actions.
    def do_answer(self, offer_id: Any, helper_id: Any, accept: bool) -> None:
        from kynect.ondemand.models import Offer
        from kynect.ondemand.services import offers

        helper = self.helper(helper_id)
        try:
            if accept:
                offer = offers.offer_accept(offer_id=offer_id, helper=helper, via=Offer.Via.DESKTOP)
            else:
                offers.offer_reject(offer_id=offer_id, helper=helper)
                return
        except offers.OfferClosedError:
            self.late_answers += 1
            return
        self.call_plan(offer.help_request_id, helper_id, attempt=1, earliest=self.now)

    def call_plan(self, request_id: Any, helper_id: Any, *, attempt: int, earliest: datetime) -> None:
        """The helper will call: the first attempt after a delay, a second one at `earliest`; either after
        the calls the helper already means to make."""
        person, model = self.people[helper_id], self.model
        delay = lognormal(person.rng, model.call_delay_median, model.call_delay_sigma) if attempt == 1 else 0
        reached = person.rng.random() < (model.reached_first if attempt == 1 else model.reached_second)
        minutes = (
            lognormal(person.rng, model.call_median, model.call_sigma)
            if reached
            else model.failed_call_minutes
        )
        call = PlannedCall(
            request_id=request_id,
            attempt=attempt,
            reached=reached,
            minutes=minutes,
            ready=earliest + timedelta(minutes=delay),
        )
        person.queue.append(call)
        self.calls_lay_out(person)

    def calls_lay_out(self, person: SimHelper) -> None:
        """Time the helper's planned calls one after another in their queue's order, from the end of the
        current call, none before it is ready. A call whose time changed gets a new entry in the action
        heap, which makes its old one stale; the others keep theirs."""
        free = max(person.on_call_until, self.now)
        for call in person.queue:
            starts = max(call.ready, free)
            if call.token < 0 or starts != call.starts:
                call.starts = starts
                call.token = self.later(
                    starts, "call", call.request_id, person.pk, call.attempt, call.reached, call.ends
                )
                self.planned_calls[call.request_id] = call.token
            free = call.ends

    def dial_reminders_notice(self) -> None:
        """Requests the platform has just reminded their helper to call (lever 3, `dial_reminded_at` set to
        this sweep's instant). A helper who has not dialled the request yet and is not on a call dials it
        sooner with probability `Model.dial_nudge_response`, after a short delay, ahead of the other calls
        they planned to make after that; the calls behind it move back."""
        if not self.dial_reminders:
            return
        from kynect.ondemand.models import HelpRequest

        reminded = (
            HelpRequest.objects.filter(dial_reminded_at__gte=self.now, accepted_helper__isnull=False)
            .exclude(pk__in=self.reminded)
            .order_by("dial_reminded_at", "pk")
            .values_list("pk", "accepted_helper_id")
        )
        model = self.model
        for request_id, helper_id in list(reminded):
            self.reminded.add(request_id)
            person = self.people.get(helper_id)
            if person is None:
                continue
            call = next((c for c in person.queue if c.request_id == request_id and c.attempt == 1), None)
            if call is None or person.on_call(self.now):
                continue  # dialled already, or on a call: the reminder changes nothing
            responds = person.rng.random() < model.dial_nudge_response
            delay = lognormal(person.rng, model.dial_nudge_delay_median, model.call_delay_sigma)
            nudged = self.now + timedelta(minutes=delay)
            if responds and self.call_bring_forward(person, call, nudged):
                self.nudges += 1

    def call_bring_forward(self, person: SimHelper, call: PlannedCall, at: datetime) -> bool:
        """Make the helper's planned `call` at `at` if that is sooner than planned: calls that begin before
        `at` still come first, the others move behind it. Returns whether it now starts sooner."""
        planned = call.starts
        if planned <= at:
            return False
        person.queue.remove(call)
        call.ready = at
        person.queue.insert(sum(1 for other in person.queue if other.starts < at), call)
        self.calls_lay_out(person)
        return call.starts < planned

    def do_call(self, request_id: Any, helper_id: Any, attempt: int, reached: bool, ends: datetime) -> None:
        from kynect.ondemand.models import CallAttempt, HelpRequest
        from kynect.ondemand.services import help_requests

        person = self.people[helper_id]
        person.queue = [call for call in person.queue if call.request_id != request_id]
        del self.planned_calls[request_id]
        person.on_call_until = ends
        helper = self.helper(helper_id)
        result = CallAttempt.Result.REACHED if reached else CallAttempt.Result.NO_ANSWER
        help_requests.call_attempt_log(help_request_id=request_id, helper=helper, result=result)
        if reached:
            outcome = person.rng.choice(
                [
                    HelpRequest.Outcome.APPLIED,
                    HelpRequest.Outcome.ENROLLED,
                    HelpRequest.Outcome.REFERRED_ELSEWHERE,
                ]
            )
            self.later(ends, "complete", request_id, helper_id, outcome)
        elif attempt == 1:
            self.call_plan(
                request_id, helper_id, attempt=2, earliest=ends + timedelta(minutes=self.model.retry_after)
            )
        else:
            self.later(ends, "complete", request_id, helper_id, HelpRequest.Outcome.UNABLE_TO_REACH)

    def do_complete(self, request_id: Any, helper_id: Any, outcome: str) -> None:
        from kynect.ondemand.services import help_requests

        help_requests.help_request_complete(
            help_request_id=request_id, helper=self.helper(helper_id), outcome=outcome
        )

    def do_comeback(self, helper_id: Any) -> None:
        from kynect.ondemand.models import Helper
        from kynect.ondemand.services.helpers import helper_availability_set

        helper = Helper.objects.get(pk=helper_id)
        if helper.status == Helper.Status.REGISTERED and not helper.is_available:
            helper_availability_set(helper=helper, is_available=True)
            self.off.discard(helper_id)

    def result(self) -> Result:
        from kynect.notifications.models import OutboundMessage
        from kynect.ondemand.models import Helper, HelpRequest, Offer

        requests = list(HelpRequest.objects.values_list("status", "clock_starts_at", "first_contact_at"))
        waits = sorted(
            (first - starts).total_seconds() / 60 if first is not None else math.inf
            for _status, starts, first in requests
        )
        offers = list(Offer.objects.values_list("helper_id", "kind", "status", "help_request_id"))
        by_status = Counter(status for _helper, _kind, status, _request in offers)
        taken = [
            (helper, kind, request)
            for helper, kind, status, request in offers
            if status == Offer.Status.ACCEPTED
        ]
        accepted = Counter(helper for helper, _kind, _request in taken)
        assignments = [accepted.get(pk, 0) for pk in self.people]
        # The kind of each accepted request's accepted offer (a request has at most one).
        accepted_kind = {request: kind for _helper, kind, request in taken}
        general = [status for _helper, kind, status, _request in offers if kind == Offer.Kind.GENERAL]
        return Result(
            scenario=self.scenario.name,
            rate=self.rate,
            replication=self.replication,
            helpers=self.pool,
            requests=len(requests),
            states=dict(Counter(status for status, _starts, _first in requests)),
            contacted=sum(1 for wait in waits if wait < math.inf),
            contacted_in_30=share(sum(1 for wait in waits if wait <= 30), len(waits)),
            first_contact_p50=percentile(waits, 0.5),
            first_contact_p90=percentile(waits, 0.9),
            first_contact_p99=percentile(waits, 0.99),
            offers=len(offers),
            offers_by_status=dict(by_status),
            general_offers=len(general),
            accepted=len(accepted_kind),
            general_accepted=sum(1 for kind in accepted_kind.values() if kind == Offer.Kind.GENERAL),
            faq_misses=sum(1 for status in general if status == Offer.Status.EXPIRED),
            missed_offer_rate=share(by_status.get(Offer.Status.EXPIRED, 0), len(offers)),
            deregistrations=Helper.objects.filter(
                pk__in=list(self.people), deregistration_reason=Helper.DeregistrationReason.MISSED_REFERRALS
            ).count(),
            assignments=assignments,
            gini=gini(assignments),
            messages=OutboundMessage.objects.count(),
            late_answers=self.late_answers,
            unresolved=self.unresolved().count(),
            nudges=self.nudges,
            minutes=(self.now - DAY_OPENS).total_seconds() / 60,
            steps=self.steps,
            dashboard_on_time=self.dashboard_on_time(),
        )

    def dashboard_on_time(self) -> float | None:
        """The state On Demand dashboard's "called back within 30 minutes" for the simulated day, read by
        the dashboard's own selector: the same figure as `contacted_in_30` once every request is due."""
        from kynect.core.periods import period_named
        from kynect.ondemand.selectors_oversight import call_backs

        return call_backs(period=period_named(key="today", now=self.now), now=self.now).on_time_share


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks of a sorted list; `math.inf` entries are allowed."""
    if not ordered:
        return math.nan
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    if math.isinf(ordered[high]):
        return math.inf
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def gini(values: Sequence[int]) -> float:
    """The Gini coefficient of counts: 0 when everyone has the same, towards 1 when one has all."""
    total = sum(values)
    if not values or total == 0:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    return (2 * sum(rank * value for rank, value in enumerate(ordered, start=1))) / (n * total) - (n + 1) / n


def simulate(
    *,
    scenario: Scenario,
    rate: int,
    helpers: int = HELPERS,
    hours: float = 4,
    seed: int = 2026,
    replication: int = 0,
    model: Model | None = None,
    drain_minutes: float | None = None,
) -> Result:
    """Run one replication in the current database (Django set up), inside the caller's transaction.

    The scenario's model overrides are applied over `model`. After the arrivals the run goes on until no
    request is Pending or In Progress without a first contact, but at most `drain_minutes` (by default
    the waiting limit + DRAIN_MARGIN_MINUTES) after the arrivals end."""
    import time_machine
    from django.conf import settings
    from django.test import override_settings

    overrides = scenario_settings(scenario)
    waiting_limit = overrides.get("ONDEMAND_WAITING_LIMIT_MINUTES", settings.ONDEMAND_WAITING_LIMIT_MINUTES)
    ends = day_end(hours=hours, drain_minutes=drain_minutes, waiting_limit_minutes=waiting_limit)
    people = replace(model or Model(), **scenario.model)
    started = time.perf_counter()
    with (
        override_settings(**overrides),
        # In UTC: a destination in a named zone would also switch the process's local time zone.
        time_machine.travel(DAY_OPENS.astimezone(UTC), tick=False) as moving,
    ):
        simulation = Simulation(
            scenario=scenario,
            rate=rate,
            helpers=helpers,
            hours=hours,
            seed=seed,
            replication=replication,
            model=people,
            ends=ends,
            traveller=moving,
        )
        result = simulation.run()
    result.seconds = time.perf_counter() - started
    return result


# --- Running it from the command line --------------------------------------------------------------


def django_setup(database: str) -> None:
    from directory_import import django_env

    os.environ.update(django_env(database))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    logging.getLogger("kynect").setLevel(logging.WARNING)


@contextmanager
def rolled_back() -> Iterator[None]:
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@dataclass
class Row:
    scenario: Scenario
    rate: int
    results: list[Result] = field(default_factory=list)


def spread(values: Sequence[float], digits: int = 1, percent: bool = False) -> str:
    """Mean ± sample standard deviation over the replications (± 0 with one)."""
    scale = 100 if percent else 1
    if any(math.isinf(value) for value in values):
        return (
            "never"
            if all(math.isinf(value) for value in values)
            else f"> {max(v for v in values if not math.isinf(v)) * scale:.{digits}f}"
        )
    mean = statistics.fmean(values) * scale
    sd = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    suffix = "%" if percent else ""
    return f"{mean:.{digits}f} ± {sd:.{digits}f}{suffix}"


COLUMNS: tuple[tuple[str, Callable[[Result], float], int, bool], ...] = (
    # (heading, measure of one replication, digits, shown as a percentage)
    ("contacted ≤30 min", lambda r: r.contacted_in_30, 1, True),
    ("first contact p50", lambda r: r.first_contact_p50, 1, False),
    ("p90 (min)", lambda r: r.first_contact_p90, 1, False),
    ("p99 (min)", lambda r: r.first_contact_p99, 1, False),
    ("offers/request", lambda r: r.offers_per_request, 2, False),
    ("FAQ misses/day", lambda r: r.faq_misses, 1, False),
    ("FAQ misses/helper/day", lambda r: r.faq_misses_per_helper, 2, False),
    ("de-registered/day", lambda r: r.deregistrations, 1, False),
    ("accepted on General", lambda r: r.general_accepted_share, 1, True),
    ("General, of all requests", lambda r: r.general_accepted_of_all, 1, True),
    ("Unserved", lambda r: r.unserved_share, 1, True),
    ("never contacted", lambda r: r.never_contacted_share, 1, True),
    ("missed offers", lambda r: r.missed_offer_rate, 1, True),
    ("Gini", lambda r: r.gini, 3, False),
    ("messages/request", lambda r: share(r.messages, r.requests), 2, False),
)


def table(rows: list[Row]) -> str:
    lines = []
    for rate in sorted({row.rate for row in rows}):
        lines.append(f"\n{rate} requests an hour")
        header = ["scenario", "requests", *(name for name, *_rest in COLUMNS)]
        body = []
        for row in (row for row in rows if row.rate == rate):
            cells = [row.scenario.name, spread([r.requests for r in row.results], 0)]
            cells += [
                spread([get(r) for r in row.results], digits, percent) for _n, get, digits, percent in COLUMNS
            ]
            body.append(cells)
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        still_open = [
            f"{row.scenario.name} ({sum(r.unresolved for r in row.results)})"
            for row in rows
            if row.rate == rate and any(r.unresolved for r in row.results)
        ]
        if still_open:
            lines.append(
                f"\nStill open when the run stopped (counted as never contacted): {'; '.join(still_open)}"
            )
    return "\n".join(lines)


def platform_settings() -> str:
    """The routing settings "Platform defaults" ran with (config/settings.py), for the record."""
    from django.conf import settings

    return ", ".join(f"{name}={getattr(settings, name, '(not set)')}" for name in ROUTING_SETTINGS)


def contacted_line(contacted_in_30: float) -> str:
    """The output's last line: the share of requests contacted within 30 minutes, as a percentage."""
    return f"contacted within 30 minutes: {contacted_in_30 * 100:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--hours", type=float, default=4.0, help=f"hours of arrivals (at most {MAX_HOURS})")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--helpers", type=int, default=HELPERS)
    parser.add_argument("--rates", type=int, nargs="+", default=list(RATES), help="requests an hour")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        default=[],
        help="by index, name or part of a name (default: all); Platform defaults always runs",
    )
    parser.add_argument("--quick", action="store_true", help="1 replication of half an hour: a smoke run")
    parser.add_argument(
        "--database",
        default="",
        help="DATABASE_URL of a throwaway database (sqlite:////path or postgres://…)",
    )
    options = parser.parse_args()
    if options.quick:
        options.replications, options.hours = 1, 0.5
    if not 0 < options.hours <= MAX_HOURS:
        parser.error(f"--hours must be more than 0 and at most {MAX_HOURS}")
    try:
        scenarios = scenarios_select(options.scenarios)
    except ValueError as error:
        parser.error(str(error))

    from directory_import import fresh_postgres, fresh_sqlite, machine_load

    load_before = machine_load()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        database = options.database or f"sqlite:///{Path(scratch) / 'sim.sqlite3'}"
        if database.startswith("postgres"):
            fresh_postgres(database)
        else:
            fresh_sqlite(database)
        django_setup(database)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        rows = [Row(scenario=scenario, rate=rate) for rate in options.rates for scenario in scenarios]
        for replication in range(options.replications):
            for row in rows:
                with rolled_back():
                    result = simulate(
                        scenario=row.scenario,
                        rate=row.rate,
                        helpers=options.helpers,
                        hours=options.hours,
                        seed=options.seed,
                        replication=replication,
                    )
                row.results.append(result)
                ended = DAY_OPENS + timedelta(minutes=result.minutes)
                print(
                    f"[{time.strftime('%H:%M:%S')}] {row.scenario.name} at {row.rate}/h, replication "
                    f"{replication + 1}: {result.requests} requests, contacted within 30 minutes "
                    f"{result.contacted_in_30 * 100:.1f} %, {result.offers} offers, "
                    f"ended {ended:%H:%M}, {result.unresolved} still open, {result.nudges} calls brought "
                    f"forward by the reminder, {result.steps} steps, {result.seconds:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
        platform = platform_settings()
        from django.db import connection

        connection.close()

    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    print(
        f"\nOn Demand routing simulation: {options.helpers} helpers, {options.hours:g} hours of arrivals, "
        f"{options.replications} replication(s), seed {options.seed}, {engine}; mean ± standard deviation"
    )
    print(f"before: {load_before}; after: {machine_load()}; {time.perf_counter() - started:.0f} s in all")
    print(f"Platform defaults: {platform}")
    print(table(rows))
    first = next(row for row in rows if row.scenario is PLATFORM_DEFAULTS and row.rate == options.rates[0])
    print(contacted_line(statistics.fmean(r.contacted_in_30 for r in first.results)))


if __name__ == "__main__":
    main()
