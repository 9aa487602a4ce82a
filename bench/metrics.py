"""Benchmark: the metrics dashboards and the monthly incentive report at scale.

Builds a throwaway database (--database postgres://…/<throwaway name>, dropped and created again; SQLite in a
temporary folder without it), in bulk, over the three years up to now:

  organizations  --organizations (default 1,000): 70 % not-for-profit, 10 % hospitals, 8 % state agencies,
                 7 % for-profit, 3 % MCOs, 2 % other; each with a directory listing and an active service, a
                 mailing address, onboarded at a random time; a partner user each.
  residents      --residents (default 200,000), each in a Kentucky county.
  referrals      --referrals (default 1,000,000) between random organizations (one in five a resident's own),
                 made at random times, more of them recent; the statuses of a mature platform; the closed
                 ones closed within 20 days with the resources overview's form.
  assessments    --assessments (default 200,000) completed, nine in ten by an organization, each with two
                 ratings.

Then it times, in this process (DEBUG off), after --warmup uncounted rounds, --rounds rounds of each page
through Django's test client:

  statewide          GET /metrics/ as anyone (this year)
  statewide, county  GET /metrics/?period=year&county=… as a state administrator (the busiest county)
  statewide, type    GET /metrics/?period=year&organization_type=not_for_profit as a state administrator
  statewide, 30 days GET /metrics/?period=30days as anyone
  partner            GET /referrals/dashboard/<organization>/ as a member of the organization that received
                     the most referrals (the last 30 days, its default)

The months are counted into the summary first, as the nightly job counts them (timed), and the incentive
reports of the last --history-months months (default 36), made in turn as the recurring job
makes them (the last reads a ledger of three years), then the last re-made.
It prints p50/p95/p99 in milliseconds, the SQL statements per page, the seconds of each report, and the load
average before and after. Run from the project folder:

    .venv/bin/python bench/metrics.py --database postgres://postgres@127.0.0.1:5432/kynect_bench_metrics
    .venv/bin/python bench/metrics.py --database … --reuse     # the database as it is, migrated
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from directory_import import machine_load
from ondemand_routing import MANAGE, ROOT, bench_env, database_fresh, django_env, django_setup, figures, git
from referrals import page, timed

BATCH = 5000
TYPE_SHARES = {
    "not_for_profit": 0.70,
    "hospital": 0.10,
    "state_agency": 0.08,
    "for_profit": 0.07,
    "mco": 0.03,
    "other": 0.02,
}
STATUS_SHARES = {
    "requested": 0.04,
    "accepted": 0.02,
    "in-progress": 0.03,
    "on-hold": 0.01,
    "completed": 0.50,
    "failed": 0.25,
    "rejected": 0.06,
    "cancelled": 0.09,
}
REASONS = ("eligibility", "no_show", "no_funding", "unreachable", "outside_area", "too_far", "other")
DAYS = 3 * 365


def commit() -> str:
    changed = git("status", "--porcelain", "--", "kynect")
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} + uncommitted changes" if changed else head


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _moment(rng: random.Random, now: Any) -> Any:
    """A time in the last three years, more of them recent (the platform grows)."""
    return now - timedelta(seconds=(1 - rng.random() ** 0.7) * DAYS * 86400)


def population_build(
    *, organizations: int, residents: int, referrals: int, assessments: int, seed: int
) -> float:
    from django.utils import timezone

    from kynect.accounts.models import Membership, Organization, Role, User
    from kynect.assessments.models import Assessment, Instrument, RiskRating
    from kynect.core.geo import KENTUCKY_COUNTIES
    from kynect.core.sdoh import SdohDomain
    from kynect.directory import models as hsds
    from kynect.referrals.models import Referral
    from kynect.residents.models import Resident

    rng = random.Random(seed)
    now = timezone.now()
    started = time.perf_counter()
    listings = [
        hsds.Organization(name=f"Bench listing {n}", description="Bench") for n in range(organizations)
    ]
    hsds.Organization.objects.bulk_create(listings, batch_size=BATCH)
    services = [
        hsds.Service(organization=listing, name=f"Bench service {n}", status="active")
        for n, listing in enumerate(listings)
    ]
    hsds.Service.objects.bulk_create(services, batch_size=BATCH)
    orgs = []
    for n in range(organizations):
        onboarded = now - timedelta(days=rng.uniform(30, DAYS))
        orgs.append(
            Organization(
                name=f"Bench partner {n:04d}",
                type=_pick(rng, TYPE_SHARES),
                hsds_organization=listings[n],
                address_1=f"{n} Main St",
                city="Frankfort",
                postal_code="40601",
                status=Organization.Status.APPROVED,
                onboarded_at=onboarded,
            )
        )
    Organization.objects.bulk_create(orgs, batch_size=BATCH)
    users = [
        User(email=f"bench-partner-{n}@example.org", last_name=f"Partner {n}") for n in range(organizations)
    ]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=BATCH)
    Membership.objects.bulk_create(
        [
            Membership(user=u, organization=o, role=Role.PARTNER_USER)
            for u, o in zip(users, orgs, strict=True)
        ],
        batch_size=BATCH,
    )
    # The busiest counties hold more residents, as Jefferson and Fayette do.
    weights = [8 if county.name in ("Jefferson", "Fayette") else 1 for county in KENTUCKY_COUNTIES]
    people = [
        Resident(
            first_name=f"Bench{n}",
            last_name="Resident",
            birth_date=date(1950, 1, 1) + timedelta(days=n % 20000),
            county_fips=rng.choices(KENTUCKY_COUNTIES, weights=weights)[0].fips,
            mobile_phone=f"+1502555{n % 10000:04d}",
            match_key=f"bench-{n}",
        )
        for n in range(residents)
    ]
    Resident.objects.bulk_create(people, batch_size=BATCH)
    print(f"  organizations and residents: {time.perf_counter() - started:.0f} s", flush=True)

    needs = SdohDomain.values
    created_at = Referral._meta.get_field("created_at")
    created_at.auto_now_add = False
    batch: list[Referral] = []
    # Busier organizations receive more: the n-th busiest in proportion to 1 / (n + 20), so the busiest
    # receives about 1.3 % of all referrals.
    receivers = rng.choices(
        range(organizations), weights=[1 / (n + 20) for n in range(organizations)], k=65536
    )
    for n in range(referrals):
        receiver = receivers[n % len(receivers)]
        sender = rng.randrange(organizations) if rng.random() < 0.8 else None
        created = _moment(rng, now)
        status = _pick(rng, STATUS_SHARES)
        row = Referral(
            resident=people[rng.randrange(residents)],
            service=services[receiver],
            receiving_listing=listings[receiver],
            receiving_organization=orgs[receiver],
            sending_organization=orgs[sender] if sender is not None else None,
            created_by=users[sender if sender is not None else receiver],
            need=rng.choice(needs),
            status=status,
            created_at=created,
            updated_at=created,
        )
        if status not in Referral.OPEN_STATUSES:
            row.closed_at = min(created + timedelta(days=rng.uniform(0.1, 20)), now)
            if status in ("completed", "failed"):
                row.experience = rng.choice(("up", "down"))
                row.resource_provided = status == "completed"
                if status == "failed":
                    row.not_provided_reason = rng.choice(REASONS)
        batch.append(row)
        if len(batch) == BATCH:
            Referral.objects.bulk_create(batch)
            batch = []
        if (n + 1) % 200_000 == 0:
            print(f"  referrals: {n + 1:,} in {time.perf_counter() - started:.0f} s", flush=True)
    Referral.objects.bulk_create(batch)
    created_at.auto_now_add = True

    instrument = Instrument.objects.get(code="kynect-sdoh", version=1)
    ratings = ("stable", "vulnerable", "in_crisis", "na")
    done: list[Assessment] = []
    rated: list[RiskRating] = []
    for _ in range(assessments):
        organization = orgs[rng.randrange(organizations)] if rng.random() < 0.9 else None
        completed = _moment(rng, now)
        resident = people[rng.randrange(residents)]
        assessment = Assessment(
            resident=resident,
            instrument=instrument,
            organization=organization,
            taken_by=users[0],
            status=Assessment.Status.COMPLETED,
            completed_at=completed,
        )
        done.append(assessment)
        for domain in rng.sample(needs, 2):
            rated.append(
                RiskRating(
                    resident=resident,
                    domain=domain,
                    rating=rng.choice(ratings),
                    source="assessment",
                    assessment=assessment,
                    rated_at=completed,
                    organization=organization,
                )
            )
        if len(done) == BATCH:
            Assessment.objects.bulk_create(done)
            RiskRating.objects.bulk_create(rated)
            done, rated = [], []
    Assessment.objects.bulk_create(done)
    RiskRating.objects.bulk_create(rated)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is (migrated first)")
    parser.add_argument("--organizations", type=int, default=1000)
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--assessments", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--history-months", type=int, default=36, help="monthly reports made in turn")
    options = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="metrics-bench-")
    database = options.database or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    built = ""
    if options.reuse:
        env = {**django_env(database), **bench_env()}
        subprocess.run([*MANAGE, "migrate", "-v0"], env=env, cwd=ROOT, check=True)  # noqa: S603
        django_setup(database)
    else:
        migrate_seconds = database_fresh(database)
        django_setup(database)
        seconds = population_build(
            organizations=options.organizations,
            residents=options.residents,
            referrals=options.referrals,
            assessments=options.assessments,
            seed=options.seed,
        )
        built = f"built: migrate {migrate_seconds:.0f} s, population {seconds:.0f} s"
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from kynect.accounts.models import Membership, Role, User
    from kynect.core.periods import kentucky_today, month_before
    from kynect.referrals.models import Referral
    from kynect.reporting.incentive import incentive_report_make
    from kynect.reporting.models import IncentiveItem, IncentiveReport

    if engine == "PostgreSQL":
        with connection.cursor() as cursor:  # as autovacuum would after a bulk load
            cursor.execute("VACUUM ANALYZE")
    print(f"# Metrics benchmark, {engine}, commit {commit()}")
    counts = {
        "referrals": Referral.objects.count(),
        "organizations": Membership.objects.filter(role=Role.PARTNER_USER).count(),
    }
    print(f"{built}; {counts['referrals']:,} referrals, {counts['organizations']:,} organizations")
    load_before = machine_load()
    from kynect.reporting.counts import metrics_recount
    from kynect.reporting.models import MonthlyCount

    started = time.perf_counter()
    run = metrics_recount(now=timezone.now())
    print(
        f"counting the months {run.first_month:%Y-%m} to {run.last_month:%Y-%m} (the nightly job): "
        f"{time.perf_counter() - started:.1f} s, {MonthlyCount.objects.count():,} summary rows",
        flush=True,
    )

    state = User.objects.filter(email="bench-state@example.org").first()
    if state is None:
        state = User.objects.create_user(email="bench-state@example.org", password=None)
        Membership.objects.create(user=state, organization=None, role=Role.STATE_ADMIN)
    busiest = (
        Referral.objects.values("receiving_organization_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("receiving_organization_id", "n")
        .first()
    )
    assert busiest is not None
    member = Membership.objects.filter(organization_id=busiest[0], role=Role.PARTNER_USER).first()
    assert member is not None
    county = (
        Referral.objects.values("resident__county_fips")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("resident__county_fips", flat=True)
        .first()
    )
    anyone, admin, partner = Client(), Client(), Client()
    admin.force_login(state)
    partner.force_login(member.user)
    from kynect.accounts.services import training_attest

    training_attest(user=member.user)
    pages = [
        ("statewide, this year (anyone)", anyone, "/metrics/"),
        ("statewide, busiest county", admin, f"/metrics/?period=year&county={county}"),
        ("statewide, not-for-profits", admin, "/metrics/?period=year&organization_type=not_for_profit"),
        ("statewide, last 30 days", anyone, "/metrics/?period=30days"),
        (f"partner ({busiest[1]:,} received)", partner, f"/referrals/dashboard/{busiest[0]}/"),
    ]
    print(f"{'page':<36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'SQL':>5}")
    for name, client, url in pages:
        times, queries = timed(page(client, url), rounds=options.rounds, warmup=options.warmup)
        shown = figures(times)
        print(
            f"{name:<36} {shown['p50']:8.1f} {shown['p95']:8.1f} {shown['p99']:8.1f} {queries:5d}", flush=True
        )

    # A report every month for --history-months, as the recurring job makes them: the last ones read a
    # ledger of everything paid before and every payable event since the first.
    months = [month_before(kentucky_today(timezone.now()))]
    while len(months) < options.history_months:
        months.insert(0, month_before(months[0]))
    IncentiveReport.objects.all().delete()
    durations: list[float] = []
    for month in months:
        started = time.perf_counter()
        report = incentive_report_make(month=month)
        durations.append(time.perf_counter() - started)
    print(
        f"incentive reports {months[0]:%Y-%m} to {months[-1]:%Y-%m}: first {durations[0]:.1f} s, "
        f"median {statistics.median(durations):.1f} s, last {durations[-1]:.1f} s, "
        f"max {max(durations):.1f} s "
        f"(ledger {IncentiveItem.objects.count():,} items)"
    )
    started = time.perf_counter()
    report = incentive_report_make(month=months[-1])
    print(
        f"incentive report {months[-1]:%Y-%m} re-made: {time.perf_counter() - started:.1f} s, "
        f"{report.lines.count():,} organizations, {report.items.count():,} items, "
        f"total ${report.total_cents / 100:,.2f}",
        flush=True,
    )
    print(f"load average before {load_before}, after {machine_load()}")


if __name__ == "__main__":
    main()
