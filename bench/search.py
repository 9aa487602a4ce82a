"""Benchmark: directory search, server time and raw database time of 1,000 distinct mixed searches.

Builds a throwaway database with a synthetic directory (as bench/directory_import.py does), or reuses
one with --reuse, then runs 1,000 distinct searches made with a fixed seed, after a warm-up that is
not counted. Four kinds, equally mixed and shuffled:

  keyword+distance+category   a 1-3 word keyword, a category (any of the three levels), near a ZIP code
  distance only               near a ZIP code within a radius, nearest first
  keyword only                a 1-3 word keyword, statewide
  open now nearby             near a ZIP code within a radius, open at a given moment

Keywords come from the data (service names, category names in English and Spanish, words of the
descriptions); places are Kentucky ZIP codes weighted like the listings (and a few from anywhere in
the state); radii are 5, 10, 25 or 50 miles; "open now" moments are spread over a week of Kentucky
local time and passed explicitly. Each query is made by the search page's own form (`SearchForm`),
so the parameters mean what they mean on the page.

Server time: the search call as the page makes it, `search_backend().search(query)` and then
`listing_cards(hits=..., now=...)`, in this process (Django set up in-process, DEBUG off, no caching
anywhere). Raw database time: the SQL statements those two calls ran, captured with
`connection.execute_wrapper` and then re-executed one by one on a bare DB-API cursor (execute and
fetch every row), timed; "search SQL" is the statement(s) of `search()` alone. Run from the project
folder:

    .venv/bin/python bench/search.py --services 12000
    .venv/bin/python bench/search.py --services 12000 \\
        --database postgres://postgres@127.0.0.1:5432/kynect_bench_search
    .venv/bin/python bench/search.py --reuse --database postgres://postgres@127.0.0.1:5432/kynect_bench

A PostgreSQL database named in --database is dropped and created again unless --reuse is given, so
point it at a throwaway name. PostgreSQL statistics are refreshed with ANALYZE before measuring (what
autovacuum does shortly after a large import); --no-analyze skips it. --explain N prints the plans of
the N slowest search statements of each kind (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on
SQLite).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from directory_import import ROOT, build_directory, django_env, machine_load

if TYPE_CHECKING:
    from kynect.directory.search import SearchQuery
    from kynect.directory.taxonomy import CategoryNode

KINDS = ("keyword+distance+category", "distance only", "keyword only", "open now nearby")
RADII = (5, 10, 25, 50)
KENTUCKY_TIME = ZoneInfo("America/Kentucky/Louisville")
WEEK_START = datetime(2026, 11, 16, tzinfo=KENTUCKY_TIME)  # a Monday; no holiday that week
ANYWHERE_SHARE = 0.1  # share of places drawn from every Kentucky ZIP code, not weighted by the data
ENTRY_SAMPLE = 4000  # listings read to draw keywords from
_WORDS = re.compile(r"[^\W\d_]+")
_SKIP = frozenset("and the for with from are that this what will your you offers people who not".split())


def django_setup(database: str) -> None:
    """Set the environment for `database` and set Django up in this process."""
    os.environ.update(django_env(database))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- What to search for -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    name: str
    description: str
    categories: tuple[CategoryNode, ...]


@dataclass
class Vocabulary:
    """What realistic searches are made of, read from the database."""

    listings: list[Listing]
    nodes_by_level: dict[int, list[CategoryNode]]
    zip_codes: list[str]
    zip_weights: list[float]
    all_zip_codes: list[str]
    entries: int = 0
    level_of: dict[str, int] = field(default_factory=dict)


def vocabulary_load(rng: random.Random) -> Vocabulary:
    from django.db.models import Count, Max, Min

    from kynect.core.geo import kentucky_zip_codes
    from kynect.directory import models as hsds
    from kynect.directory.search.index import term_tag
    from kynect.directory.taxonomy import categories

    nodes_by_level: dict[int, list[CategoryNode]] = {}
    level_of: dict[str, int] = {}
    by_tag: dict[str, CategoryNode] = {}

    def walk(node: CategoryNode, level: int) -> None:
        nodes_by_level.setdefault(level, []).append(node)
        level_of[node.slug] = level
        by_tag[term_tag(node.id)] = node
        for child in node.children:
            walk(child, level + 1)

    for top in categories():
        walk(top, 1)

    bounds = hsds.SearchEntry.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"] or 0, bounds["high"] or 0
    wanted = sorted(rng.sample(range(low, high + 1), min(ENTRY_SAMPLE, high - low + 1)))
    listings: list[Listing] = []
    for start in range(0, len(wanted), 500):
        for name, description, tags in hsds.SearchEntry.objects.filter(
            id__in=wanted[start : start + 500]
        ).values_list("name", "description", "tags"):
            found = tuple(by_tag[tag] for tag in tags.split() if tag in by_tag)
            listings.append(Listing(name, description, found))
    listings.sort(key=lambda listing: (listing.name, listing.description))  # stable whatever the row order

    per_zip = (
        hsds.SearchEntry.objects.filter(location__addresses__address_type="physical")
        .values_list("location__addresses__postal_code")
        .annotate(entries=Count("id"))
        .order_by("location__addresses__postal_code")
    )
    known = set(kentucky_zip_codes())
    zip_codes, zip_weights = [], []
    for zip_code, entries in per_zip:
        if zip_code in known:
            zip_codes.append(zip_code)
            zip_weights.append(float(entries))
    return Vocabulary(
        listings=listings,
        nodes_by_level=nodes_by_level,
        zip_codes=zip_codes,
        zip_weights=zip_weights,
        all_zip_codes=sorted(known),
        entries=hsds.SearchEntry.objects.count(),
        level_of=level_of,
    )


@dataclass(frozen=True)
class Spec:
    """One search, as the page's parameters plus the moment it is made."""

    kind: str
    moment: datetime
    q: str = ""
    category: str = ""
    zip_code: str = ""
    radius: int | None = None
    open_now: bool = False

    def params(self, *, place: dict[str, str] | None = None) -> dict[str, str]:
        """The URL parameters of the search page; `place` replaces `near` (e.g. with lat/lon)."""
        values: dict[str, str] = {}
        if self.q:
            values["q"] = self.q
        if self.category:
            values["category"] = self.category
        if self.zip_code:
            values.update(place or {"near": self.zip_code})
        if self.radius is not None:
            values["radius"] = str(self.radius)
        if self.open_now:
            values["open"] = "now"
        return values


