"""Benchmark: generate a synthetic Kentucky directory and import it with import_hsds.

Prints a table of wall-clock times: generation, first import into an empty database, and a second
import of the same package (which must change nothing). Run from the project folder:

    .venv/bin/python bench/directory_import.py --services 12000
    .venv/bin/python bench/directory_import.py --services 500000 \\
        --database postgres://postgres@127.0.0.1:5432/kynect_bench

With no --database, a new SQLite file in a temporary folder is used and deleted afterwards; an
sqlite:////path URL keeps the database at that path (replacing any file there). A PostgreSQL database
named in --database is dropped and created again first, so point it at a throwaway name. Either kept
database can then be searched with `bench/search.py --reuse --database URL`.

The other benchmarks import `build_directory` from here to make their databases the same way.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def run(args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([*MANAGE, *args], env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    seconds = time.perf_counter() - started
    print(f"[{time.strftime('%H:%M:%S')}] {args[0]}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def fresh_postgres(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    base = url.rsplit("/", 1)[0] + "/postgres"
    for statement in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", base, "-q", "-c", statement], check=True)  # noqa: S603, S607


def sqlite_path(url: str) -> Path:
    """The file of an sqlite:////absolute/path URL."""
    return Path(urlparse(url).path)


def fresh_sqlite(url: str) -> None:
    path = sqlite_path(url)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def django_env(database: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_ENV": "demo", "DJANGO_DEBUG": "false", "DATABASE_URL": database}


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def build_directory(
    *, services: int, seed: int, database: str, second_import: bool = False
) -> list[tuple[str, float]]:
    """Make `database` empty, migrate it and import a freshly generated directory of `services`
    services into it. Returns (step, seconds) rows."""
    if database.startswith("postgres"):
        fresh_postgres(database)
    else:
        fresh_sqlite(database)
    env = django_env(database)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        package = work / "package"
        rows = [
            ("generate", run(["generate_directory", "--services", str(services),
                              "--seed", str(seed), "--out", str(package)], env, work)),
        ]  # fmt: skip
        rows.append(("migrate (empty database)", run(["migrate", "-v0"], env, work)))
        report = str(work / "report.csv")
        rows.append(("first import", run(["import_hsds", str(package), "--report", report], env, work)))
        if second_import:
            rows.append(
                (
                    "second import (no changes)",
                    run(["import_hsds", str(package), "--report", report], env, work),
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--database",
        default="",
        help="DATABASE_URL of a throwaway database (sqlite:////path or postgres://…)",
    )
    parser.add_argument(
        "--no-second-import", action="store_true", help="skip the second, unchanged import (large runs)"
    )
    options = parser.parse_args()

    load_before = machine_load()
    with tempfile.TemporaryDirectory() as scratch:
        database = options.database or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        rows = build_directory(
            services=options.services,
            seed=options.seed,
            database=database,
            second_import=not options.no_second_import,
        )

    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    print(f"\nDirectory import, {options.services:,} services, {engine}")
    print(f"before: {load_before}; after: {machine_load()}")
    print(f"{'step':<30}{'seconds':>10}")
    for step, seconds in rows:
        print(f"{step:<30}{seconds:>10.1f}")


if __name__ == "__main__":
    main()
