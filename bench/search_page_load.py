"""Benchmark: requests per second of the search page served as in production, under a load generator.

Serves the project's WSGI application with gunicorn on 127.0.0.1 (DJANGO_ENV=demo, DEBUG off, no
access log) against a database, and drives `GET /search/?…` with wrk (a C load generator, fed by a
Lua script) over keep-alive connections on loopback for a fixed duration. Every request is a distinct
search of the four kinds of bench/search.py, written as the page's URL parameters: ZIP codes, or
coordinates near them as a phone's location would give; "open now" is the server's clock. A search
made twice is sent as its next page instead (page 2 to 5), as someone reading on would. Nothing is
cached: the project has no cache, and no path is sent twice (wrk reports if it ran out of paths).
Sync workers close each connection after answering (gunicorn has no keep-alive for them); wrk then
reconnects. The CPU time of the gunicorn processes and of wrk is reported, to show which one is the
bottleneck.

First, --breakdown N requests are made in this process through Django's test client to show where a
request's time goes (form, search, result cards, template rendering, the rest).

One run per server setup given in --setups (e.g. `sync:3` = 3 sync workers, `gthread:2x4` = 2
workers of 4 threads), each after a short warm-up that is not counted. Before each measured run a
sample of the paths is fetched one by one to check that they answer 200 with results. Run from the
project folder:

    .venv/bin/python bench/search_page_load.py --services 12000
    .venv/bin/python bench/search_page_load.py --database sqlite:////path/to/kept.sqlite3
    .venv/bin/python bench/search_page_load.py --database postgres://postgres@127.0.0.1:5432/kynect_bench

Without --database a temporary SQLite database is built as bench/directory_import.py does; a given
database is used as it is (build one with `bench/directory_import.py --database URL`). Needs `wrk`
(`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from directory_import import ROOT, build_directory, django_env
from search import KINDS, Spec, SpecMaker, django_setup, search_query, vocabulary_load

GUNICORN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "gunicorn"
LOCATION_SHARE = 0.5  # share of place searches sent as lat/lon (a phone's location) instead of a ZIP code
CHECK_SAMPLE = 40
PAGES = (2, 3, 4, 5)
RESULT_LINK = re.compile(r"/services/[0-9a-f-]{36}/")

WRK_SCRIPT = r"""
-- Each wrk thread walks its own stride of the path file, so no path is sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2])
  index = id + 1
  wrapped = 0
end

function request()
  local path = paths[index]
  index = index + step
  if index > #paths then
    index = id + 1
    wrapped = wrapped + 1
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do wrapped = wrapped + thread:get("wrapped") end
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d status_errors=%d connect_errors=%d read_errors=%d "
    .. "write_errors=%d timeouts=%d p50_us=%d p90_us=%d p95_us=%d p99_us=%d max_us=%d mean_us=%d "
    .. "paths_reused=%d\n",
    summary.requests, summary.duration, summary.bytes, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, wrapped))
end
"""


@dataclass(frozen=True)
class Setup:
    worker_class: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> Setup:
        match = re.fullmatch(r"(sync|gthread):(\d+)(?:x(\d+))?", text)
        if not match:
            raise argparse.ArgumentTypeError(f"not a setup: {text!r} (sync:3, gthread:2x4)")
        kind, workers, threads = match.group(1), int(match.group(2)), int(match.group(3) or 1)
        return cls(kind, workers, threads if kind == "gthread" else 1)

    def arguments(self) -> list[str]:
        arguments = ["--worker-class", self.worker_class, "--workers", str(self.workers)]
        if self.worker_class == "gthread":
            arguments += ["--threads", str(self.threads)]
        return arguments

    def __str__(self) -> str:
        if self.worker_class == "gthread":
            return f"gthread, {self.workers} workers x {self.threads} threads"
        return f"sync, {self.workers} workers"


@dataclass
class Run:
    setup: Setup
    figures: dict[str, int] = field(default_factory=dict)
    checked: tuple[int, int, int] = (0, 0, 0)
    server_cpu: float = 0.0
    wrk_cpu: float = 0.0
    load_before: str = ""
    load_after: str = ""
    log: str = ""


def loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def make_paths(count: int, seed: int) -> list[str]:
    """`count` distinct search page paths, equally many of each kind, shuffled."""
    rng = random.Random(seed)
    maker = SpecMaker(vocabulary_load(rng), rng)
    from kynect.core.geo import zip_lookup

    seen: set[str] = set()
    paths: list[str] = []

    def accept(spec: Spec) -> bool:
        place = None
        if spec.zip_code and rng.random() < LOCATION_SHARE:
            info = zip_lookup(spec.zip_code)
            place = {
                "lat": f"{info.latitude + rng.uniform(-0.05, 0.05):.4f}",
                "lon": f"{info.longitude + rng.uniform(-0.05, 0.05):.4f}",
            }
        params = spec.params(place=place)
        path = "/search/?" + urlencode(params)
        # A search already asked for: someone reading its next pages (keyword searches repeat most).
        for page in PAGES:
            if path not in seen:
                break
            path = "/search/?" + urlencode({**params, "page": str(page)})
        if path in seen or search_query(spec) is None:
            return False
        seen.add(path)
        paths.append(path)
        return True

    for _spec in maker.mixed(count, accept):
        pass
    return paths


class Timers:
    """Wall time spent inside some functions, summed, while the search page is rendered in-process."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.labels: list[str] = []
        self.undo: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        self.labels.append(label)
        self.undo.append((owner, name, original))
        setattr(owner, name, timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self.undo):
            setattr(owner, name, original)


