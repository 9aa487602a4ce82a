"""Benchmark: generate a synthetic Kentucky directory and import it with import_hsds.

Prints a table of wall-clock times: generation, first import into an empty database, and a second
import of the same package (which must change nothing). Run from the project folder:

    .venv/bin/python bench/directory_import.py --services 12000
    .venv/bin/python bench/directory_import.py --services 500000 \\
        --database postgres://postgres@127.0.0.1:5432/kynect_bench

With no --database, a new SQLite file in a temporary folder is used. A PostgreSQL database named in
--database is dropped and created again first, so point it at a throwaway name.
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
    return time.perf_counter() - started


def fresh_postgres(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    base = url.rsplit("/", 1)[0] + "/postgres"
    for statement in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", base, "-q", "-c", statement], check=True)  # noqa: S603, S607


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", default="", help="DATABASE_URL of a throwaway PostgreSQL database")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        database = options.database or f"sqlite:///{work / 'bench.sqlite3'}"
        if database.startswith("postgres"):
            fresh_postgres(database)
        env = {**os.environ, "DJANGO_ENV": "demo", "DATABASE_URL": database}
        package = work / "package"
        rows = [
            ("generate", run(["generate_directory", "--services", str(options.services),
                              "--seed", str(options.seed), "--out", str(package)], env, work)),
        ]  # fmt: skip
        run(["migrate", "-v0"], env, work)
        report = str(work / "report.csv")
        rows.append(("first import", run(["import_hsds", str(package), "--report", report], env, work)))
        rows.append(
            ("second import (no changes)", run(["import_hsds", str(package), "--report", report], env, work))
        )

    engine = "PostgreSQL" if database.startswith("postgres") else "SQLite"
    print(f"\nDirectory import, {options.services:,} services, {engine}")
    print(f"{'step':<30}{'seconds':>10}")
    for step, seconds in rows:
        print(f"{step:<30}{seconds:>10.1f}")


if __name__ == "__main__":
    main()