class SpecMaker:
    """Makes realistic searches of each kind from a vocabulary, with its own seeded generator."""

    def __init__(self, vocabulary: Vocabulary, rng: random.Random) -> None:
        self.vocabulary = vocabulary
        self.rng = rng
        self.all_nodes = [
            node for level in sorted(vocabulary.nodes_by_level) for node in vocabulary.nodes_by_level[level]
        ]

    def phrase(self, text: str, most: int = 3) -> str:
        """1 to `most` consecutive meaningful words of `text`, lower-cased as people type them."""
        words = [word for word in _WORDS.findall(text) if len(word) > 2 and word.lower() not in _SKIP]
        if not words:
            return ""
        count = min(self.rng.choice([1, 1, 1, 2, 2, 3]), len(words), most)
        start = self.rng.randrange(len(words) - count + 1)
        return " ".join(words[start : start + count]).lower()

    def category_name(self, node: CategoryNode) -> str:
        spanish = self.rng.random() < 0.35 and node.name_es
        return self.phrase(node.name_es if spanish else node.name_en)

    def keyword(self) -> str:
        roll = self.rng.random()
        listing = self.rng.choice(self.vocabulary.listings)
        if roll < 0.35:
            return self.phrase(listing.name)
        if roll < 0.75:
            return self.category_name(self.rng.choice(self.all_nodes))
        return self.phrase(listing.description, most=2)

    def place(self) -> str:
        if self.rng.random() < ANYWHERE_SHARE or not self.vocabulary.zip_codes:
            return self.rng.choice(self.vocabulary.all_zip_codes)
        return self.rng.choices(self.vocabulary.zip_codes, weights=self.vocabulary.zip_weights)[0]

    def moment(self) -> datetime:
        """A moment of the benchmark week in Kentucky, mostly in the daytime when people search."""
        day = WEEK_START + timedelta(days=self.rng.randrange(7))
        if self.rng.random() < 0.85:
            minutes = self.rng.randrange(8 * 60, 21 * 60)
        else:
            minutes = self.rng.randrange(24 * 60)
        return (day + timedelta(minutes=minutes, seconds=self.rng.randrange(60))).astimezone(KENTUCKY_TIME)

    def keyword_distance_category(self, moment: datetime) -> Spec:
        listing = self.rng.choice(self.vocabulary.listings)
        if listing.categories and self.rng.random() < 0.85:
            # Someone looking for this kind of listing: one of its categories and its words.
            levels = sorted({self.vocabulary.level_of[node.slug] for node in listing.categories})
            level = self.rng.choice(levels)
            node = self.rng.choice(
                [item for item in listing.categories if self.vocabulary.level_of[item.slug] == level]
            )
            words = (
                self.phrase(listing.name)
                if self.rng.random() < 0.6
                else self.phrase(listing.description, most=2)
            )
        else:
            level = self.rng.choice(sorted(self.vocabulary.nodes_by_level))
            node = self.rng.choice(self.vocabulary.nodes_by_level[level])
            words = self.keyword()
        return Spec(
            KINDS[0],
            moment,
            q=words,
            category=node.slug,
            zip_code=self.place(),
            radius=self.rng.choice(RADII),
        )

    def make(self, kind: str) -> Spec:
        moment = self.moment()
        if kind == KINDS[0]:
            return self.keyword_distance_category(moment)
        if kind == KINDS[1]:
            return Spec(kind, moment, zip_code=self.place(), radius=self.rng.choice(RADII))
        if kind == KINDS[2]:
            return Spec(kind, moment, q=self.keyword())
        return Spec(kind, moment, zip_code=self.place(), radius=self.rng.choice(RADII), open_now=True)

    def mixed(self, count: int, accept: Callable[[Spec], bool]) -> Iterator[Spec]:
        """`count` specs, equally many of each kind, shuffled; `accept` rejects unusable or repeated
        ones (it is called once per candidate)."""
        kinds = [KINDS[number % len(KINDS)] for number in range(count)]
        self.rng.shuffle(kinds)
        for kind in kinds:
            for _attempt in range(1000):
                spec = self.make(kind)
                if accept(spec):
                    yield spec
                    break
            else:
                raise RuntimeError(f"could not make another distinct {kind} search")


