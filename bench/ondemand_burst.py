"""Benchmark: a burst of help requests through the On Demand API, served as in production, and how soon
the worker(s) route them and send their messages.

Builds a throwaway database (--database, PostgreSQL by default: postgres://…/kynect_bench_ondemand,
dropped and created again; an sqlite:////path URL works too) with the helper population of
bench/ondemand_routing.py (--helpers registered helpers, schedules round the clock so that routing
happens whenever the benchmark runs; --history past accepted requests of the last week with their offers,
as a running service has, so that the tables routing reads are not empty when the planner's statistics
are taken), and makes one API token exempt from the per-token limit with
`manage.py api_token create --client bench --scope ondemand.intake --no-rate-limit`.

Serves `config.wsgi:application` with gunicorn on 127.0.0.1 as in production: DJANGO_ENV=production
(a random secret key, DJANGO_ALLOWED_HOSTS=127.0.0.1, secure cookies, DEBUG off), behind what would be
a TLS-terminating proxy, so requests carry `X-Forwarded-Proto: https`; no access log. --workers worker
processes (`manage.py run_worker`, default 1) run beside it with the same settings: they route the
requests and send the confirmations and offers. Service hours are set round the clock
(ONDEMAND_SERVICE_HOURS), so every request is routed at once; messages go to backends that keep nothing.
Settings in the environment (OUTBOX_SMS_PER_SECOND…) reach every process.

With --url, the burst goes to a running cluster instead (`bin/run-cluster`, its balancer's address) and
--database is the cluster's database, used as it is: the helper population is added only if it has no
registered helper. Start the cluster with ONDEMAND_SERVICE_HOURS round the clock and run this script with
the cluster's DJANGO_SECRET_KEY in the environment (the token's hash is keyed with it):

    DJANGO_SECRET_KEY=… .venv/bin/python bench/ondemand_burst.py --url http://127.0.0.1:8080 \
        --database postgres://postgres@127.0.0.1:5432/kynect_cluster

The load is open-loop: request i is due at start + i / --rate, whatever happened to the ones before
(a dispatcher thread sleeps to each due time and hands the request to a pool of --clients threads, each
making a new connection as a browser-less client would). Latency is measured from the due time to the
end of the response, so a slow server is not hidden by sending less. Every request is
`POST /api/ondemand/help-requests` with `X-API-Key`, from a distinct phone number, in a mix of ZIP
codes, languages and programs. --warmup requests are sent first, one at a time, and not counted.

Every second, during the burst and after it, a thread counts the outbox's messages by status (pending,
sending, sent) and the due backlog (pending and due now), and the requests due for routing (Pending with
`route_at` come, not yet taken by a worker's routing loop); after the burst it goes
on until the outbox and the task queue have been empty for three samples (or --drain seconds), and prints
when the outbox was last non-empty: "outbox empty N s after the burst ended". Then, from the database,
the time from each request's submission (`submitted_at`) to its first Offer row and to its first offer
message sent (`sent_at`), p50/p95/p99.

Each request answered 201 must be either offered (an Offer row exists) or waiting (Pending, with
`waiting_since` and `route_at` set). The script exits non-zero, with FAIL, when any request got an error
or no answer, or is in neither state. Run from the project folder:

    .venv/bin/python bench/ondemand_burst.py
    .venv/bin/python bench/ondemand_burst.py --rate 50 --duration 60 --workers 2
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from directory_import import MANAGE, ROOT, django_env, machine_load
from ondemand_routing import (
    ALWAYS_OPEN,
    REQUEST_LANGUAGES,
    REQUEST_PROGRAMS,
    bench_env,
    commit,
    database_fresh,
    django_setup,
    figures,
    geography_load,
    pick,
    population_build,
)

GUNICORN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "gunicorn"
PATH = "/api/ondemand/help-requests"
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/kynect_bench_ondemand"
QUIET_SAMPLES = 3  # samples in a row with the outbox and the task queue empty that end the sampling


@dataclass(frozen=True)
class Target:
    host: str
    port: int


@dataclass
class Sent:
    number: int
    due: float
    started: float = 0.0
    ended: float = 0.0
    status: int = 0
    request_id: str = ""
    error: str = ""


@dataclass(frozen=True)
class Sample:
    at: float  # time.perf_counter()
    pending: int
    sending: int
    sent: int
    due: int
    to_route: int

    @property
    def unsent(self) -> int:
        return self.pending + self.sending


def production_env(database: str, secret_key: str) -> dict[str, str]:
    return {
        **django_env(database),
        **bench_env(),
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_DEBUG": "false",
        "DJANGO_SITE_URL": "https://127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ONDEMAND_SERVICE_HOURS": ALWAYS_OPEN,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(target: Target, method: str, path: str, timeout: float, **extra: object) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    headers = {"X-Forwarded-Proto": "https", "Host": target.host}
    try:
        if method == "POST":
            headers.update({"Content-Type": "application/json", "X-API-Key": str(extra["key"])})
        connection.request(method, path, body=extra.get("body"), headers=headers)  # type: ignore[arg-type]
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post(target: Target, body: bytes, key: str, timeout: float) -> tuple[int, bytes]:
    return request(target, "POST", PATH, timeout, body=body, key=key)


def wait_ready(target: Target, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            request(target, "GET", "/healthz", 10)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def bodies(count: int, seed: int, zips: list[str], first_phone: int) -> list[bytes]:
    rng = random.Random(seed)
    made = []
    for number in range(count):
        phone = first_phone + number
        made.append(
            json.dumps(
                {
                    "name": f"Burst requester {number}",
                    "phone": f"(859) {phone // 10000:03d}-{phone % 10000:04d}",
                    "contact_method": rng.choice(("phone", "text", "text")),
                    "language": pick(rng, REQUEST_LANGUAGES),
                    "message_language": rng.choice(("en", "en", "en", "es")),
                    "zip_code": rng.choice(zips),
                    "program": pick(rng, REQUEST_PROGRAMS),
                    "consent": True,
                }
            ).encode()
        )
    return made


def burst(
    target: Target, key: str, payloads: list[bytes], rate: float, clients: int, timeout: float
) -> list[Sent]:
    """Open loop: request i is due at start + i / rate; latency counts from the due time."""
    sent = [Sent(number=number, due=0.0) for number in range(len(payloads))]

    def one(item: Sent) -> None:
        item.started = time.perf_counter()
        try:
            item.status, body = post(target, payloads[item.number], key, timeout)
            if item.status == 201:
                item.request_id = json.loads(body)["id"]
            else:
                item.error = body[:300].decode("utf-8", "replace")
        except Exception as error:  # every failure is counted and reported
            item.error = f"{type(error).__name__}: {error}"
        item.ended = time.perf_counter()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        start = time.perf_counter() + 0.5
        for item in sent:
            item.due = start + item.number / rate
            delay = item.due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, item)
    return sent


class OutboxSampler(threading.Thread):
    """Every second: the outbox's messages by status, the due backlog and the requests due for routing.
    Stops when told to, or, once `burst_ended` is set, after QUIET_SAMPLES samples in a row with nothing
    unsent and no request due for routing, or `drain` seconds after the burst ended."""

    def __init__(self, drain: float) -> None:
        super().__init__(daemon=True)
        self.samples: list[Sample] = []
        self.burst_ended_at: float | None = None
        self.drain = drain
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def sample(self) -> Sample:
        from django.db.models import Count
        from django.utils import timezone

        from kynect.notifications.models import OutboundMessage
        from kynect.ondemand.models import HelpRequest

        by_status = dict(
            OutboundMessage.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        return Sample(
            at=time.perf_counter(),
            pending=by_status.get("pending", 0),
            sending=by_status.get("sending", 0),
            sent=by_status.get("sent", 0),
            due=OutboundMessage.objects.filter(status="pending", next_attempt_at__lte=timezone.now()).count(),
            to_route=HelpRequest.objects.filter(status="pending", route_at__lte=timezone.now()).count(),
        )

    def run(self) -> None:
        from django.db import connection

        try:
            quiet = 0
            while not self.stopping.is_set():
                sample = self.sample()
                self.samples.append(sample)
                if self.burst_ended_at is not None:
                    quiet = quiet + 1 if sample.unsent == 0 and sample.to_route == 0 else 0
                    if quiet >= QUIET_SAMPLES or sample.at - self.burst_ended_at > self.drain:
                        return
                self.stopping.wait(max(0.0, 1.0 - (time.perf_counter() - sample.at)))
        except BaseException as error:  # reported by the main thread
            self.error = error
        finally:
            connection.close()

    def empty_after(self) -> float | None:
        """Seconds from the end of the burst to the first sample after the last non-empty one; None
        if the outbox was still non-empty at the last sample."""
        assert self.burst_ended_at is not None
        if not self.samples or self.samples[-1].unsent:
            return None
        last_non_empty = max((i for i, s in enumerate(self.samples) if s.unsent), default=None)
        if last_non_empty is None:
            return 0.0
        return max(0.0, self.samples[last_non_empty + 1].at - self.burst_ended_at)


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def states(request_ids: list[str]) -> tuple[Counter[str], list[str]]:
    """Each request's state from the database: offered, waiting, or something else (listed)."""
    from kynect.ondemand.models import HelpRequest, Offer

    counts: Counter[str] = Counter()
    neither: list[str] = []
    # The requests first, then their offers: the worker may still be routing, and routing writes a
    # request's offers in the same transaction as its row, so a request read as no longer waiting
    # already has its offers committed when they are read after it.
    rows = {}
    for start in range(0, len(request_ids), 500):
        for pk, status, waiting_since, route_at in HelpRequest.objects.filter(
            pk__in=request_ids[start : start + 500]
        ).values_list("pk", "status", "waiting_since", "route_at"):
            rows[str(pk)] = (status, waiting_since, route_at)
    offered: set[str] = set()
    for start in range(0, len(request_ids), 500):
        chunk = request_ids[start : start + 500]
        offered.update(
            str(value)
            for value in Offer.objects.filter(help_request__in=chunk).values_list("help_request", flat=True)
        )
    for request_id in request_ids:
        row = rows.get(request_id)
        if row is None:
            counts["missing from the database"] += 1
            neither.append(request_id)
        elif request_id in offered:
            counts[f"offered ({row[0]})"] += 1
        elif row[0] == HelpRequest.Status.PENDING and row[1] is not None and row[2] is not None:
            counts["waiting (pending, waiting_since and route_at set)"] += 1
        else:
            counts[f"neither ({row[0]})"] += 1
            neither.append(request_id)
    return counts, neither


