"""Benchmark: On Demand routing decisions with 5,000 registered helpers.

Builds a throwaway database (SQLite in a temporary folder by default, or --database
postgres://…/<throwaway name>, dropped and created again) holding a synthetic helper population:

  helpers     --helpers registered helpers (default 5,000) and --unregistered others, homes in
              Kentucky's 120 counties (weighted by how many ZIP codes each has), each serving its home
              county and 0-4 neighbouring ones; agents, kynectors and agency admins; English for
              nearly all, Spanish for about 15 %, other languages for a few; one or both programs;
              weekly schedules with breaks (full time, part time, split shifts, evenings, Saturdays) in
              the helper's own time zone; 85 % with the availability switch on; a few on time off;
              some with missed referrals in a row.
  history     --history past requests of the same week, accepted (In Progress or Complete) with
              their offers, so that the score's recent load and "offered longest ago" have rows to read.
  requests    --requests Pending requests (plus --warmup uncounted ones) from ZIP codes weighted like the
              helpers, in the languages and programs residents ask for, each at its own moment inside
              service hours of one week. 60 % are due their General offer (round 1); the others a Mass
              round of ONDEMAND_MASS_SIZE (round 2 with the language still required, or a later round
              with it relaxed), after earlier offers that were not taken.

A routing decision is `offers.help_request_route(help_request_id=…, now=moment)`: from a Pending
request to its offers written and committed (the request's row lock, the eligibility query, scoring,
the offer inserts and their notifications queued), or to the request left waiting when nobody is
eligible. Each is timed in this process (DEBUG off); the offers it wrote are then deleted, uncounted,
so every decision sees the same free helpers. Also reported: the time inside `candidates_ranked`
(eligibility query and scoring) and the number of SQL statements per decision. --explain N prints the
plan of the eligibility query of the N slowest decisions (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY
PLAN on SQLite). Run from the project folder:

    .venv/bin/python bench/ondemand_routing.py
    .venv/bin/python bench/ondemand_routing.py --database postgres://postgres@127.0.0.1:5432/kynect_bench_od

--reuse measures a database built earlier (with --keep for SQLite) without building it again. The other
On Demand benchmarks import `population_build` from here.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from directory_import import MANAGE, ROOT, django_env, fresh_postgres, fresh_sqlite, machine_load

EASTERN = ZoneInfo("America/New_York")
WEEK_START = datetime(2026, 11, 16, tzinfo=EASTERN)  # a Monday
SERVICE_HOURS = {0: (8, 20), 1: (8, 20), 2: (8, 20), 3: (8, 20), 4: (8, 20), 5: (9, 13)}  # Eastern
ALWAYS_OPEN = ",".join(f"{day}=00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

# What residents ask for (shares): languages and programs.
REQUEST_LANGUAGES = {"en": 0.85, "es": 0.10, "ar": 0.01, "zh": 0.01, "fr": 0.005, "ne": 0.005,
                     "so": 0.005, "sw": 0.005, "vi": 0.005, "ase": 0.005}  # fmt: skip
REQUEST_PROGRAMS = {"qhp": 0.40, "medicaid_kchip": 0.40, "not_sure": 0.20}
OTHER_LANGUAGES = ("ar", "zh", "fr", "ne", "so", "sw", "vi", "ase")


def django_setup(database: str, extra: dict[str, str] | None = None) -> None:
    """Set the environment for `database` and set Django up in this process."""
    os.environ.update(django_env(database))
    os.environ.update(bench_env())
    os.environ.update(extra or {})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def bench_env() -> dict[str, str]:
    """Messages are queued and sent as usual, but to backends that keep nothing and print nothing."""
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "SMS_BACKEND": "kynect.notifications.sms.LocmemSmsBackend",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def database_fresh(database: str) -> float:
    """Drop and create (PostgreSQL) or delete (SQLite) the database, then migrate it. Returns seconds."""
    if database.startswith("postgres"):
        fresh_postgres(database)
    else:
        fresh_sqlite(database)
    started = time.perf_counter()
    env = {**django_env(database), **bench_env()}
    subprocess.run([*MANAGE, "migrate", "-v0"], env=env, cwd=ROOT, check=True)  # noqa: S603
    return time.perf_counter() - started


def git(*arguments: str) -> str:
    command = ["git", "-C", str(ROOT), *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603


def commit() -> str:
    """The checkout's commit, and whether routing's code measured differs from it."""
    paths = ("kynect/ondemand/routing.py", "kynect/ondemand/selectors.py", "kynect/ondemand/models.py")
    changed = git("status", "--porcelain", "--", *paths)
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} + uncommitted routing changes" if changed else head


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "mean": statistics.fmean(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
    }


# --- Geography -------------------------------------------------------------------------------------


@dataclass
class Geography:
    """Kentucky's ZIP codes by county, and each county's neighbours (nearest centroids)."""

    zips_by_county: dict[str, list[Any]]
    neighbours: dict[str, list[str]]
    zips: list[Any]

    def zip_in(self, rng: random.Random, fips: str) -> Any:
        return rng.choice(self.zips_by_county[fips])


def geography_load() -> Geography:
    from kynect.core.geo import haversine_miles, kentucky_zip_codes, zip_lookup

    zips_by_county: dict[str, list[Any]] = defaultdict(list)
    for code in kentucky_zip_codes():
        info = zip_lookup(code)
        if info.county is not None:
            zips_by_county[info.county.fips].append(info)
    centre = {
        fips: (statistics.fmean(z.latitude for z in zs), statistics.fmean(z.longitude for z in zs))
        for fips, zs in zips_by_county.items()
    }
    neighbours = {
        fips: sorted(
            (other for other in centre if other != fips),
            key=lambda other: haversine_miles(*centre[fips], *centre[other]),
        )[:6]
        for fips in centre
    }
    zips = [info for fips in sorted(zips_by_county) for info in zips_by_county[fips]]
    return Geography(dict(zips_by_county), neighbours, zips)


def pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


# --- The helper population ---------------------------------------------------------------------------


def _schedule(rng: random.Random, mode: str) -> list[tuple[int, int, int, list[tuple[int, int]]]]:
    """(weekday, start, end, breaks) windows in minutes. `always`: every day round the clock, with a
    30-minute break somewhere; `week`: one of a few working patterns, with lunch and short breaks."""
    if mode == "always":
        start = rng.randrange(0, 47) * 30
        return [(day, 0, 1440, [(start, start + 30)]) for day in range(7)]
    shift = rng.choice((-60, -30, 0, 0, 30))
    pattern = rng.choices(("full", "nine_five", "part", "split", "evening"), weights=(35, 20, 15, 15, 15))[0]
    windows: list[tuple[int, int, int, list[tuple[int, int]]]] = []
    if pattern == "full":
        for day in range(5):
            windows.append((day, 480 + shift, 1020 + shift, [(720, 780)]))
    elif pattern == "nine_five":
        for day in range(5):
            windows.append((day, 540, 1020, [(615, 630), (720, 750), (900, 915)]))
    elif pattern == "part":
        for day in sorted(rng.sample(range(6), 3)):
            windows.append((day, 540 + shift, 780 + shift, [(660, 670)]))
    elif pattern == "split":
        for day in range(5):
            windows.append((day, 480, 720, [(600, 615)]))
            windows.append((day, 780, 1080, [(930, 945)]))
        windows.append((5, 540, 780, []))
    else:
        for day in range(5):
            windows.append((day, 960, 1200, [(1080, 1110)]))
        windows.append((5, 540, 780, [(660, 675)]))
    return windows


@dataclass
class Population:
    helper_ids: list[Any] = field(default_factory=list)
    helpers_by_county: dict[str, list[Any]] = field(default_factory=dict)
    seconds: float = 0.0
    rows: Counter[str] = field(default_factory=Counter)


def population_build(
    *,
    helpers: int,
    unregistered: int,
    history: int,
    seed: int,
    geography: Geography,
    schedule: str = "week",
    week_start: datetime = WEEK_START,
    available_share: float = 0.85,
) -> Population:
    """Write the helpers (and `history` past accepted requests with their offers) with bulk_create."""
    from django.db import transaction

    from kynect.accounts.models import Organization, User
    from kynect.ondemand.models import (
        DoiLicence,
        Helper,
        HelperCounty,
        HelperLanguage,
        HelperProgram,
        HelpRequest,
        Offer,
        ScheduleBreak,
        ScheduleWindow,
        TimeOff,
    )

    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    counties = sorted(geography.zips_by_county)
    county_weights = [len(geography.zips_by_county[fips]) for fips in counties]
    population = Population()
    by_county: dict[str, list[Any]] = defaultdict(list)
    with transaction.atomic():
        organizations = [
            Organization(name=f"Bench agency {number}", type=Organization.Type.NOT_FOR_PROFIT)
            for number in range(80)
        ]
        Organization.objects.bulk_create(organizations, batch_size=500)
        users, licences, rows, counties_rows, languages, programs = [], [], [], [], [], []
        windows, breaks, time_off = [], [], []
        total = helpers + unregistered
        for number in range(total):
            registered = number < helpers
            user = User(email=f"bench-helper-{number}@example.org", first_name="Helper")
            user.set_unusable_password()
            users.append(user)
            home_fips = rng.choices(counties, weights=county_weights)[0]
            home = geography.zip_in(rng, home_fips)
            role = rng.choices(
                (Helper.Role.AGENT, Helper.Role.KYNECTOR, Helper.Role.AGENCY_ADMIN), weights=(50, 40, 10)
            )[0]
            licence = None
            if role == Helper.Role.AGENT:
                licence = DoiLicence(
                    npn=f"{7000000 + number}",
                    licence_number=f"BENCH-{number}",
                    first_name="Helper",
                    last_name=f"Bench{number}",
                    email=f"bench-helper-{number}@example.org",
                    phone="+15025550123",
                    status=DoiLicence.Status.ACTIVE,
                    lines_of_authority=["Health"],
                    has_health_authority=True,
                    certification_completed_on=now.date(),
                    imported_at=now,
                )
                licences.append(licence)
            helper = Helper(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                user=user,
                role=role,
                organization=organizations[rng.randrange(len(organizations))]
                if role != Helper.Role.AGENT
                else None,
                licence=licence,
                status=Helper.Status.REGISTERED if registered else Helper.Status.NOT_REGISTERED,
                terms_version="2026-1" if registered else "",
                terms_agreed_at=now if registered else None,
                contact_completed_at=now if registered else None,
                schedule_completed_at=now if registered else None,
                registered_at=now if registered else None,
                phone=f"+1606{2000000 + number:07d}" if registered else "",
                phone_verified_at=now if registered else None,
                email=f"bench-helper-{number}@example.org",
                channel=rng.choices((Helper.Channel.SMS_AND_EMAIL, Helper.Channel.EMAIL), weights=(8, 2))[0],
                is_available=rng.random() < available_share,
                consecutive_misses=rng.choices((0, 1, 2), weights=(80, 15, 5))[0],
                home_zip=home.zip_code,
                home_latitude=home.latitude + rng.uniform(-0.03, 0.03),
                home_longitude=home.longitude + rng.uniform(-0.03, 0.03),
                home_county_fips=home_fips,
                time_zone=home.time_zone,
                agency_active=role != Helper.Role.AGENT and rng.random() < 0.97,
            )
            rows.append(helper)
            served = [
                home_fips,
                *geography.neighbours[home_fips][: rng.choices(range(5), (30, 25, 20, 15, 10))[0]],
            ]
            counties_rows += [HelperCounty(helper=helper, county_fips=fips) for fips in served]
            spoken = ["en"] if rng.random() < 0.97 else []
            if rng.random() < 0.15:
                spoken.append("es")
            if rng.random() < 0.04 or not spoken:
                spoken.append(rng.choice(OTHER_LANGUAGES))
            languages += [HelperLanguage(helper=helper, language=code) for code in spoken]
            chosen = rng.choices((("qhp", "medicaid_kchip"), ("qhp",), ("medicaid_kchip",)), (60, 20, 20))[0]
            programs += [HelperProgram(helper=helper, program=code) for code in chosen]
            for weekday, start, end, window_breaks in _schedule(rng, schedule):
                window = ScheduleWindow(helper=helper, weekday=weekday, start_minute=start, end_minute=end)
                windows.append(window)
                breaks += [
                    ScheduleBreak(window=window, start_minute=a, end_minute=b) for a, b in window_breaks
                ]
            if rng.random() < 0.03:
                off_start = week_start + timedelta(days=rng.randrange(6), hours=rng.randrange(24))
                time_off.append(
                    TimeOff(helper=helper, starts_at=off_start, ends_at=off_start + timedelta(days=1))
                )
            if registered:
                population.helper_ids.append(helper.id)
                for fips in served:
                    by_county[fips].append(helper.id)
        User.objects.bulk_create(users, batch_size=1000)
        DoiLicence.objects.bulk_create(licences, batch_size=1000)
        for helper in rows:
            helper.user_id = helper.user.pk
        Helper.objects.bulk_create(rows, batch_size=1000)
        HelperCounty.objects.bulk_create(counties_rows, batch_size=2000)
        HelperLanguage.objects.bulk_create(languages, batch_size=2000)
        HelperProgram.objects.bulk_create(programs, batch_size=2000)
        ScheduleWindow.objects.bulk_create(windows, batch_size=2000)
        for item in breaks:
            item.window_id = item.window.pk
        ScheduleBreak.objects.bulk_create(breaks, batch_size=2000)
        TimeOff.objects.bulk_create(time_off, batch_size=1000)
        population.rows.update(
            users=len(users), helpers=len(rows), helper_counties=len(counties_rows),
            helper_languages=len(languages), helper_programs=len(programs), schedule_windows=len(windows),
            schedule_breaks=len(breaks), time_off=len(time_off),
        )  # fmt: skip

        # History: accepted requests of the week, with the offers that led to them.
        past, offers = [], []
        for number in range(history):
            zip_info = rng.choice(geography.zips)
            fips = zip_info.county.fips
            pool = by_county.get(fips) or population.helper_ids
            submitted = week_start + timedelta(minutes=rng.randrange(6 * 24 * 60))
            accepted_at = submitted + timedelta(minutes=rng.randrange(1, 20))
            complete = rng.random() < 0.9
            chosen_helpers = rng.sample(pool, min(len(pool), rng.choice((1, 1, 2, 3))))
            request = HelpRequest(
                name="Past requester",
                phone=f"+1270{3000000 + number:07d}",
                contact_method=HelpRequest.ContactMethod.TEXT,
                language="en",
                zip_code=zip_info.zip_code,
                county_fips=fips,
                time_zone=zip_info.time_zone,
                latitude=zip_info.latitude,
                longitude=zip_info.longitude,
                program=pick(rng, REQUEST_PROGRAMS),
                consent_given_at=submitted,
                consent_version="2026-1",
                status=HelpRequest.Status.COMPLETE if complete else HelpRequest.Status.IN_PROGRESS,
                outcome=HelpRequest.Outcome.APPLIED if complete else "",
                submitted_at=submitted,
                clock_starts_at=submitted,
                sla_due_at=submitted + timedelta(minutes=30),
                unserved_at=submitted + timedelta(hours=4),
                accepted_helper_id=chosen_helpers[-1],
                accepted_at=accepted_at,
                closed_at=accepted_at + timedelta(minutes=40) if complete else None,
                first_contact_at=accepted_at + timedelta(minutes=5),
                rounds=len(chosen_helpers),
                token_hash="0" * 64,
            )
            past.append(request)
            for round_number, helper_id in enumerate(chosen_helpers, start=1):
                last = round_number == len(chosen_helpers)
                offered_at = submitted + timedelta(minutes=round_number - 1)
                offers.append(
                    Offer(
                        help_request=request,
                        helper_id=helper_id,
                        kind=Offer.Kind.GENERAL if round_number == 1 else Offer.Kind.MASS,
                        round=round_number,
                        status=Offer.Status.ACCEPTED if last else Offer.Status.REJECTED,
                        accepted_via=Offer.Via.DESKTOP if last else "",
                        score=1.0,
                        offered_at=offered_at,
                        expires_at=offered_at + timedelta(minutes=15),
                        responded_at=offered_at + timedelta(minutes=1),
                        token_hash="0" * 64,
                    )
                )
        HelpRequest.objects.bulk_create(past, batch_size=1000)
        for offer in offers:
            offer.help_request_id = offer.help_request.pk
        Offer.objects.bulk_create(offers, batch_size=1000)
        population.rows.update(past_requests=len(past), past_offers=len(offers))
    population.helpers_by_county = dict(by_county)
    population.seconds = time.perf_counter() - started
    return population


def analyze() -> None:
    """Refresh the planner's statistics, as autovacuum (PostgreSQL) or `ANALYZE` would after a load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def pending_request(
    rng: random.Random, geography: Geography, *, number: int, moment: datetime, phone_prefix: str = "+1859"
) -> Any:
    """An unsaved Pending request made at `moment`, due to be routed, from a ZIP code weighted like
    the population (every ZIP code equally: counties with more ZIP codes ask more)."""
    from kynect.ondemand.models import HelpRequest

    zip_info = rng.choice(geography.zips)
    return HelpRequest(
        name="Bench requester",
        phone=f"{phone_prefix}{1000000 + number:07d}",
        contact_method=HelpRequest.ContactMethod.TEXT,
        language=pick(rng, REQUEST_LANGUAGES),
        zip_code=zip_info.zip_code,
        city=zip_info.city,
        county_fips=zip_info.county.fips,
        time_zone=zip_info.time_zone,
        latitude=zip_info.latitude,
        longitude=zip_info.longitude,
        program=pick(rng, REQUEST_PROGRAMS),
        consent_given_at=moment,
        consent_version="2026-1",
        submitted_at=moment,
        clock_starts_at=moment,
        sla_due_at=moment + timedelta(minutes=30),
        unserved_at=moment + timedelta(hours=4),
        waiting_since=moment,
        route_at=moment,
        token_hash="0" * 64,
    )