def search_query(spec: Spec) -> SearchQuery | None:
    """The query the search page would run for these parameters at that moment (None if invalid)."""
    from kynect.directory.forms import SearchForm

    form = SearchForm(spec.params(), now=spec.moment)
    if not form.is_valid():
        return None
    return form.search_request().query


# --- Measuring --------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    server: float
    server_cpu: float = 0.0
    raw_all: float = 0.0
    raw_search: float = 0.0
    total: int = 0
    capped: bool = False
    statements: list[tuple[str, str, Any]] = field(default_factory=list)
    spec: Spec | None = None


class Capture:
    """An execute wrapper that records each statement with the phase it ran in."""

    def __init__(self) -> None:
        self.phase = "search"
        self.statements: list[tuple[str, str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements.append((self.phase, sql, params))
        return execute(sql, params, many, context)


def replay(statements: Sequence[tuple[str, str, Any]]) -> tuple[float, float]:
    """Seconds to run the statements again on a bare DB-API cursor: all of them, and the search ones."""
    from django.db import connection, transaction

    cursor = connection.create_cursor()
    # One transaction, as the search ran: transaction-local planner settings then apply as they did.
    with transaction.atomic():
        return _replay_in(cursor, statements)


def _replay_in(cursor: Any, statements: Sequence[tuple[str, str, Any]]) -> tuple[float, float]:
    every = searching = 0.0
    try:
        for phase, sql, params in statements:
            started = time.perf_counter()
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
            spent = time.perf_counter() - started
            every += spent
            if phase == "search":
                searching += spent
    finally:
        cursor.close()
    return every, searching


def run_one(spec: Spec, query: SearchQuery) -> Sample:
    from django.db import connection

    from kynect.directory.listings import listing_cards
    from kynect.directory.search import search_backend

    capture = Capture()
    with connection.execute_wrapper(capture):
        started, started_cpu = time.perf_counter(), time.thread_time()
        page = search_backend().search(query)
        capture.phase = "cards"
        listing_cards(hits=page.hits, now=spec.moment)
        server, server_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
    sample = Sample(spec.kind, server, server_cpu, total=page.total, capped=page.total_is_capped, spec=spec)
    sample.statements = capture.statements
    sample.raw_all, sample.raw_search = replay(capture.statements)
    return sample


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def stats(values: Sequence[float]) -> str:
    if not values:
        return " | ".join(["-"] * 4)
    numbers = [
        percentile(values, 0.50),
        percentile(values, 0.95),
        percentile(values, 0.99),
        sum(values) / len(values),
    ]
    return " | ".join(f"{number * 1000:.1f}" for number in numbers)


def report(samples: Sequence[Sample]) -> None:
    print(
        "| kind | n | mean total | capped "
        "| server p50 | p95 | p99 | mean "
        "| raw DB p50 | p95 | p99 | mean "
        "| search SQL p50 | p95 | p99 | mean |"
    )
    print("|" + "---|" * 16)
    for kind in (*KINDS, "all"):
        chosen = [sample for sample in samples if kind in ("all", sample.kind)]
        mean_total = sum(sample.total for sample in chosen) / max(len(chosen), 1)
        capped = sum(sample.capped for sample in chosen)
        print(
            f"| {kind} | {len(chosen)} | {mean_total:.0f} | {capped} "
            f"| {stats([s.server for s in chosen])} "
            f"| {stats([s.raw_all for s in chosen])} "
            f"| {stats([s.raw_search for s in chosen])} |"
        )
    print("\n| kind | server CPU p50 | p95 | p99 | mean | statements per search (mean) |")
    print("|" + "---|" * 6)
    for kind in (*KINDS, "all"):
        chosen = [sample for sample in samples if kind in ("all", sample.kind)]
        statements = sum(len(sample.statements) for sample in chosen) / max(len(chosen), 1)
        print(f"| {kind} | {stats([s.server_cpu for s in chosen])} | {statements:.1f} |")


def explain(samples: Sequence[Sample], count: int) -> None:
    from django.db import connection, transaction

    postgres = connection.vendor == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    for kind in KINDS:
        slowest = sorted((s for s in samples if s.kind == kind), key=lambda s: s.raw_search, reverse=True)
        for sample in slowest[:count]:
            print(
                f"\n--- {kind}: search SQL {sample.raw_search * 1000:.1f} ms, "
                f"server {sample.server * 1000:.1f} ms, {sample.total} found; {sample.spec}"
            )
            with transaction.atomic(), connection.cursor() as cursor:
                for phase, sql, params in sample.statements:
                    if phase != "search":
                        continue
                    if "set_config(" in sql:  # planner settings of the search: apply them, as it did
                        cursor.execute(sql, params)
                        continue
                    print(sql % tuple(repr(param) for param in params) if params else sql)
                    cursor.execute(prefix + sql, params)
                    for row in cursor.fetchall():
                        print("   ", " ".join(str(part) for part in row))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated directory")
    parser.add_argument("--query-seed", type=int, default=7, help="seed of the searches")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--database", default="", help="DATABASE_URL (sqlite:////path or postgres://…)")
    parser.add_argument("--reuse", action="store_true", help="search the database as it is, no import")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE on PostgreSQL")
    parser.add_argument("--explain", type=int, default=0, metavar="N")
    parser.add_argument(
        "--pg-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="what-if: a PostgreSQL session setting applied before measuring (e.g. jit=off)",
    )
    options = parser.parse_args()
    if options.reuse and not options.database:
        parser.error("--reuse needs --database")

    with ExitStack() as stack:
        database = options.database
        if not database:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            database = f"sqlite:///{scratch / 'bench.sqlite3'}"
        built: list[tuple[str, float]] = []
        if not options.reuse:
            built = build_directory(services=options.services, seed=options.seed, database=database)
        django_setup(database)
        measure(options, database, built)


def measure(options: argparse.Namespace, database: str, built: list[tuple[str, float]]) -> None:
    from django.db import connection
    from django.utils import translation

    from kynect.directory.search import COUNT_CAP

    translation.activate("en")
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    notes: list[str] = []
    if connection.vendor == "postgresql" and not options.no_analyze:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        notes.append(f"ANALYZE before measuring ({time.perf_counter() - started:.1f} s)")
    for setting in options.pg_set:
        name, _, value = setting.partition("=")
        if connection.vendor != "postgresql" or not re.fullmatch(r"[a-z_]+", name):
            raise SystemExit(f"--pg-set {setting!r}: PostgreSQL only, NAME=VALUE")
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
        notes.append(f"what-if: session setting {name}={value}")
    rng = random.Random(options.query_seed)
    vocabulary = vocabulary_load(rng)
    maker = SpecMaker(vocabulary, rng)
    seen: set[SearchQuery] = set()
    queries: list[tuple[Spec, SearchQuery]] = []

    def accept(spec: Spec) -> bool:
        query = search_query(spec)
        if query is None or query in seen:
            return False
        seen.add(query)
        queries.append((spec, query))
        return True

    for _spec in maker.mixed(options.warmup + options.queries, accept):
        pass
    load_before = machine_load()
    started = time.perf_counter()
    for spec, query in queries[: options.warmup]:
        run_one(spec, query)
    samples = [run_one(spec, query) for spec, query in queries[options.warmup :]]
    elapsed = time.perf_counter() - started

    print(f"\nDirectory search, {engine}, {vocabulary.entries:,} search entries", end="")
    print(f" ({options.services:,} services generated)" if built else " (reused database)")
    for step, seconds in built:
        print(f"  built: {step} {seconds:.1f} s")
    for note in notes:
        print(f"  {note}")
    print(
        f"  {len(samples)} distinct searches (query seed {options.query_seed}) after {options.warmup} "
        f"warm-up searches, {elapsed:.1f} s in all"
    )
    print(f"  machine: before {load_before}; after {machine_load()}")
    print("  times in ms. server = search_backend().search() + listing_cards(), in-process;")
    print("  raw DB = the statements of that call re-executed on a bare DB-API cursor (execute +")
    print("  fetch all rows); search SQL = the statement(s) of search() alone, the same way.")
    print(f"  mean total = listings found (counted up to {COUNT_CAP:,}); capped = searches that hit that.")
    print("  server CPU = CPU time of this thread during the server call (on PostgreSQL it leaves out the")
    print("  database server's own work); wall time above CPU time is waiting: for the database, or for a")
    print("  CPU when the machine is busy.\n")
    report(samples)
    if options.explain:
        explain(samples, options.explain)


if __name__ == "__main__":
    main()
