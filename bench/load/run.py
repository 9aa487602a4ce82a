"""Load test of the cluster (bin/run-cluster) with locust, and the kill test, on PostgreSQL.

1. Builds a throwaway PostgreSQL database (--database, default …/kynect_cluster_load, dropped and created
   again): a generated directory of --services services (generate_directory + import_hsds), --helpers
   registered helpers with round-the-clock schedules (bench/ondemand_routing.py's population), an HSDS
   API token and an On Demand intake token (both without per-token limits, as for trusted partners).
2. Starts the cluster (`bin/run-cluster start`) with DJANGO_ENV=demo (no TLS on loopback), service hours
   round the clock, offers lasting --offer-minutes with a reminder a minute before (so that offers expire
   during the run), the file SMS backend and the JSON-lines email backend, both writing into one folder
   shared by every process.
3. Runs locust headless (bench/load/locustfile.py, from the .venv-load environment) for --duration
   seconds with --users simulated users. A third of the way in, it `kill -9`s worker1 and app1 (the gunicorn
   master and its workers), waits --down seconds, and starts them again with
   `bin/run-cluster restart-one` (--no-kill skips this).
4. Waits until the workers have caught up (no message due or being sent, no pending offer past its
   expiry), stops the cluster so that nothing changes any more, then checks, from the database and the
   delivered files:
   - every offer that expired did so exactly once (one `expire` event), and none is left pending past
     its expiry;
   - every message was delivered exactly once: each email and each text message by the outbox message
     id its delivery record names, against the outbox rows marked sent;
   - no help request was lost or doubled: each answered 201 exists and ends offered or waiting; each
     whose app server died before answering was sent again by the client, and each phone number has at
     most one request;
   - no server error (5xx) from an app server; the balancer's own 502/503 answers, for requests that were
     in flight on (or sent to) the killed app server, are counted apart and must fall inside the kill
     window.
5. Prints requests per second and p50/p95/p99 per kind, the checks' numbers, and exits 1 if any fails.

Run from the project folder (locust is installed on its own: see bench/README.md):

    .venv/bin/python bench/load/run.py --duration 300
    .venv/bin/python bench/load/run.py --duration 30 --services 2000 --helpers 500
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from directory_import import ROOT, build_directory, machine_load
from hsds_api import make_paths
from ondemand_routing import ALWAYS_OPEN, commit, geography_load, population_build
from search import SpecMaker, django_setup, vocabulary_load

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/kynect_cluster_load"
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
RUN_CLUSTER = ROOT / "bin" / "run-cluster"
# Where bin/run-cluster keeps its pid files: CLUSTER_RUN_DIR, as bin/run-cluster reads it.
CLUSTER_DIR = ROOT / os.environ.get("CLUSTER_RUN_DIR", "var/cluster")
OUT = CLUSTER_DIR / "load"
KINDS = (
    "search (en)",
    "search (es)",
    "service page (en)",
    "service page (es)",
    "HSDS API search",
    "HSDS API service",
    "help request (API)",
    "offer link",
    "offer accept",
    "passcode",
)


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {text}", file=sys.stderr, flush=True)


def cluster_env(options: argparse.Namespace, database: str, secret_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database,
        "CLUSTER_PORT": str(options.port),
        "DJANGO_ENV": "demo",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secret_key,  # the tokens' stored hashes are keyed with it
        "DJANGO_SITE_URL": f"http://127.0.0.1:{options.port}",
        "DJANGO_LOG_LEVEL": "WARNING",
        "SMS_BACKEND": "kynect.notifications.sms.FileSmsBackend",
        "SMS_FILE_PATH": str(OUT / "sms"),
        "DJANGO_EMAIL_BACKEND": "kynect.notifications.email.JsonLinesEmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(OUT / "email"),
        "ONDEMAND_SERVICE_HOURS": ALWAYS_OPEN,
        "ONDEMAND_OFFER_MINUTES": str(options.offer_minutes),
        "ONDEMAND_REMINDER_MINUTES_BEFORE": "1",
    }


def plan_write(options: argparse.Namespace, helpers: int) -> Path:
    """The directory, helpers and tokens, then what locust's users draw from."""
    from django.db import connection

    from kynect.accounts.models import ApiScope
    from kynect.accounts.tokens import api_token_create
    from kynect.directory.forms import SearchForm
    from kynect.directory.models import Service

    rng = random.Random(options.seed)
    geography = geography_load()
    population_build(
        helpers=helpers,
        unregistered=0,
        history=0,
        seed=options.seed,
        geography=geography,
        schedule="always",
        week_start=datetime.now(UTC),
    )
    _hsds, hsds_token = api_token_create(client="bench/load", scopes=[ApiScope.HSDS_READ], rate_limited=False)
    _intake, intake_token = api_token_create(
        client="bench/load intake", scopes=[ApiScope.ONDEMAND_INTAKE], rate_limited=False
    )
    maker = SpecMaker(vocabulary_load(rng), rng)
    seen: set[str] = set()

    def usable(spec: Any) -> bool:
        key = json.dumps(spec.params(), sort_keys=True)
        if key in seen or not SearchForm(spec.params(), now=spec.moment).is_valid():
            return False
        seen.add(key)
        return True

    searches = [spec.params() for spec in maker.mixed(2000, usable)]
    services = [str(pk) for pk in Service.objects.order_by("?").values_list("pk", flat=True)[:2000]]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    plan = {
        "seed": options.seed,
        "searches": searches,
        "services": services,
        "hsds_paths": [path for _kind, path in make_paths(1500, options.seed)],
        "zip_codes": [info.zip_code for info in geography.zips],
        "hsds_token": hsds_token,
        "intake_token": intake_token,
        "sms_folder": str(OUT / "sms"),
        "events": str(OUT / "events.jsonl"),
    }
    path = OUT / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def cluster(command: str, *arguments: str, env: dict[str, str]) -> None:
    subprocess.run([str(RUN_CLUSTER), command, *arguments], env=env, cwd=ROOT, check=True)  # noqa: S603


