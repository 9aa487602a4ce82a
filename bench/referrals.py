"""Benchmark: closed-loop referrals at scale.

Builds a throwaway database (SQLite in a temporary folder by default, or --database
postgres://…/<throwaway name>, dropped and created again) holding, built in bulk:

  organizations  --organizations partner organizations with a directory listing and one service each,
                 a partner user each; one in ten has not onboarded. One more organization, the inbox
                 measured, receives --inbox referrals.
  residents      one per 5 referrals.
  referrals      --referrals in all (default 100,000, the inbox's included), made over the last 120
                 days between random organizations, in the statuses a mature platform has (a third
                 open), with the worker's deadlines applied as of now: open ones 7 days old flagged for
                 outreach, those to organizations not onboarded 14 days old expirable; closed ones
                 closed with the resources overview's form, some with their outcome confirmed.

Then it times, in this process (DEBUG off), --rounds times each after --warmup uncounted rounds:

  inbox (selectors)  the inbox organization's first page of 25 (`referrals_box`) and its New / In
                     Progress / Closed counts (`referrals_box_counts`), evaluated;
  inbox (page)       GET /referrals/inbox/ through Django's test client as a member of the inbox
                     organization, when that page exists in the checkout measured;
  create             `referral_create` of a new resident's referral (the duplicate check, the insert,
                     the timeline event, the receiving organization's email queued), committed;
  workspace          GET /referrals/specialist/?list=… through the test client as a referral specialist,
                     for each of the three lists (first page of 25 and every list's count).

It prints p50/p95/p99 (nearest rank) in milliseconds, the SQL statements per request, the load average
before and after, and the commit measured. Run from the project folder:

    .venv/bin/python bench/referrals.py
    .venv/bin/python bench/referrals.py --database postgres://postgres@127.0.0.1:5432/kynect_bench_referrals
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from directory_import import machine_load
from ondemand_routing import analyze, database_fresh, django_setup, figures, git

BATCH = 2000
# Status shares of the referrals (FHIR Task statuses).
STATUS_SHARES = {
    "requested": 0.14,
    "accepted": 0.08,
    "in-progress": 0.10,
    "on-hold": 0.02,
    "completed": 0.36,
    "failed": 0.16,
    "rejected": 0.05,
    "cancelled": 0.09,
}
REASONS = ("eligibility", "no_show", "no_funding", "unreachable", "outside_area", "too_far", "other")
NEEDS = ("food", "housing", "income", "employment", "health_care_coverage", "childcare", "mobility")


def commit() -> str:
    changed = git("status", "--porcelain", "--", "kynect/referrals")
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} + uncommitted referral changes" if changed else head


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def population_build(*, organizations: int, referrals: int, inbox: int, seed: int) -> dict[str, Any]:
    """Everything in bulk; returns the ids the measurements use and the rows written."""
    from django.utils import timezone

    from kynect.accounts.models import Membership, Organization, Role, User
    from kynect.accounts.services import training_attest
    from kynect.directory import models as hsds
    from kynect.referrals.models import Referral
    from kynect.residents.models import Resident

    rng = random.Random(seed)
    now = timezone.now()
    started = time.perf_counter()
    listings = [
        hsds.Organization(name=f"Bench listing {n}", description="Bench organization")
        for n in range(organizations + 1)
    ]
    hsds.Organization.objects.bulk_create(listings, batch_size=BATCH)
    services = [
        hsds.Service(organization=listing, name=f"Bench service {n}", status="active")
        for n, listing in enumerate(listings)
    ]
    hsds.Service.objects.bulk_create(services, batch_size=BATCH)
    # Onboarded organizations are approved ones where onboarding has an application status.
    statuses = getattr(Organization, "Status", None)
    orgs = []
    for n in range(organizations + 1):
        onboarded = n % 10 != 9 or n == 0
        org = Organization(
            name=f"Bench partner {n}",
            type=Organization.Type.NOT_FOR_PROFIT,
            hsds_organization=listings[n],
            onboarded_at=now - timedelta(days=200) if onboarded else None,
        )
        if statuses is not None and onboarded:
            setattr(org, "status", statuses.APPROVED)  # noqa: B010  (not on every branch)
        orgs.append(org)
    Organization.objects.bulk_create(orgs, batch_size=BATCH)
    users = [
        User(email=f"bench-partner-{n}@example.org", first_name="Bench", last_name=f"Partner {n}")
        for n in range(organizations + 1)
    ]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=BATCH)
    Membership.objects.bulk_create(
        [
            Membership(user=user, organization=org, role=Role.PARTNER_USER)
            for user, org in zip(users, orgs, strict=True)
        ],
        batch_size=BATCH,
    )
    specialist = User.objects.create_user(email="bench-specialist@example.org", password=None)
    Membership.objects.create(user=specialist, organization=None, role=Role.REFERRAL_SPECIALIST)
    inbox_org, inbox_user = orgs[0], users[0]
    # The two people whose pages are timed have attested the privacy and security training, as the
    # pages with residents' data ask.
    training_attest(user=inbox_user)
    training_attest(user=specialist)

    residents = [
        Resident(
            first_name=f"Bench{n}",
            last_name="Resident",
            birth_date=date(1950, 1, 1) + timedelta(days=n % 20000),
            mobile_phone=f"+1502555{n % 10000:04d}",
            email=f"bench-resident-{n}@example.org",
            match_key=f"bench-{n}",
        )
        for n in range(max(referrals // 5, 1))
    ]
    Resident.objects.bulk_create(residents, batch_size=BATCH)

    created_at_field = Referral._meta.get_field("created_at")
    created_at_field.auto_now_add = False  # rows keep their ages
    rows: Counter[str] = Counter()
    batch: list[Referral] = []
    for n in range(referrals):
        receiver = 0 if n < inbox else rng.randrange(1, organizations + 1)
        sender = rng.randrange(1, organizations + 1)
        onboarded = receiver % 10 != 9 or receiver == 0
        created = now - timedelta(seconds=rng.uniform(0, 120 * 86400))
        status = _pick(rng, STATUS_SHARES)
        referral = Referral(
            resident=residents[rng.randrange(len(residents))],
            service=services[receiver],
            receiving_listing=listings[receiver],
            receiving_organization=orgs[receiver],
            sending_organization=orgs[sender],
            created_by=users[sender],
            need=rng.choice(NEEDS),
            note="Bench referral.",
            status=status,
            receiver_onboarded=onboarded,
            outreach_due_at=created + timedelta(days=7),
            expiry_due_at=None if onboarded else created + timedelta(days=14),
            created_at=created,
            updated_at=created,
        )
        if status in Referral.OPEN_STATUSES:
            if now - created > timedelta(days=7):
                referral.outreach_flagged_at = created + timedelta(days=7)
            if not onboarded and now - created > timedelta(days=14):
                referral.expirable_at = created + timedelta(days=14)
        else:
            referral.closed_at = created + timedelta(days=rng.uniform(0.2, 20))
            if referral.closed_at > now:
                referral.closed_at = now
            if status in ("completed", "failed"):
                referral.experience = rng.choice(("up", "down"))
                referral.resource_provided = status == "completed"
                if status == "failed":
                    referral.not_provided_reason = rng.choice(REASONS)
                if rng.random() < 0.5:
                    referral.outcome_confirmed_at = referral.closed_at + timedelta(days=2)
        rows[status] += 1
        batch.append(referral)
        if len(batch) == BATCH:
            Referral.objects.bulk_create(batch)
            batch = []
    if batch:
        Referral.objects.bulk_create(batch)
    created_at_field.auto_now_add = True
    return {
        "inbox_org": inbox_org,
        "inbox_user": inbox_user,
        "specialist": specialist,
        "sender": users[1],
        "sender_org": orgs[1],
        "service_ids": [service.pk for service in services[1:]],
        "rows": dict(rows),
        "seconds": time.perf_counter() - started,
    }


def timed(action: Callable[[], Any], *, rounds: int, warmup: int) -> tuple[list[float], int]:
    """Milliseconds of each round, and the SQL statements of the last."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        action()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        action()
    return times, len(queries)


