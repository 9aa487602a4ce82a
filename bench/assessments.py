"""Benchmark: the KHIE import and suggested resources (issue 18).

Builds a throwaway database (SQLite in a temporary folder by default, or --database postgres://…/<throwaway
name>, dropped and created again) with a synthetic directory of --services services (as
bench/directory_import.py builds it) and --residents residents, each with a client ID. Then, in this
process (DEBUG off):

  KHIE import         a FHIR Bundle of --observations SDOH Observations (kynect assessment Observations,
                      a domain and a rating each, over the residents, each Patient named by client ID),
                      made in memory, imported with `khie_bundle_import` (validated, matched, stored):
                      the first import's seconds, then the same bundle again (nothing new to store);
  suggested resources `suggested_resources` for --cases distinct cases (1 to 4 domains rated Vulnerable
                      or In-Crisis, near a Kentucky ZIP code where listings are), after --warmup
                      uncounted ones: p50/p95/p99 in milliseconds.

It prints the figures, the load average before and after, and the commit measured. Run from the project
folder:

    .venv/bin/python bench/assessments.py
    .venv/bin/python bench/assessments.py --database postgres://postgres@127.0.0.1:5432/kynect_bench_sdoh
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from directory_import import build_directory, machine_load
from ondemand_routing import django_setup, figures, git

DOMAINS = (
    "adult_education", "community_involvement", "food", "housing", "life_skills", "mental_health",
    "mobility", "disabilities", "employment", "health_care_coverage", "income", "legal", "childcare",
    "childrens_education", "parenting_skills", "safety", "family_social_relations",
)  # fmt: skip
RATINGS = ("stable", "vulnerable", "in_crisis", "na")


def residents_make(count: int) -> list[str]:
    """`count` residents with client IDs; returns the client IDs."""
    from kynect.residents.models import Resident

    rows = [
        Resident(
            client_id=f"{9_000_000_000 + number}",
            first_name=f"Bench{number}",
            last_name="Resident",
            birth_date=date(1950, 1, 1) + timedelta(days=number % 20_000),
            match_key=f"resident|bench{number}|{number}",
            postal_code="40601",
            mobile_phone="5025550100",
        )
        for number in range(count)
    ]
    Resident.objects.bulk_create(rows, batch_size=2000)
    return [row.client_id for row in rows]


def bundle_make(client_ids: list[str], observations: int, rng: random.Random) -> bytes:
    from kynect.interop.fhir.observation import NEED_SYSTEM, RATING_SYSTEM
    from kynect.interop.fhir.patient import CLIENT_ID_SYSTEM

    entries = []
    patients = {}
    for client_id in client_ids:
        url = f"urn:uuid:{uuid.uuid4()}"
        patients[client_id] = url
        entries.append(
            {
                "fullUrl": url,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": CLIENT_ID_SYSTEM, "value": client_id}],
                },
            }
        )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(observations):
        client_id = rng.choice(client_ids)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {
                    "resourceType": "Observation",
                    "id": f"bench-obs-{number}",
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
                                    "code": "sdoh",
                                }
                            ]
                        }
                    ],
                    "code": {"coding": [{"system": NEED_SYSTEM, "code": rng.choice(DOMAINS)}]},
                    "subject": {"reference": patients[client_id]},
                    "effectiveDateTime": (start + timedelta(minutes=number)).isoformat(),
                    "valueCodeableConcept": {
                        "coding": [{"system": RATING_SYSTEM, "code": rng.choice(RATINGS)}]
                    },
                },
            }
        )
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--services", type=int, default=12_000)
    parser.add_argument("--residents", type=int, default=2_000)
    parser.add_argument("--observations", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=1_000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", default="", help="DATABASE_URL (sqlite:////path or postgres://…)")
    options = parser.parse_args()
    with ExitStack() as stack:
        database = options.database
        if not database:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            database = f"sqlite:///{scratch / 'bench.sqlite3'}"
        build_directory(services=options.services, seed=options.seed, database=database)
        django_setup(database)
        measure(options)


def measure(options: argparse.Namespace) -> None:
    from django.db import connection

    from kynect.assessments.models import RiskRating
    from kynect.assessments.services_import import khie_bundle_import
    from kynect.assessments.suggestions import suggested_resources
    from kynect.core import clock
    from kynect.directory.models import Address

    rng = random.Random(options.seed)
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    client_ids = residents_make(options.residents)
    data = bundle_make(client_ids, options.observations, rng)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    load_before = machine_load()
    started = time.perf_counter()
    first = khie_bundle_import(data=data)
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = khie_bundle_import(data=data)
    again_seconds = time.perf_counter() - started
    assert not first.problems, first.problems[:5]
    assert first.stored == options.observations
    assert again.unchanged == options.observations
    assert RiskRating.objects.count() == options.observations

    zips = sorted({code[:5] for code in Address.objects.values_list("postal_code", flat=True) if code})
    cases = []
    for _ in range(options.warmup + options.cases):
        domains = rng.sample(DOMAINS, rng.randint(1, 4))
        cases.append(
            ({domain: rng.choice(("vulnerable", "in_crisis")) for domain in domains}, rng.choice(zips))
        )
    now = clock.now()
    for ratings, postal_code in cases[: options.warmup]:
        suggested_resources(ratings=ratings, postal_code=postal_code, now=now)
    samples = []
    for ratings, postal_code in cases[options.warmup :]:
        started = time.perf_counter()
        suggested_resources(ratings=ratings, postal_code=postal_code, now=now)
        samples.append((time.perf_counter() - started) * 1000)
    load_after = machine_load()
    found = figures(samples)
    print(f"commit {git('rev-parse', '--short', 'HEAD')}, {engine}, {options.services:,} services")
    print(f"load average before {load_before}, after {load_after}")
    print(
        f"KHIE import: {options.observations:,} Observations for {options.residents:,} residents "
        f"({len(data) / 1_000_000:.1f} MB): {first_seconds:.1f} s; "
        f"the same bundle again: {again_seconds:.1f} s"
    )
    print(
        f"suggested resources ({options.cases:,} cases, 1 to 4 domains each): "
        f"p50 {found['p50']:.1f} ms, p95 {found['p95']:.1f} ms, p99 {found['p99']:.1f} ms"
    )


if __name__ == "__main__":
    main()