def pid_of(name: str) -> int:
    return int((CLUSTER_DIR / f"{name}.pid").read_text())


def kill_and_restart(env: dict[str, str], *, after: float, down: float, window: dict[str, float]) -> None:
    """kill -9 worker1 and app1 (its whole process group: the master and its workers), then start them
    again through bin/run-cluster."""
    time.sleep(after)
    window["killed"] = time.time()
    os.kill(pid_of("worker1"), signal.SIGKILL)
    os.killpg(pid_of("app1"), signal.SIGKILL)
    say("kill -9 worker1 and app1")
    time.sleep(down)
    cluster("restart-one", "worker1", env=env)
    cluster("restart-one", "app1", env=env)
    window["restarted"] = time.time()


def caught_up(timeout: float) -> float:
    """Seconds until no message is due or being sent and no pending offer is past its expiry."""
    from django.db import connection
    from django.db.models import Q

    from kynect.notifications.models import OutboundMessage
    from kynect.ondemand.models import Offer

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        now = datetime.now(UTC)
        busy = OutboundMessage.objects.filter(
            Q(status=OutboundMessage.Status.SENDING)
            | Q(status=OutboundMessage.Status.PENDING, next_attempt_at__lte=now)
        ).exists()
        # A sweeper turn a few seconds behind is normal; an offer still pending long after is not.
        late = Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lte=now - timedelta(seconds=5))
        if not busy and not late.exists():
            return time.monotonic() - started
        connection.close()
        time.sleep(2)
    return -1.0


def offers_check(stopped_at: datetime) -> tuple[dict[str, int], bool]:
    """From one read of every offer with its number of `expire` events."""
    from django.db.models import Count, Q

    from kynect.ondemand.models import Offer

    rows = list(
        Offer.objects.annotate(expiries=Count("events", filter=Q(events__transition="expire"))).values_list(
            "status", "expiries", "expires_at"
        )
    )
    expired = [expiries for status, expiries, _at in rows if status == Offer.Status.EXPIRED]
    numbers = {
        "offers": len(rows),
        "expired": len(expired),
        "expired with exactly one expire event": expired.count(1),
        "with two or more expire events": sum(1 for _status, expiries, _at in rows if expiries > 1),
        "not expired but with an expire event": sum(
            1 for status, expiries, _at in rows if status != Offer.Status.EXPIRED and expiries > 0
        ),
        # A sweeper turn a few seconds behind is normal; an offer still pending long after is not.
        "still pending past expiry": sum(
            1
            for status, _expiries, expires_at in rows
            if status == Offer.Status.PENDING and expires_at <= stopped_at - timedelta(seconds=5)
        ),
    }
    ok = (
        numbers["expired"] == numbers["expired with exactly one expire event"]
        and numbers["with two or more expire events"] == 0
        and numbers["not expired but with an expire event"] == 0
        and numbers["still pending past expiry"] == 0
    )
    return numbers, ok