def page(client: Any, url: str) -> Callable[[], Any]:
    def get() -> Any:
        response = client.get(url, HTTP_HOST="localhost")
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def selectors_of(read: Callable[..., Any], queue: str) -> Callable[[], Any]:
    return lambda: read(queue=queue)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--organizations", type=int, default=200)
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--inbox", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--show-sql", action="store_true", help="print the workspace page's statements")
    options = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="referrals-bench-")
    database = options.database or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    migrate_seconds = database_fresh(database)
    django_setup(database)
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, Resolver404, resolve

    from kynect.referrals.selectors import BoxFilters, referrals_box, referrals_box_counts
    from kynect.referrals.services import ReferralInput, referral_create
    from kynect.residents.services import ResidentInput

    population = population_build(
        organizations=options.organizations,
        referrals=options.referrals,
        inbox=options.inbox,
        seed=options.seed,
    )
    if engine == "PostgreSQL":
        with connection.cursor() as cursor:  # as autovacuum would after a bulk load: the visibility map too
            cursor.execute("VACUUM ANALYZE")
    else:
        analyze()
    version = (
        getattr(connection, "Database").sqlite_version  # noqa: B009
        if engine == "SQLite"
        else f"{getattr(connection, 'pg_version') // 10000}"  # noqa: B009
    )
    print(f"# Referrals benchmark, {engine} {version}, commit {commit()}")
    print(
        f"built: migrate {migrate_seconds:.1f} s, population {population['seconds']:.1f} s; "
        f"{options.referrals:,} referrals ({population['rows']}), inbox {options.inbox:,}, "
        f"{options.organizations} organizations"
    )
    load_before = machine_load()
    results: list[tuple[str, list[float], int]] = []
    inbox_id = population["inbox_org"].pk

    def inbox_selectors() -> None:
        list(referrals_box(organization_id=inbox_id, outbox=False, filters=BoxFilters())[:25])
        referrals_box_counts(organization_id=inbox_id, outbox=False, filters=BoxFilters())

    times, queries = timed(inbox_selectors, rounds=options.rounds, warmup=options.warmup)
    results.append(("inbox, selectors (first 25 and counts)", times, queries))

    member = Client()
    member.force_login(population["inbox_user"])
    try:
        resolve("/referrals/inbox/")
        inbox_page = True
    except (Resolver404, NoReverseMatch):
        inbox_page = False
    inbox_note = "/referrals/inbox/ is not in this checkout; measured through its selectors only"
    if inbox_page:
        status = member.get("/referrals/inbox/", HTTP_HOST="localhost").status_code
        if status == 200:
            times, queries = timed(
                page(member, "/referrals/inbox/"), rounds=options.rounds, warmup=options.warmup
            )
            results.append(("inbox, page GET /referrals/inbox/", times, queries))
            inbox_note = ""
        else:
            # The page answered something else (a redirect to the training, a refusal): not timed.
            inbox_note = f"GET /referrals/inbox/ answered {status}: measured through its selectors only"

    rng = random.Random(options.seed + 1)
    numbers = iter(range(10**9))

    def create() -> None:
        n = next(numbers)
        referral_create(
            actor=population["sender"],
            organization=population["sender_org"],
            data=ReferralInput(
                service_id=rng.choice(population["service_ids"]),
                need="food",
                note="Bench referral made while timing.",
                resident=ResidentInput(
                    first_name=f"Timed{n}",
                    last_name=uuid.uuid4().hex[:10],
                    birth_date=date(1980, 1, 1) + timedelta(days=n % 9000),
                    mobile_phone=f"+1859555{n % 10000:04d}",
                    email=f"timed-{n}@example.org",
                    preferred_language="en",
                    postal_code="40601",
                ),
            ),
        )

    times, queries = timed(create, rounds=options.rounds, warmup=options.warmup)
    results.append(("create a referral (new resident)", times, queries))

    from kynect.referrals.selectors_specialist import workspace_page

    for queue in ("partner", "not_onboarded", "outcome"):
        times, queries = timed(
            selectors_of(workspace_page, queue), rounds=options.rounds, warmup=options.warmup
        )
        results.append((f"workspace selectors, list={queue}", times, queries))
    specialist = Client()
    specialist.force_login(population["specialist"])
    if options.show_sql:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as shown:
            page(specialist, "/referrals/specialist/?list=partner")()
        for query in shown.captured_queries:
            print(query["time"], query["sql"][:300])
    for queue in ("partner", "not_onboarded", "outcome"):
        times, queries = timed(
            page(specialist, f"/referrals/specialist/?list={queue}"),
            rounds=options.rounds,
            warmup=options.warmup,
        )
        results.append((f"workspace page, list={queue}", times, queries))
    load_after = machine_load()

    print(f"rounds {options.rounds} after {options.warmup} warm-up; milliseconds")
    print(f"{'measure':44} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'SQL':>4}")
    for label, values, count in results:
        f = figures(values)
        print(f"{label:44} {f['p50']:8.1f} {f['p95']:8.1f} {f['p99']:8.1f} {f['max']:8.1f} {count:4d}")
    if inbox_note:
        print(f"inbox page: {inbox_note}")
    print(f"load before: {load_before}")
    print(f"load after:  {load_after}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{Path(scratch) / 'bench.sqlite3'}{suffix}").unlink(missing_ok=True)
    os.rmdir(scratch)


if __name__ == "__main__":
    main()
