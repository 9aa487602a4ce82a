"""Benchmark: a burst of help requests through the On Demand API, served as in production.

Builds a throwaway database (--database, PostgreSQL by default: postgres://…/kynect_bench_ondemand,
dropped and created again; an sqlite:////path URL works too) with the helper population of
bench/ondemand_routing.py (--helpers registered helpers, schedules round the clock so that routing
happens whenever the benchmark runs), and makes one API token exempt from the per-token limit with
`manage.py api_token create --client bench --scope ondemand.intake --no-rate-limit`.

Serves `config.wsgi:application` with gunicorn on 127.0.0.1 as in production: DJANGO_ENV=production
(a random secret key, DJANGO_ALLOWED_HOSTS=127.0.0.1, secure cookies, DEBUG off), behind what would be
a TLS-terminating proxy, so requests carry `X-Forwarded-Proto: https`; no access log. The worker runs
beside it (`manage.py run_worker`), with the same settings: it sends the confirmations and offers and
routes requests that wait. Service hours are set round the clock (ONDEMAND_SERVICE_HOURS), so every
request is routed at once; messages go to backends that keep nothing.

The load is open-loop: request i is due at start + i / --rate, whatever happened to the ones before
(a dispatcher thread sleeps to each due time and hands the request to a pool of --clients threads, each
making a new connection as a browser-less client would). Latency is measured from the due time to the
end of the response, so a slow server is not hidden by sending less. Every request is
`POST /api/ondemand/help-requests` with `X-API-Key`, from a distinct phone number, in a mix of ZIP
codes, languages and programs. --warmup requests are sent first, one at a time, and not counted.

Afterwards, from the database, each request answered 201 must be either offered (an Offer row exists)
or waiting (Pending, with `waiting_since` and `route_at` set). The script exits non-zero, with FAIL,
when any request got an error or no answer, or is in neither state. Run from the project folder:

    .venv/bin/python bench/ondemand_burst.py
    .venv/bin/python bench/ondemand_burst.py --rate 50 --duration 60 --setup sync:4
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
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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


@dataclass
class Sent:
    number: int
    due: float
    started: float = 0.0
    ended: float = 0.0
    status: int = 0
    request_id: str = ""
    error: str = ""


def production_env(database: str) -> dict[str, str]:
    return {
        **django_env(database),
        **bench_env(),
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
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


def post(port: int, body: bytes, key: str, timeout: float) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            "POST",
            PATH,
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-API-Key": key,
                "X-Forwarded-Proto": "https",
                "Host": "127.0.0.1",
            },
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"})
            connection.getresponse().read()
            connection.close()
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
    port: int, key: str, payloads: list[bytes], rate: float, clients: int, timeout: float
) -> list[Sent]:
    """Open loop: request i is due at start + i / rate; latency counts from the due time."""
    sent = [Sent(number=number, due=0.0) for number in range(len(payloads))]

    def one(item: Sent) -> None:
        item.started = time.perf_counter()
        try:
            item.status, body = post(port, payloads[item.number], key, timeout)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--helpers", type=int, default=5000, help="registered helpers")
    parser.add_argument("--rate", type=float, default=50, help="requests per second")
    parser.add_argument("--duration", type=float, default=60, help="seconds of the burst")
    parser.add_argument("--warmup", type=int, default=20, help="requests sent one by one first, not counted")
    parser.add_argument("--clients", type=int, default=200, help="client threads (concurrent connections)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a client waits for an answer")
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
    worker_class, workers, threads = match.group(1), match.group(2), match.group(3) or "1"

    database = options.database
    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    database_fresh(database)
    env = production_env(database)
    django_setup(database, extra={"ONDEMAND_SERVICE_HOURS": ALWAYS_OPEN})
    from django.db import connection

    from kynect.notifications.models import OutboundMessage
    from kynect.ondemand.models import HelpRequest, Offer

    geography = geography_load()
    population = population_build(
        helpers=options.helpers,
        unregistered=0,
        history=0,
        seed=options.seed,
        geography=geography,
        schedule="always",
        week_start=datetime.now(UTC),
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
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
    zips = [info.zip_code for info in geography.zips]
    warm = bodies(options.warmup, options.seed, zips, first_phone=3_000_000)
    payloads = bodies(count, options.seed + 1, zips, first_phone=2_000_000)
    connection.close()

    port = free_port()
    scratch = Path(tempfile.mkdtemp(prefix="ondemand-burst-"))
    server_log, worker_log = scratch / "gunicorn.log", scratch / "worker.log"
    command = [
        str(GUNICORN),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        worker_class,
        "--workers",
        workers,
        *(["--threads", threads] if worker_class == "gthread" else []),
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "--error-logfile",
        str(server_log),
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603
    with worker_log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603
            [*MANAGE, "run_worker"], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_ready(port)
        warm_statuses = Counter(post(port, body, key, options.timeout)[0] for body in warm)
        pids = [server.pid, *children(server.pid)]
        server_cpu, worker_cpu = cpu_of(pids), cpu_of([worker.pid])
        load_before = machine_load()
        print(
            f"[{time.strftime('%H:%M:%S')}] warm-up {dict(warm_statuses)}; sending {count} requests at "
            f"{options.rate:g}/s",
            file=sys.stderr,
            flush=True,
        )
        started = time.perf_counter()
        sent = burst(port, key, payloads, options.rate, options.clients, options.timeout)
        elapsed = time.perf_counter() - started
        load_after = machine_load()
        server_cpu, worker_cpu = cpu_of(pids) - server_cpu, cpu_of([worker.pid]) - worker_cpu
        ids = [item.request_id for item in sent if item.request_id]
        counts, neither = states(ids)
        first_offer: list[float] = []
        for start in range(0, len(ids), 500):
            for submitted, offered in HelpRequest.objects.filter(
                pk__in=ids[start : start + 500], offers__round=1
            ).values_list("submitted_at", "offers__offered_at"):
                first_offer.append((offered - submitted).total_seconds() * 1000)
        offers = Offer.objects.filter(help_request__in=ids).count() if len(ids) < 30000 else -1
        outbox = Counter(OutboundMessage.objects.values_list("status", flat=True))
    finally:
        stop(server)
        stop(worker)

    statuses = Counter(item.status or "no answer" for item in sent)
    errors = [item for item in sent if item.status != 201]
    latency = [(item.ended - item.due) * 1000 for item in sent if item.ended]
    service = [(item.ended - item.started) * 1000 for item in sent if item.ended]
    lag = [(item.started - item.due) * 1000 for item in sent if item.started]
    print(f"\nOn Demand API burst, {engine}, gunicorn {options.setup} as in production, worker running")
    print(
        f"commit {commit()}; {len(population.helper_ids):,} registered helpers; "
        f"{count} requests at {options.rate:g}/s for {options.duration:g} s, open loop, "
        f"{options.clients} client threads; sent over {elapsed:.1f} s"
    )
    print(f"load before: {load_before}; after: {load_after}")
    print(f"CPU during the burst: gunicorn {server_cpu:.1f} s, worker {worker_cpu:.1f} s\n")
    print(f"status codes: {dict(statuses)}")
    print("\n| latency (ms) | n | p50 | p95 | p99 | mean | max |")
    print("|---|---|---|---|---|---|---|")
    for label, values in (
        ("due time → response (open loop)", latency),
        ("sent → response", service),
        ("client lag (due → sent)", lag),
        ("submitted_at → first offer written", first_offer),
    ):
        f = figures(values)
        print(
            f"| {label} | {f['n']} | {f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | {f['mean']:.1f} "
            f"| {f['max']:.1f} |"
        )
    print(f"\nrequests in the database after the burst: {dict(counts)}; offers written: {offers}")
    print(f"outbox (all messages, by status) when the burst ended: {dict(outbox)}")
    for item in errors[:5]:
        print(f"  error: request {item.number}: {item.status} {item.error}")
    for log in (server_log, worker_log):
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