def _sent_ids(channel: str) -> set[str]:
    from kynect.notifications.models import OutboundMessage

    sent = OutboundMessage.objects.filter(channel=channel, status=OutboundMessage.Status.SENT)
    return {str(pk) for pk in sent.values_list("pk", flat=True)}


def _delivery_problems(
    label: str, sent: set[str], delivered: Counter[str]
) -> tuple[dict[str, int], list[str]]:
    """Deliveries counted per outbox message id against the rows marked sent."""
    twice = [pk for pk, count in delivered.items() if count > 1]
    unsent = [pk for pk in delivered if pk not in sent]
    lost = [pk for pk in sent if pk not in delivered]
    numbers = {
        f"{label} sent (outbox)": len(sent),
        f"{label} delivered (distinct message ids)": len(delivered),
        f"{label} delivered more than once": len(twice),
        f"{label} delivered but not marked sent": len(unsent),
        f"{label} marked sent but not delivered": len(lost),
    }
    problems = [
        f"{label} {what}: message {pk}"
        for what, ids in (
            ("delivered more than once", twice),
            ("delivered but not marked sent", unsent),
            ("marked sent but not delivered", lost),
        )
        for pk in ids[:10]
    ]
    return numbers, problems


def messages_check() -> tuple[dict[str, int], list[str], bool]:
    from kynect.notifications.models import OutboundMessage

    by_status = Counter(OutboundMessage.objects.values_list("status", flat=True))
    # JsonLinesEmailBackend: one line per email; FileSmsBackend: one file per text message. Both name the
    # outbox message they delivered.
    email_file = OUT / "email" / "messages.jsonl"
    email_lines = email_file.read_text().splitlines() if email_file.exists() else []
    delivered_email = Counter(json.loads(line)["message_id"] for line in email_lines if line)
    sms_files = (OUT / "sms").glob("*.json")
    delivered_sms = Counter(json.loads(path.read_text())["message_id"] for path in sms_files)
    email_numbers, email_problems = _delivery_problems(
        "emails", _sent_ids(OutboundMessage.Channel.EMAIL), delivered_email
    )
    sms_numbers, sms_problems = _delivery_problems(
        "text messages", _sent_ids(OutboundMessage.Channel.SMS), delivered_sms
    )
    problems = email_problems + sms_problems
    numbers = {
        **{f"outbox rows {status}": count for status, count in sorted(by_status.items())},
        **email_numbers,
        **sms_numbers,
    }
    ok = not problems
    ok = ok and by_status.get(OutboundMessage.Status.SENDING, 0) == 0
    return numbers, problems, ok