def service_moment(rng: random.Random) -> datetime:
    """A moment inside service hours (Eastern) of the bench week."""
    day = rng.choice(sorted(SERVICE_HOURS))
    opens, closes = SERVICE_HOURS[day]
    minute = rng.randrange(opens * 60, closes * 60)
    return (WEEK_START + timedelta(days=day, minutes=minute, seconds=rng.randrange(60))).astimezone(UTC)


@dataclass
class Decision:
    number: int
    round_due: int
    language_required: bool
    seconds: float
    cpu_seconds: float
    offer_seconds: float
    ranking_seconds: float
    candidates: list[int]
    statements: int
    db_seconds: float
    offers: int
    waiting: bool
    request_id: Any = None
    moment: datetime | None = None
    eligibility_sql: tuple[str, Any] | None = None


class Statements:
    """An execute wrapper counting statements and their time, keeping the eligibility query."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.eligibility: tuple[str, Any] | None = None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1
            if self.eligibility is None and sql.startswith("SELECT h.id, h.home_latitude"):
                self.eligibility = (sql, params)


def requests_make(
    *, count: int, seed: int, geography: Geography, population: Population
) -> list[tuple[Any, datetime, int]]:
    """Pending requests due a routing decision: (id, moment, round due). 60 % round 1 (General); the
    rest a Mass round, after earlier offers (expired General, rejected Mass) to helpers of their county."""
    from django.conf import settings
    from django.db import transaction

    from kynect.ondemand.models import HelpRequest, Offer

    rng = random.Random(seed)
    rows, offers, made = [], [], []
    for number in range(count):
        moment = service_moment(rng)
        request = pending_request(rng, geography, number=number, moment=moment)
        done = rng.choices((0, 1, 2, 3), weights=(60, 20, 10, 10))[0]
        request.rounds = done
        request.language_relaxed = done >= 2
        pool = population.helpers_by_county.get(request.county_fips) or population.helper_ids
        earlier = 1 + (done - 1) * settings.ONDEMAND_MASS_SIZE if done else 0
        for index, helper_id in enumerate(rng.sample(pool, min(len(pool), earlier))):
            round_number = 1 if index == 0 else 2 + (index - 1) // settings.ONDEMAND_MASS_SIZE
            offered_at = moment - timedelta(minutes=15 * (done - round_number + 1) + 1)
            offers.append(
                Offer(
                    help_request=request,
                    helper_id=helper_id,
                    kind=Offer.Kind.GENERAL if round_number == 1 else Offer.Kind.MASS,
                    round=round_number,
                    status=Offer.Status.EXPIRED if round_number == 1 else Offer.Status.REJECTED,
                    counted_miss=round_number == 1,
                    score=1.0,
                    offered_at=offered_at,
                    expires_at=offered_at + timedelta(minutes=15),
                    token_hash="0" * 64,
                )
            )
        request.submitted_at = request.clock_starts_at = request.consent_given_at = moment - timedelta(
            minutes=15 * done + 1
        )
        rows.append(request)
        made.append((request.pk, moment, done + 1))
    with transaction.atomic():
        HelpRequest.objects.bulk_create(rows, batch_size=1000)
        for offer in offers:
            offer.help_request_id = offer.help_request.pk
        Offer.objects.bulk_create(offers, batch_size=1000)
    return made


def decisions_measure(made: list[tuple[Any, datetime, int]], *, warmup: int) -> list[Decision]:
    from django.db import connection

    from kynect.ondemand import routing
    from kynect.ondemand.models import HelpRequest, Offer
    from kynect.ondemand.services import offers

    original: Callable[..., Any] = routing.candidates_ranked
    ranking: list[tuple[float, int, bool]] = []

    def timed(**kwargs: Any) -> Any:
        started = time.perf_counter()
        result = original(**kwargs)
        ranking.append((time.perf_counter() - started, len(result), kwargs["language_required"]))
        return result

    original_offer: Callable[..., Any] = offers.offer_create
    offering: list[float] = []

    def timed_offer(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_offer(*args, **kwargs)
        finally:
            offering.append(time.perf_counter() - started)

    routing.candidates_ranked = timed
    offers.offer_create = timed_offer
    decisions: list[Decision] = []
    try:
        for number, (request_id, moment, round_due) in enumerate(made):
            ranking.clear()
            offering.clear()
            statements = Statements()
            with connection.execute_wrapper(statements):
                started, started_cpu = time.perf_counter(), time.thread_time()
                result = offers.help_request_route(help_request_id=request_id, now=moment)
                seconds, cpu = time.perf_counter() - started, time.thread_time() - started_cpu
            # Not counted: free the helpers again, and put the request back as it was.
            Offer.objects.filter(pk__in=[offer.pk for offer in result.offers]).delete()
            HelpRequest.objects.filter(pk=request_id).update(rounds=round_due - 1, route_at=moment)
            if number < warmup:
                continue
            decisions.append(
                Decision(
                    number=number,
                    round_due=round_due,
                    language_required=ranking[0][2] if ranking else False,
                    seconds=seconds,
                    cpu_seconds=cpu,
                    offer_seconds=sum(offering),
                    ranking_seconds=sum(item[0] for item in ranking),
                    candidates=[item[1] for item in ranking],
                    statements=statements.count,
                    db_seconds=statements.seconds,
                    offers=len(result.offers),
                    waiting=result.waiting,
                    request_id=request_id,
                    moment=moment,
                    eligibility_sql=statements.eligibility,
                )
            )
    finally:
        routing.candidates_ranked = original
        offers.offer_create = original_offer
    return decisions


def explain(decisions: Sequence[Decision], count: int) -> None:
    from django.db import connection

    slowest = sorted(decisions, key=lambda decision: decision.seconds, reverse=True)[:count]
    for decision in slowest:
        if decision.eligibility_sql is None:
            continue
        sql, params = decision.eligibility_sql
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        print(
            f"\n-- decision {decision.number}: {decision.seconds * 1000:.1f} ms, round {decision.round_due}"
        )
        print(sql if len(sql) < 6000 else sql[:6000] + " …")
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            for row in cursor.fetchall():
                print("  " + " | ".join(str(item) for item in row))


def report(decisions: Sequence[Decision], *, engine: str, helpers: int, load: tuple[str, str]) -> None:
    ms = [decision.seconds * 1000 for decision in decisions]
    print(f"\nOn Demand routing decisions, {engine}, {helpers:,} registered helpers")
    print(f"commit {commit()}; load before: {load[0]}; after: {load[1]}")
    print("times in ms; a decision = help_request_route from Pending to offers committed (or waiting)\n")
    print("| decisions | n | p50 | p95 | p99 | mean | max |")
    print("|---|---|---|---|---|---|---|")

    def row(label: str, values: Sequence[float]) -> None:
        f = figures(values)
        print(
            f"| {label} | {f['n']} | {f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | {f['mean']:.1f} "
            f"| {f['max']:.1f} |"
        )

    general = [d.seconds * 1000 for d in decisions if d.round_due == 1]
    mass_strict = [d.seconds * 1000 for d in decisions if d.round_due == 2]
    mass_relaxed = [d.seconds * 1000 for d in decisions if d.round_due >= 3]
    row("General offer (round 1, language required)", general)
    row("Mass round 2 (language required)", mass_strict)
    row("Mass round 3-4 (language relaxed)", mass_relaxed)
    row("ended with offers", [d.seconds * 1000 for d in decisions if d.offers])
    row("ended waiting (nobody eligible)", [d.seconds * 1000 for d in decisions if d.waiting])
    row("**all**", ms)
    row(
        "of which candidates_ranked (eligibility query and score)",
        [d.ranking_seconds * 1000 for d in decisions],
    )
    row("of which offers written (insert + messages queued)", [d.offer_seconds * 1000 for d in decisions])
    row(
        "of which SQL statements (execute; SQLite steps rows on fetch)",
        [d.db_seconds * 1000 for d in decisions],
    )
    row("CPU time of this process (all)", [d.cpu_seconds * 1000 for d in decisions])
    candidates = [d.candidates[0] for d in decisions if d.candidates]
    print(
        f"\neligible candidates per decision (first ranking): median {statistics.median(candidates):.0f}, "
        f"p95 {percentile(candidates, 0.95):.0f}, max {max(candidates)}; "
        f"a second ranking (nobody spoke the language) in {sum(len(d.candidates) > 1 for d in decisions)}"
    )
    print(
        f"offers written per decision: {dict(sorted(Counter(d.offers for d in decisions).items()))}; "
        f"SQL statements per decision: median {statistics.median(d.statements for d in decisions):.0f}, "
        f"max {max(d.statements for d in decisions)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help="DATABASE_URL of a throwaway database (default: SQLite in a temporary folder)",
    )
    parser.add_argument("--helpers", type=int, default=5000, help="registered helpers")
    parser.add_argument("--unregistered", type=int, default=500, help="helpers not (or no longer) registered")
    parser.add_argument("--history", type=int, default=5000, help="past accepted requests of the week")
    parser.add_argument("--requests", type=int, default=1000, help="routing decisions measured")
    parser.add_argument("--warmup", type=int, default=50, help="decisions made first and not counted")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--explain", type=int, default=0, metavar="N", help="plans of the N slowest")
    parser.add_argument("--reuse", action="store_true", help="measure a database built earlier as it is")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file (path printed)")
    options = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="ondemand-routing-")
    database = options.database or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    built = ""
    if not options.reuse:
        migrate_seconds = database_fresh(database)
        built = f"migrate {migrate_seconds:.1f} s"
    django_setup(database)
    from django.db import connection

    from kynect.ondemand.models import Helper

    geography = geography_load()
    if options.reuse:
        from kynect.ondemand.models import HelpRequest

        HelpRequest.objects.filter(name="Bench requester").delete()  # an earlier run's requests
        population = Population()
        for helper_id, fips in Helper.objects.filter(status=Helper.Status.REGISTERED).values_list(
            "pk", "counties__county_fips"
        ):
            population.helpers_by_county.setdefault(fips, []).append(helper_id)
        population.helper_ids = list(
            Helper.objects.filter(status=Helper.Status.REGISTERED).values_list("pk", flat=True)
        )
    else:
        population = population_build(
            helpers=options.helpers,
            unregistered=options.unregistered,
            history=options.history,
            seed=options.seed,
            geography=geography,
        )
        built += f", population {population.seconds:.1f} s ({dict(population.rows)})"
    made = requests_make(
        count=options.requests + options.warmup,
        seed=options.seed + 1,
        geography=geography,
        population=population,
    )
    analyze()
    print(f"[{time.strftime('%H:%M:%S')}] built: {built or 'reused'}", file=sys.stderr, flush=True)
    load_before = machine_load()
    decisions = decisions_measure(made, warmup=options.warmup)
    load_after = machine_load()
    version = (
        getattr(connection, "Database").sqlite_version  # noqa: B009 (not in the stubs)
        if engine == "SQLite"
        else f"{getattr(connection, 'pg_version') // 10000}"  # noqa: B009
    )
    report(
        decisions,
        engine=f"{engine} {version}",
        helpers=len(population.helper_ids),
        load=(load_before, load_after),
    )
    if options.explain:
        explain(decisions, options.explain)
    if options.keep and not options.database:
        print(f"\nkept: {database}")
    elif not options.database:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{Path(scratch) / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)
        os.rmdir(scratch)


if __name__ == "__main__":
    main()
