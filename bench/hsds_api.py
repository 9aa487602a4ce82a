"""Benchmark: latency of the HSDS API's list searches over HTTP, as a partner system would call them.

Serves the project's WSGI application with gunicorn on 127.0.0.1 (DJANGO_ENV=demo, DEBUG off, one
sync worker: one request at a time, so the figures are latencies, not throughput) against a database,
and sends distinct searches one after another, each on a new connection, 25 results a page, of three
kinds equally mixed and shuffled. Like a partner system, it sends an API token (made for the run with
no rate limit, revoked at the end): without one, a client address gets HSDS_API_LIMIT_PER_CLIENT
requests a minute, far fewer than the benchmark sends.

- keyword: `GET /api/hsds/services?search=…`
- place: `GET /api/hsds/service_at_locations?postcode=…&proximity=…` (nearest first)
- keyword near place: `GET /api/hsds/service_at_locations?search=…&postcode=…&proximity=…`

Keywords, ZIP codes and radii are drawn as bench/search.py draws them for the search page (words of
listings' names, descriptions and categories; ZIP codes weighted by the listings they hold, radii of
5 to 50 miles sent in metres). Prints p50/p95/p99/mean in ms per kind and overall, and the mean
`total_items` per kind (what the searches found). A warm-up of --warmup requests is not counted. Run
from the project folder:

    .venv/bin/python bench/hsds_api.py --services 12000
    .venv/bin/python bench/hsds_api.py --database postgres://postgres@127.0.0.1:5432/kynect_bench

Without --database a temporary SQLite database is built as bench/directory_import.py does; a given
database is used as it is (build one with `bench/directory_import.py --database URL`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

from directory_import import ROOT, build_directory, django_env
from search import RADII, SpecMaker, django_setup, percentile, vocabulary_load
from search_page_load import GUNICORN, free_port, loadavg

KINDS = ("keyword", "place", "keyword near place")
PER_PAGE = 25
METRES_PER_MILE = 1609.344


def make_paths(count: int, seed: int) -> list[tuple[str, str]]:
    """`count` distinct (kind, path) pairs, equally many of each kind, shuffled."""
    rng = random.Random(seed)
    maker = SpecMaker(vocabulary_load(rng), rng)
    seen: set[str] = set()
    paths: list[tuple[str, str]] = []
    kinds = [KINDS[number % len(KINDS)] for number in range(count)]
    rng.shuffle(kinds)
    for kind in kinds:
        for _attempt in range(1000):
            params: dict[str, str] = {"per_page": str(PER_PAGE)}
            if kind != "place":
                params["search"] = maker.keyword()
                if not params["search"]:
                    continue
            if kind != "keyword":
                params["postcode"] = maker.place()
                params["proximity"] = str(round(rng.choice(RADII) * METRES_PER_MILE))
            endpoint = "services" if kind == "keyword" else "service_at_locations"
            path = f"/api/hsds/{endpoint}?{urlencode(params)}"
            if path not in seen:
                seen.add(path)
                paths.append((kind, path))
                break
        else:
            raise RuntimeError(f"could not make another distinct {kind} search")
    return paths


def wait_ready(port: int, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, _body = fetch(port, "/api/hsds/", token)
            if status == 200:
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def fetch(port: int, path: str, token: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def measure(port: int, token: str, paths: list[tuple[str, str]]) -> dict[str, list[tuple[float, int]]]:
    """(seconds, total_items) per kind; a non-200 answer counts as total -1."""
    results: dict[str, list[tuple[float, int]]] = {kind: [] for kind in KINDS}
    for kind, path in paths:
        started = time.perf_counter()
        status, body = fetch(port, path, token)
        elapsed = time.perf_counter() - started
        total = json.loads(body)["total_items"] if status == 200 else -1
        results[kind].append((elapsed, total))
    return results


def row(label: str, samples: list[tuple[float, int]]) -> str:
    times = [seconds for seconds, _total in samples]
    found = [total for _seconds, total in samples if total >= 0]
    errors = len(samples) - len(found)
    figures = " | ".join(
        f"{value * 1000:.1f}"
        for value in (
            percentile(times, 0.50),
            percentile(times, 0.95),
            percentile(times, 0.99),
            sum(times) / len(times),
        )
    )
    mean_found = sum(found) / len(found) if found else 0.0
    return f"| {label} | {len(samples):,} | {figures} | {mean_found:,.1f} | {errors} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=12_000, help="size of the database to build")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated directory")
    parser.add_argument("--database", default="", help="DATABASE_URL of an imported database to use as is")
    parser.add_argument("--requests", type=int, default=1_500, help="measured requests (all kinds)")
    parser.add_argument("--warmup", type=int, default=150, help="requests sent first and not counted")
    parser.add_argument("--query-seed", type=int, default=11)
    options = parser.parse_args()

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = options.database or f"sqlite:///{work / 'bench.sqlite3'}"
        if not options.database:
            build_directory(services=options.services, seed=options.seed, database=database)
        django_setup(database)
        from django.db import connection, connections

        from kynect.accounts.models import ApiScope
        from kynect.accounts.tokens import api_token_create, api_token_revoke
        from kynect.directory.models import SearchEntry

        engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
        entries = SearchEntry.every.count()
        paths = make_paths(options.warmup + options.requests, options.query_seed)
        api_token, token = api_token_create(
            client="bench/hsds_api.py", scopes=[ApiScope.HSDS_READ], rate_limited=False
        )
        stack.callback(api_token_revoke, prefix=api_token.prefix)
        connections.close_all()

        port = free_port()
        env = {
            **django_env(database),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        command = [
            str(GUNICORN),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
        server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603
        try:
            wait_ready(port, token)
            measure(port, token, paths[: options.warmup])
            load_before = loadavg()
            results = measure(port, token, paths[options.warmup :])
            load_after = loadavg()
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"\nHSDS API searches over HTTP, {engine}, {entries:,} search entries")
    print(
        "  gunicorn config.wsgi:application on 127.0.0.1, DJANGO_ENV=demo, DJANGO_DEBUG=false, one sync "
        f"worker; one request at a time, a new connection each, with an API token; per_page={PER_PAGE}"
    )
    print(
        f"  {options.requests:,} distinct requests after {options.warmup:,} of warm-up;"
        " latency client side, ms\n"
    )
    print("| kind | requests | p50 | p95 | p99 | mean | mean total_items | errors |")
    print("|" + "---|" * 8)
    for kind in KINDS:
        print(row(kind, results[kind]))
    print(row("all", [sample for kind in KINDS for sample in results[kind]]))
    print(f"\nload average before → after: {load_before} → {load_after}")


if __name__ == "__main__":
    main()