def requests_check(outcomes: list[dict[str, Any]]) -> tuple[dict[str, int], list[str], bool]:
    from kynect.ondemand.models import HelpRequest, Offer

    phones = [outcome["phone"] for outcome in outcomes]
    rows: dict[str, list[tuple[str, str, Any, Any]]] = {}
    for start in range(0, len(phones), 500):
        for pk, phone, status, waiting_since, route_at in HelpRequest.objects.filter(
            phone__in=phones[start : start + 500]
        ).values_list("pk", "phone", "status", "waiting_since", "route_at"):
            rows.setdefault(phone, []).append((str(pk), status, waiting_since, route_at))
    offered = {str(pk) for pk in Offer.objects.values_list("help_request", flat=True).distinct()}

    def settled(row: tuple[str, str, Any, Any]) -> bool:
        pk, status, waiting_since, route_at = row
        waiting = status == HelpRequest.Status.PENDING and waiting_since is not None and route_at is not None
        return pk in offered or waiting

    numbers: Counter[str] = Counter()
    problems: list[str] = []
    for outcome in outcomes:
        made = rows.get(outcome["phone"], [])
        lost_first = len(outcome["attempts"]) > 1
        if len(made) > 1:
            numbers["phone numbers with two or more requests"] += 1
            problems.append(f"{len(made)} requests for one phone number: {[row[0] for row in made]}")
            continue
        if outcome["id"]:
            numbers["answered 201"] += 1
            if lost_first:
                numbers["answered 201 on a retry after a lost answer"] += 1
            if not made or made[0][0] != outcome["id"]:
                numbers["answered 201 but missing"] += 1
                problems.append(f"request {outcome['id']} answered 201 is not in the database")
            elif not settled(made[0]):
                numbers["answered 201 but neither offered nor waiting"] += 1
                problems.append(f"request {outcome['id']} is neither offered nor waiting ({made[0][1]})")
        elif outcome["attempts"] and outcome["attempts"][-1] == 409 and lost_first:
            numbers["made by an attempt whose answer was lost (retry answered 409)"] += 1
            if not made or not settled(made[0]):
                problems.append("a retry was refused as a duplicate, but no settled request exists")
        else:
            numbers[f"not accepted (answers {outcome['attempts']})"] += 1
            if made and not settled(made[0]):
                problems.append(f"request {made[0][0]} the client never saw is half-made ({made[0][1]})")
    return dict(numbers), problems, not problems