def first_offer_latencies(request_ids: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds from each request's submission to its first Offer row, and to the first message
    about one of its offers that was sent (requests with none are left out)."""
    from django.db.models import Min

    from kynect.notifications.models import OutboundMessage
    from kynect.ondemand.models import HelpRequest, OfferMessage

    to_offer: list[float] = []
    to_message: list[float] = []
    for start in range(0, len(request_ids), 500):
        chunk = request_ids[start : start + 500]
        submitted = dict(HelpRequest.objects.filter(pk__in=chunk).values_list("pk", "submitted_at"))
        first_offers = HelpRequest.objects.filter(pk__in=chunk, offers__isnull=False).annotate(
            first=Min("offers__offered_at")
        )
        for pk, first in first_offers.values_list("pk", "first"):
            to_offer.append((first - submitted[pk]).total_seconds() * 1000)
        request_of_message = dict(
            OfferMessage.objects.filter(offer__help_request__in=chunk).values_list(
                "message_id", "offer__help_request"
            )
        )
        first_sent: dict[Any, datetime] = {}
        for message_id, sent_at in OutboundMessage.objects.filter(
            pk__in=list(request_of_message), status="sent", sent_at__isnull=False
        ).values_list("pk", "sent_at"):
            owner = request_of_message[message_id]
            if sent_at is not None and (owner not in first_sent or sent_at < first_sent[owner]):
                first_sent[owner] = sent_at
        for owner, first_at in first_sent.items():
            to_message.append((first_at - submitted[owner]).total_seconds() * 1000)
    return to_offer, to_message


def population_ensure(
    database: str, helpers: int, history: int, seed: int, fresh: bool
) -> tuple[list[str], int]:
    """The ZIP codes to ask from and the number of registered helpers, building the population (with
    `history` past accepted requests) when the database is fresh or has no registered helper."""
    from django.db import connection

    from kynect.ondemand.models import Helper

    geography = geography_load()
    registered = Helper.objects.filter(status="registered").count() if not fresh else 0
    if registered == 0:
        population = population_build(
            helpers=helpers,
            unregistered=0,
            history=history,
            seed=seed,
            geography=geography,
            schedule="always",
            # The past week: the history's requests (and the few helpers' time off) are behind us.
            week_start=datetime.now(UTC) - timedelta(days=7),
        )
        registered = len(population.helper_ids)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    return [info.zip_code for info in geography.zips], registered


def timeline(sampler: OutboxSampler, started: float) -> None:
    print("\n| s after the burst started | pending | sending | sent | due backlog | due for routing |")
    print("|---|---|---|---|---|---|")
    samples = sampler.samples
    shown = [sample for i, sample in enumerate(samples) if i % 5 == 0 or i == len(samples) - 1]
    for sample in shown:
        print(
            f"| {sample.at - started:.0f} | {sample.pending} | {sample.sending} | {sample.sent} "
            f"| {sample.due} | {sample.to_route} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument(
        "--url", help="a running cluster's address (http://host:port); --database is its database"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes to start (without --url)")
    parser.add_argument("--helpers", type=int, default=5000, help="registered helpers")
    parser.add_argument(
        "--history",
        type=int,
        default=5000,
        help="past accepted requests of the last week, with their offers, as a running service has",
    )
    parser.add_argument("--rate", type=float, default=50, help="requests per second")
    parser.add_argument("--duration", type=float, default=60, help="seconds of the burst")
    parser.add_argument("--warmup", type=int, default=20, help="requests sent one by one first, not counted")
    parser.add_argument("--clients", type=int, default=200, help="client threads (concurrent connections)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a client waits for an answer")
    parser.add_argument("--drain", type=float, default=300, help="seconds to sample after the burst at most")
    parser.add_argument(
        "--setup",
        default="sync:4",
        help="gunicorn workers: sync:N or gthread:NxT (default sync:4, two a core: one computes while "
        "another waits on the database)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()
    match = re.fullmatch(r"(sync|gthread):(\d+)(?:x(\d+))?", options.setup)
    if not match:
        parser.error("--setup: sync:N or gthread:NxT")
    if options.workers < 1:
        parser.error("--workers: 1 or more")
    worker_class, gunicorn_workers, threads = match.group(1), match.group(2), match.group(3) or "1"
    cluster = options.url is not None
    if cluster and not os.environ.get("DJANGO_SECRET_KEY"):
        parser.error("--url: run with the cluster's DJANGO_SECRET_KEY in the environment")

    database = options.database
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    if not cluster:
        database_fresh(database)
    env = production_env(database, os.environ["DJANGO_SECRET_KEY"] if cluster else secrets.token_urlsafe(64))
    django_setup(database, extra={"ONDEMAND_SERVICE_HOURS": ALWAYS_OPEN})
    from django.db import connection

    from kynect.notifications.models import OutboundMessage
    from kynect.ondemand.models import Offer

    zips, registered = population_ensure(
        database, options.helpers, options.history, options.seed, fresh=not cluster
    )
    created = subprocess.run(  # noqa: S603
        [*MANAGE, "api_token", "create", "--client=bench", "--scope=ondemand.intake", "--no-rate-limit"],
        env=env,  # the token's stored hash is keyed with the server's secret key
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1].strip()
    count = int(options.rate * options.duration)
    # A cluster's database keeps earlier runs' requests: new phone numbers, or the one-pending-per-phone
    # rule would refuse them.
    first_phone = 2_000_000 + (int(time.time()) % 70) * 100_000 if cluster else 2_000_000
    warm = bodies(options.warmup, options.seed, zips, first_phone=first_phone + 90_000)
    payloads = bodies(count, options.seed + 1, zips, first_phone=first_phone)
    sent_before = OutboundMessage.objects.filter(status="sent").count()
    connection.close()

    scratch = Path(tempfile.mkdtemp(prefix="ondemand-burst-"))
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    worker_pids: list[int] = []
    server_pids: list[int] = []
    if cluster:
        parsed = urlparse(options.url)
        target = Target(parsed.hostname or "127.0.0.1", parsed.port or 80)
    else:
        target = Target("127.0.0.1", free_port())
        logs.append(scratch / "gunicorn.log")
        command = [
            str(GUNICORN),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{target.port}",
            "--worker-class",
            worker_class,
            "--workers",
            gunicorn_workers,
            *(["--threads", threads] if worker_class == "gthread" else []),
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--log-level",
            "warning",
            "--error-logfile",
            str(logs[0]),
        ]
        processes.append(subprocess.Popen(command, env=env, cwd=ROOT))  # noqa: S603
        for number in range(options.workers):
            logs.append(scratch / f"worker-{number + 1}.log")
            with logs[-1].open("wb") as output:
                worker = subprocess.Popen(  # noqa: S603
                    [*MANAGE, "run_worker"], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
                )
            processes.append(worker)
            worker_pids.append(worker.pid)
    sampler = OutboxSampler(drain=options.drain)
    try:
        wait_ready(target)
        warm_statuses = Counter(post(target, body, key, options.timeout)[0] for body in warm)
        if not cluster:
            server_pids = [processes[0].pid, *children(processes[0].pid)]
        server_cpu, worker_cpu = cpu_of(server_pids), cpu_of(worker_pids)
        load_before = machine_load()
        print(
            f"[{time.strftime('%H:%M:%S')}] warm-up {dict(warm_statuses)}; sending {count} requests at "
            f"{options.rate:g}/s",
            file=sys.stderr,
            flush=True,
        )
        started = time.perf_counter()
        sampler.start()
        sent = burst(target, key, payloads, options.rate, options.clients, options.timeout)
        sampler.burst_ended_at = time.perf_counter()
        elapsed = sampler.burst_ended_at - started
        load_after = machine_load()
        server_cpu, burst_worker_cpu = cpu_of(server_pids) - server_cpu, cpu_of(worker_pids) - worker_cpu
        print(f"[{time.strftime('%H:%M:%S')}] burst sent; sampling the outbox", file=sys.stderr, flush=True)
        sampler.join()
        if sampler.error is not None:
            raise sampler.error
        drained_worker_cpu = cpu_of(worker_pids) - worker_cpu
        load_drained = machine_load()
        ids = [item.request_id for item in sent if item.request_id]
        counts, neither = states(ids)
        to_offer, to_message = first_offer_latencies(ids)
        offers = Offer.objects.filter(help_request__in=ids).count() if len(ids) < 30000 else -1
        outbox = Counter(OutboundMessage.objects.values_list("status", flat=True))
        sent_during = OutboundMessage.objects.filter(status="sent").count() - sent_before
    finally:
        sampler.stopping.set()
        for process in processes:
            stop(process)

    statuses = Counter(item.status or "no answer" for item in sent)
    errors = [item for item in sent if item.status != 201]
    latency = [(item.ended - item.due) * 1000 for item in sent if item.ended]
    service = [(item.ended - item.started) * 1000 for item in sent if item.ended]
    lag = [(item.started - item.due) * 1000 for item in sent if item.started]
    served_by = (
        f"the cluster at {options.url}"
        if cluster
        else f"gunicorn {options.setup} as in production, {options.workers} worker(s)"
    )
    print(f"\nOn Demand API burst, {engine}, {served_by}")
    print(
        f"commit {commit()}; {registered:,} registered helpers; "
        f"{count} requests at {options.rate:g}/s for {options.duration:g} s, open loop, "
        f"{options.clients} client threads; sent over {elapsed:.1f} s"
    )
    print(f"load before: {load_before}; at the burst's end: {load_after}; after the drain: {load_drained}")
    if not cluster:
        print(
            f"CPU during the burst: gunicorn {server_cpu:.1f} s, workers {burst_worker_cpu:.1f} s; "
            f"workers until drained {drained_worker_cpu:.1f} s"
        )
    print(f"\nstatus codes: {dict(statuses)}")
    print("\n| latency (ms) | n | p50 | p95 | p99 | mean | max |")
    print("|---|---|---|---|---|---|---|")
    for label, values in (
        ("due time → response (open loop)", latency),
        ("sent → response", service),
        ("client lag (due → sent)", lag),
        ("submitted_at → first offer written", to_offer),
        ("submitted_at → first offer message sent", to_message),
    ):
        f = figures(values)
        print(
            f"| {label} | {f['n']} | {f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | {f['mean']:.1f} "
            f"| {f['max']:.1f} |"
        )
    timeline(sampler, started)
    at_end = min(sampler.samples, key=lambda sample: abs(sample.at - (sampler.burst_ended_at or 0)))
    peak = max(sampler.samples, key=lambda sample: sample.unsent)
    print(
        f"\noutbox when the burst ended: {at_end.pending} pending, {at_end.sending} sending, due backlog "
        f"{at_end.due}; largest backlog {peak.unsent} unsent at {peak.at - started:.0f} s"
    )
    empty_after = sampler.empty_after()
    if empty_after is None:
        print(
            f"outbox NOT empty {sampler.samples[-1].at - sampler.burst_ended_at:.0f} s after the burst ended "
            f"({sampler.samples[-1].unsent} unsent)"
        )
    else:
        print(f"outbox empty {empty_after:.0f} s after the burst ended")
    print(f"messages sent since the burst started: {sent_during}; outbox by status now: {dict(outbox)}")
    print(f"requests in the database: {dict(counts)}; offers written: {offers}")
    for item in errors[:5]:
        print(f"  error: request {item.number}: {item.status} {item.error}")
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        if text.strip():
            print(f"\n{log.name}, last lines:\n{text[-1500:]}")
    shutil.rmtree(scratch, ignore_errors=True)
    if errors or neither or len(ids) != count:
        print(
            f"\nFAIL: {len(errors)} request(s) not answered 201, {len(neither)} in neither state "
            f"(offered or waiting)",
            file=sys.stderr,
        )
        sys.exit(1)
    print(f"\nOK: {count} requests answered 201; every one offered or waiting")


if __name__ == "__main__":
    main()
