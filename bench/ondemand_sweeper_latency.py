"""Benchmark: how late a running worker expires On Demand offers after their deadline.

Builds a throwaway database (SQLite in a temporary folder by default, or --database
postgres://…/<throwaway name>, dropped and created again) with the helper population of
bench/ondemand_routing.py (schedules round the clock, so that a request whose offer expires can be
routed again at once), then starts the worker as in production (`manage.py run_worker`, its default
1-second idle interval unless --interval) in its own process and waits for its heartbeat.

Then, in real time (no clock is moved), it writes --requests Pending requests with offers that expire
over the next --spread seconds, starting --lead seconds later, evenly spread: 60 % with their General
offer (round 1; its reminder already sent when it was due before the run), 40 % with a Mass round of
ONDEMAND_MASS_SIZE offers expiring together (round 2). The worker does what it does with any expired
offer: marks it expired, counts a General one as a miss (the helper is set unavailable and told), and
routes the request again (new offers, their messages queued and sent by the same worker).

Lateness of each offer, in seconds after its `expires_at`:
  sweeper clock   `updated_at` minus `expires_at`: `updated_at` is the `now` of the sweep that expired it
                  (taken when that sweep started; a long batch writes later than this says);
  observed        when this process first saw the offer expired, polling every --poll seconds (an
                  upper bound: the commit happened between two polls).
Offers still pending --grace seconds after the last deadline count as not handled. Run from the
project folder:

    .venv/bin/python bench/ondemand_sweeper_latency.py
    .venv/bin/python bench/ondemand_sweeper_latency.py \\
        --database postgres://postgres@127.0.0.1:5432/kynect_bench_ondemand
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from directory_import import MANAGE, ROOT, django_env, machine_load
from ondemand_routing import (
    bench_env,
    commit,
    database_fresh,
    django_setup,
    figures,
    geography_load,
    pending_request,
    population_build,
)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its waited-for children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def worker_start(database: str, interval: float, log: Path) -> subprocess.Popen[bytes]:
    env = {**django_env(database), **bench_env(), "DJANGO_LOG_LEVEL": "WARNING"}
    command = [*MANAGE, "run_worker", "--interval", str(interval)]
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603


def worker_wait(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    from kynect.core.models import WorkerHeartbeat

    deadline = time.monotonic() + timeout
    while not WorkerHeartbeat.objects.filter(pid=process.pid).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the worker did not start (see its log)")
        time.sleep(0.2)


def offers_write(
    *, requests: int, spread: float, lead: float, seed: int, geography: Any, population: Any
) -> tuple[datetime, datetime, dict[Any, str]]:
    """Pending requests with offers expiring from now + lead over `spread` seconds.
    Returns (first deadline, last deadline, {offer id: kind})."""
    from django.conf import settings
    from django.db import transaction

    from kynect.ondemand.models import HelpRequest, Offer

    rng = random.Random(seed)
    free = set(population.helper_ids)
    now = datetime.now(UTC)
    first = now + timedelta(seconds=lead)
    rows, offers = [], []
    for number in range(requests):
        expires_at = first + timedelta(seconds=spread * number / max(requests - 1, 1))
        offered_at = expires_at - timedelta(minutes=settings.ONDEMAND_OFFER_MINUTES)
        request = pending_request(rng, geography, number=number, moment=offered_at - timedelta(minutes=1))
        request.waiting_since = request.route_at = None
        mass = rng.random() < 0.4
        size = settings.ONDEMAND_MASS_SIZE if mass else 1
        request.rounds = 2 if mass else 1
        local = [
            helper for helper in population.helpers_by_county.get(request.county_fips, []) if helper in free
        ]
        chosen = rng.sample(local, min(size, len(local)))
        while len(chosen) < size:  # the county's helpers are all offered something already
            chosen.append(rng.choice(sorted(free - set(chosen))))
        free.difference_update(chosen)
        rows.append(request)
        for helper_id in chosen:
            remind_at = None
            if not mass and settings.ONDEMAND_REMINDER_MINUTES_BEFORE > 0:
                remind_at = expires_at - timedelta(minutes=settings.ONDEMAND_REMINDER_MINUTES_BEFORE)
            offers.append(
                Offer(
                    help_request=request,
                    helper_id=helper_id,
                    kind=Offer.Kind.MASS if mass else Offer.Kind.GENERAL,
                    round=request.rounds,
                    score=1.0,
                    score_parts={"miles": 1.0, "recent_load": 0, "misses": 0},
                    offered_at=offered_at,
                    expires_at=expires_at,
                    remind_at=remind_at,
                    reminded_at=remind_at if remind_at is not None and remind_at <= now else None,
                    link_key="k" * 43,
                    token_hash="0" * 64,
                )
            )
    with transaction.atomic():
        HelpRequest.objects.bulk_create(rows, batch_size=1000)
        for offer in offers:
            offer.help_request_id = offer.help_request.pk
        Offer.objects.bulk_create(offers, batch_size=1000)
    last = first + timedelta(seconds=spread)
    return first, last, {offer.pk: offer.kind for offer in offers}


def watch(
    kinds: dict[Any, str], *, last: datetime, grace: float, poll: float
) -> tuple[dict[Any, datetime], dict[Any, tuple[str, datetime]]]:
    """Poll until every offer is no longer pending or `grace` seconds after the last deadline.
    Returns {offer id: first seen changed (this process's clock)} and {offer id: (status, updated_at)}."""
    from kynect.ondemand.models import Offer

    ids = list(kinds)
    seen: dict[Any, datetime] = {}
    final: dict[Any, tuple[str, datetime]] = {}
    stop_at = last + timedelta(seconds=grace)
    while True:
        waiting = [offer_id for offer_id in ids if offer_id not in seen]
        if not waiting or datetime.now(UTC) > stop_at:
            break
        for start in range(0, len(waiting), 500):
            changed = (
                Offer.objects.filter(pk__in=waiting[start : start + 500])
                .exclude(status=Offer.Status.PENDING)
                .values_list("pk", flat=True)
            )
            now = datetime.now(UTC)
            for offer_id in changed:
                seen.setdefault(offer_id, now)
        time.sleep(poll)
    for start in range(0, len(ids), 500):
        for offer_id, status, updated_at in Offer.objects.filter(pk__in=ids[start : start + 500]).values_list(
            "pk", "status", "updated_at"
        ):
            final[offer_id] = (status, updated_at)
    return seen, final


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
    parser.add_argument("--requests", type=int, default=600, help="requests whose offers expire")
    parser.add_argument("--spread", type=float, default=120, help="seconds over which the deadlines fall")
    parser.add_argument("--lead", type=float, default=10, help="seconds from writing to the first deadline")
    parser.add_argument("--grace", type=float, default=60, help="seconds to wait after the last deadline")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between this process's looks")
    parser.add_argument("--interval", type=float, default=1.0, help="the worker's idle interval")
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ondemand-sweeper-") as scratch:
        database = options.database or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
        database_fresh(database)
        django_setup(database)
        from django.db import connection

        from kynect.notifications.models import OutboundMessage
        from kynect.ondemand.models import Offer

        geography = geography_load()
        now = datetime.now(UTC)
        population = population_build(
            helpers=options.helpers,
            unregistered=0,
            history=0,
            seed=options.seed,
            geography=geography,
            schedule="always",
            week_start=now,
            available_share=1.0,
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        log = Path(scratch) / "worker.log"
        worker = worker_start(database, options.interval, log)
        try:
            worker_wait(worker)
            cpu_before = process_cpu(worker.pid)
            load_before = machine_load()
            first, last, kinds = offers_write(
                requests=options.requests,
                spread=options.spread,
                lead=options.lead,
                seed=options.seed + 1,
                geography=geography,
                population=population,
            )
            print(
                f"[{time.strftime('%H:%M:%S')}] {len(kinds)} offers of {options.requests} requests expire "
                f"from {first:%H:%M:%S} to {last:%H:%M:%S} UTC; watching",
                file=sys.stderr,
                flush=True,
            )
            seen, final = watch(kinds, last=last, grace=options.grace, poll=options.poll)
            load_after = machine_load()
            worker_cpu = process_cpu(worker.pid) - cpu_before
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        deadlines = dict(Offer.objects.filter(pk__in=list(kinds)).values_list("pk", "expires_at"))
        statuses = Counter(status for status, _updated in final.values())
        sweeper: dict[str, list[float]] = {"all": [], "general": [], "mass": []}
        observed: dict[str, list[float]] = {"all": [], "general": [], "mass": []}
        for offer_id, (status, updated_at) in final.items():
            if status != Offer.Status.EXPIRED:
                continue
            late = (updated_at - deadlines[offer_id]).total_seconds()
            sweeper["all"].append(late)
            sweeper[kinds[offer_id]].append(late)
            if offer_id in seen:
                seen_late = (seen[offer_id] - deadlines[offer_id]).total_seconds()
                observed["all"].append(seen_late)
                observed[kinds[offer_id]].append(seen_late)
        outbox = Counter(OutboundMessage.objects.values_list("status", flat=True))
        log_tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""

    print(
        f"\nOn Demand sweeper: offer expiry lateness, {engine}, worker `manage.py run_worker --interval "
        f"{options.interval}` in its own process"
    )
    print(
        f"commit {commit()}; {len(population.helper_ids):,} registered helpers; {options.requests} requests, "
        f"{len(kinds)} offers expiring over {options.spread:.0f} s "
        f"({len(kinds) / max(options.spread, 1):.1f} offers/s, General and Mass rounds)"
    )
    print(f"load before: {load_before}; after: {load_after}; worker CPU {worker_cpu:.1f} s")
    print("seconds after expires_at\n")
    print("| measure | offers | n | p50 | p95 | p99 | max |")
    print("|---|---|---|---|---|---|---|")
    for label, table in (
        ("sweeper clock (updated_at)", sweeper),
        (f"observed (poll {options.poll} s)", observed),
    ):
        for kind in ("general", "mass", "all"):
            f = figures(table[kind])
            print(
                f"| {label} | {kind} | {f['n']} | {f['p50']:.2f} | {f['p95']:.2f} | {f['p99']:.2f} "
                f"| {f['max']:.2f} |"
            )
    not_handled = statuses.get(Offer.Status.PENDING, 0)
    print(f"\nfinal offer statuses: {dict(statuses)}; not handled (still pending): {not_handled}")
    print(f"outbox after the run (all messages, by status): {dict(outbox)}")
    if log_tail.strip():
        print(f"\nworker log, last lines:\n{log_tail}")
    if not_handled:
        sys.exit(1)


if __name__ == "__main__":
    main()