def stats_read(path: Path) -> dict[str, dict[str, str]]:
    with path.open() as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="a throwaway PostgreSQL database URL")
    parser.add_argument("--services", type=int, default=12_000)
    parser.add_argument("--helpers", type=int, default=2_000)
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--users", type=int, default=60, help="simulated users")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", "8080")))
    parser.add_argument("--offer-minutes", type=int, default=2)
    parser.add_argument("--down", type=float, default=10, help="seconds the killed processes stay down")
    parser.add_argument("--no-kill", action="store_true", help="load only, no kill test")
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the cluster running afterwards (the checks then read a database that still changes)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()
    if not options.database.startswith("postgres"):
        parser.error("--database must be a PostgreSQL URL: the cluster shares one PostgreSQL database")
    if not LOCUST.exists():
        parser.error(f"locust is not installed in {LOCUST.parent.parent}: see bench/README.md")

    secret_key = secrets.token_urlsafe(64)
    env = cluster_env(options, options.database, secret_key)
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "sms").mkdir(parents=True)
    (OUT / "email").mkdir()
    cluster("stop", env=env)
    build_directory(services=options.services, seed=options.seed, database=options.database)
    os.environ.update({key: env[key] for key in ("DJANGO_SECRET_KEY", "ONDEMAND_SERVICE_HOURS")})
    django_setup(options.database)
    plan = plan_write(options, options.helpers)
    say("data ready; starting the cluster")

    cluster("start", env=env)
    window: dict[str, float] = {}
    load_before = machine_load()
    started = time.time()
    killer = None
    if not options.no_kill:
        killer = threading.Thread(
            target=kill_and_restart,
            kwargs={"env": env, "after": options.duration / 3, "down": options.down, "window": window},
        )
        killer.start()
    locust_log = OUT / "locust.log"
    with locust_log.open("wb") as log:
        subprocess.run(  # noqa: S603
            [
                str(LOCUST),
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "--users",
                str(options.users),
                "--spawn-rate",
                str(options.spawn_rate),
                "--run-time",
                f"{options.duration}s",
                "--host",
                f"http://127.0.0.1:{options.port}",
                "--csv",
                str(OUT / "locust"),
                "--only-summary",
            ],
            env={**os.environ, "LOAD_PLAN": str(plan)},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    elapsed = time.time() - started
    load_after = machine_load()
    from kynect.notifications.models import OutboundMessage

    claimed_at_end = OutboundMessage.objects.filter(status=OutboundMessage.Status.SENDING).count()
    if killer is not None:
        killer.join()
    # A claim left by the killed worker is released after the outbox's stale-claim time (5 minutes).
    catch_up = caught_up(timeout=420)
    # The checks read a still picture: the workers stop first (each finishes the task in hand).
    stopped_at = datetime.now(UTC)
    if not options.keep_running:
        cluster("stop", env=env)
    offers, offers_ok = offers_check(stopped_at)
    messages, message_problems, messages_ok = messages_check()
    events = [json.loads(line) for line in (OUT / "events.jsonl").read_text().splitlines() if line]
    outcomes = [event for event in events if event["kind"] == "help request outcome"]
    requests, request_problems, requests_ok = requests_check(outcomes)

    unexpected = [event for event in events if "status" in event]
    server_errors = [event for event in unexpected if event["status"] >= 500 and not event["balancer"]]
    # Lost: the balancer answered for an app server that was gone, or the connection itself broke.
    lost = [event for event in unexpected if event["balancer"] or event["status"] == 0]
    kill_from, kill_to = window.get("killed", 0.0), window.get("restarted", 0.0) + 5
    outside = [event for event in lost if not kill_from <= event["at"] <= kill_to]
    other = Counter(
        f"{event['kind']}: {event['status']}"
        for event in unexpected
        if 0 < event["status"] < 500 and not event["balancer"]
    )

    stats = stats_read(OUT / "locust_stats.csv")
    print(
        f"\nkynect cluster under locust: {options.users} users for {options.duration} s ({elapsed:.0f} s run)"
    )
    print(
        f"commit {commit()}; 2 app servers (gunicorn, CLUSTER_APP_WORKERS/THREADS defaults) behind HAProxy, "
        f"2 workers, PostgreSQL; {options.services:,} services, {options.helpers:,} helpers"
    )
    print(f"load before: {load_before}; after: {load_after}\n")
    print("| kind | requests | req/s | p50 ms | p95 ms | p99 ms | failures |")
    print("|---|---|---|---|---|---|---|")
    for name in (*KINDS, "Aggregated"):
        row = stats.get(name)
        if row is None:
            continue
        print(
            f"| {name} | {row['Request Count']} | {float(row['Requests/s']):.2f} | {row['50%']} | "
            f"{row['95%']} | {row['99%']} | {row['Failure Count']} |"
        )
    print(f"\nserver errors (5xx from an app server): {len(server_errors)}")
    if window:
        print(
            f"kill -9 at {time.strftime('%H:%M:%S UTC', time.gmtime(window['killed']))}, both started again "
            f"{window['restarted'] - window['killed']:.1f} s later"
        )
    print(
        f"requests lost with their app server (a balancer 502/503/504 or a broken connection): {len(lost)}, "
        f"by kind {dict(Counter(event['kind'] for event in lost))}; outside the kill window: {len(outside)}"
    )
    print(f"\noutbox messages being sent (claimed) when the load ended: {claimed_at_end}")
    print(
        f"workers caught up {catch_up:.0f} s after the load ended"
        if catch_up >= 0
        else "workers did not catch up within 420 s"
    )
    print(f"\noffers: {offers}")
    print(f"\nmessages: {messages}")
    print(f"\nhelp requests (by phone number): {requests}")
    if other:
        print(f"other unexpected answers (not server errors): {dict(other)}")
    unread = sum(1 for event in events if event["kind"] == "passcode not received")
    print(f"accepted offers whose passcode text a helper did not find within 20 s: {unread}")
    for problem in [*message_problems, *request_problems][:20]:
        print(f"  problem: {problem}")

    failed = []
    if server_errors:
        failed.append(f"{len(server_errors)} server errors")
    if outside:
        failed.append(f"{len(outside)} lost requests outside the kill window")
    if catch_up < 0:
        failed.append("the workers did not catch up within 420 s")
    if not offers_ok:
        failed.append("an offer did not expire exactly once")
    if not messages_ok:
        failed.append("a message was not delivered exactly once")
    if not requests_ok:
        failed.append("a help request was lost, doubled or half-made")
    if not options.no_kill and not window:
        failed.append("the kill test did not run")
    if failed:
        print("\nFAIL: " + "; ".join(failed), file=sys.stderr)
        sys.exit(1)
    print(
        "\nOK: no server error; every offer expired at most once and every expiry once; every message "
        "delivered once; every help request accepted once or shown as not accepted"
    )


if __name__ == "__main__":
    main()