def breakdown(paths: list[str], count: int) -> list[tuple[str, float, float]]:
    """Where a search page request spends its time, from `count` requests made in this process
    through Django's test client (full middleware stack, DEBUG off): (part, mean ms, share)."""
    from django.forms.boundfield import BoundField
    from django.test import Client

    from kynect.directory import views
    from kynect.directory.forms import SearchForm
    from kynect.directory.search.backends import SearchBackend

    client = Client(HTTP_HOST="127.0.0.1")
    for path in paths[:20]:  # warm-up
        client.get(path)
    timers = Timers()
    timers.wrap(SearchForm, "is_valid", "form validation (SearchForm.is_valid)")
    timers.wrap(SearchBackend, "search", "search (search_backend().search)")
    timers.wrap(views, "listing_cards", "result cards (listing_cards)")
    timers.wrap(views, "render", "template rendering (render)")
    timers.wrap(BoundField, "as_widget", "  of which form widgets (BoundField.as_widget)")
    measured = paths[20 : 20 + count]
    total = cpu = 0.0
    try:
        for path in measured:
            started, started_cpu = time.perf_counter(), time.thread_time()
            response = client.get(path)
            total += time.perf_counter() - started
            cpu += time.thread_time() - started_cpu
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
    finally:
        timers.restore()
    count = len(measured)
    parts = [("whole request (test client)", total), ("  CPU time of the whole request", cpu)]
    parts += [(label, timers.seconds.get(label, 0.0)) for label in timers.labels]
    inside = sum(value for key, value in timers.seconds.items() if not key.startswith(" "))
    parts.append(("rest: middleware, URL, context, response", total - inside))
    return [(part, seconds / count * 1000, seconds / total) for part, seconds in parts]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/search/", timeout=timeout) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def check(base: str, paths: list[str]) -> tuple[int, int, int]:
    """(answered 200, with at least one result, asked) for paths fetched one by one."""
    ok = with_results = 0
    for path in paths:
        try:
            with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310
                body = response.read().decode("utf-8", "replace")
                ok += response.status == 200
                with_results += RESULT_LINK.search(body) is not None
        except urllib.error.HTTPError:
            pass
    return ok, with_results, len(paths)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (0 for the ones that are gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def wrk(
    wrk_bin: str, base: str, script: Path, paths_file: Path, options: argparse.Namespace, duration: int
) -> dict[str, int]:
    """Run wrk and return the figures its script prints."""
    command = [
        wrk_bin,
        "-t",
        str(options.wrk_threads),
        "-c",
        str(options.connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
        "--",
        str(paths_file),
        str(options.wrk_threads),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    output, _ = process.communicate()
    match = re.search(r"RESULT (.*)", output)
    if process.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed:\n{output}")
    return {key: int(value) for key, value in (item.split("=") for item in match.group(1).split())}


def serve_and_load(
    setup: Setup, database: str, paths: list[str], options: argparse.Namespace, work: Path, wrk_bin: str
) -> Run:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**django_env(database), "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_LOG_LEVEL": "WARNING"}
    log = work / f"gunicorn-{setup.worker_class}-{setup.workers}x{setup.threads}.log"
    command = [
        str(GUNICORN),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        *setup.arguments(),
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603
    try:
        wait_ready(base)
        warm, check_paths, measured = (
            paths[: options.warmup_paths],
            paths[options.warmup_paths : options.warmup_paths + CHECK_SAMPLE],
            paths[options.warmup_paths + CHECK_SAMPLE :],
        )
        checked = check(base, check_paths)
        script = work / "paths.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        warm_file, measured_file = work / "warm.txt", work / "measured.txt"
        warm_file.write_text("\n".join(warm) + "\n", encoding="utf-8")
        measured_file.write_text("\n".join(measured) + "\n", encoding="utf-8")
        wrk(wrk_bin, base, script, warm_file, options, options.warmup)
        # Requests the warm-up left queued are still served; one more request waits for them to drain.
        wait_ready(base, timeout=600)
        server_pids = [server.pid, *children(server.pid)]
        run = Run(setup, checked=checked, load_before=loadavg())
        server_cpu = cpu_seconds(server_pids)
        started_cpu = os.times()
        run.figures = wrk(wrk_bin, base, script, measured_file, options, options.duration)
        ended_cpu = os.times()
        run.load_after = loadavg()
        run.server_cpu = cpu_seconds(server_pids) - server_cpu
        run.wrk_cpu = (ended_cpu.children_user - started_cpu.children_user) + (
            ended_cpu.children_system - started_cpu.children_system
        )
        run.log = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        return run
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=12_000, help="size of the database to build")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated directory")
    parser.add_argument("--database", default="", help="DATABASE_URL of an imported database to use as is")
    parser.add_argument(
        "--setups",
        type=Setup.parse,
        nargs="+",
        default=[Setup.parse("sync:2"), Setup.parse("sync:4"), Setup.parse("gthread:2x4")],
    )
    parser.add_argument("--duration", type=int, default=30, help="seconds of measured load per setup")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up load per setup")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--paths", type=int, default=60_000, help="distinct paths to make")
    parser.add_argument("--warmup-paths", type=int, default=5_000)
    parser.add_argument("--query-seed", type=int, default=11)
    parser.add_argument(
        "--breakdown", type=int, default=200, metavar="N", help="requests measured in-process (0: none)"
    )
    options = parser.parse_args()
    wrk_bin = shutil.which("wrk")
    if wrk_bin is None:
        parser.error("wrk is not installed (apt-get install wrk)")

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = options.database or f"sqlite:///{work / 'bench.sqlite3'}"
        if not options.database:
            build_directory(services=options.services, seed=options.seed, database=database)
        django_setup(database)
        from django.db import connection, connections

        from kynect.directory.models import SearchEntry

        engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
        entries = SearchEntry.objects.count()
        paths = make_paths(options.paths, options.query_seed)
        parts_load = loadavg()
        parts = breakdown(paths[::-1], options.breakdown) if options.breakdown else []
        connections.close_all()
        results = [serve_and_load(setup, database, paths, options, work, wrk_bin) for setup in options.setups]

    print(f"\nSearch page under load, {engine}, {entries:,} search entries")
    print(
        "  gunicorn config.wsgi:application on 127.0.0.1, DJANGO_ENV=demo, DJANGO_DEBUG=false, "
        "no access log, --backlog 2048; database connections kept 60 s (conn_max_age in settings)"
    )
    print(
        f"  wrk: {options.wrk_threads} threads, {options.connections} keep-alive connections, "
        f"{options.duration} s measured after {options.warmup} s warm-up, timeout 10 s"
    )
    print(
        f"  {len(paths):,} distinct paths, the four kinds equally mixed ({', '.join(KINDS)}); "
        f"{LOCATION_SHARE:.0%} of place searches by lat/lon"
    )
    print("  latency = wrk's, client side, ms; errors = non-2xx/3xx answers + socket errors + timeouts;")
    print("  CPU = seconds of CPU used during the measured run by the gunicorn processes / by wrk.\n")
    print(
        "| server setup | requests | req/s | p50 | p95 | p99 | max | errors | sample 200s (with results) "
        "| CPU server / wrk | server CPU per request | paths reused | load before → after |"
    )
    print("|" + "---|" * 13)
    for result in results:
        figures = result.figures
        seconds = figures["duration_us"] / 1e6
        errors = sum(
            figures[key]
            for key in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
        )
        ok, with_results, asked = result.checked
        print(
            f"| {result.setup} | {figures['requests']:,} | {figures['requests'] / seconds:.0f} "
            f"| {figures['p50_us'] / 1000:.1f} | {figures['p95_us'] / 1000:.1f} "
            f"| {figures['p99_us'] / 1000:.1f} | {figures['max_us'] / 1000:.1f} "
            f"| {errors} (status {figures['status_errors']}) | {ok}/{asked} ({with_results}) "
            f"| {result.server_cpu:.1f} s / {result.wrk_cpu:.1f} s "
            f"| {result.server_cpu / max(figures['requests'], 1) * 1000:.0f} ms | {figures['paths_reused']} "
            f"| {result.load_before} → {result.load_after} |"
        )
    if parts:
        print(f"\nWhere a request's time goes: {options.breakdown} requests in-process through Django's test")
        print(f"client, one at a time (load before: {parts_load}); mean ms per request.\n")
        print("| part | mean ms | share of the request |")
        print("|---|---|---|")
        for part, mean, share in parts:
            print(f"| {part} | {mean:.1f} | {share:.0%} |")
    for result in results:
        if result.log:
            print(f"\ngunicorn log ({result.setup}), last lines:\n{result.log}")


if __name__ == "__main__":
    main()
