"""A realistic, synthetic Kentucky directory written as an HSDS 3.0 tabular datapackage.

Everything comes from a seeded random generator, so the same seed gives the same package. Places
are real Kentucky ZIP code centroids (standard ZIP codes), jittered, weighted toward where people
live; names, phone numbers and addresses are made up (555 numbers, example.org addresses).
"""

from __future__ import annotations

import csv
import json
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import zipcodes
from django.db import models as django_models
from django.utils import translation

from kynect.core.geo import County, zip_lookup
from kynect.directory import models
from kynect.directory.generator_vocabulary import (
    COUNTY_POPULATION,
    DEFAULT_COUNTY_POPULATION,
    DOCUMENTS,
    ELIGIBILITY,
    HOLIDAYS,
    LANGUAGES,
    ORGANIZATION_KINDS,
    STREETS,
)
from kynect.directory.taxonomy import (
    CategoryNode,
    categories,
    kynect_taxonomies,
    kynect_term_rows,
    life_situations,
    taxonomy_id,
    taxonomy_uri,
)

NAMESPACE = uuid.UUID("5a0d3c55-8a3e-4b8e-9f3b-6f2f3c1d7e01")
KYNECT_EXTRA_COLUMNS = {"imported_at", "name_es", "time_zone"}


def hsds_columns(model: type[django_models.Model]) -> list[str]:
    """The HSDS columns of a model: its database columns less kynect's own additions."""
    return [field.column for field in model._meta.concrete_fields if field.column not in KYNECT_EXTRA_COLUMNS]


TABLES: list[tuple[str, str, type[django_models.Model]]] = [
    ("taxonomy", "taxonomies.csv", models.Taxonomy),
    ("taxonomy_term", "taxonomy_terms.csv", models.TaxonomyTerm),
    ("organization", "organizations.csv", models.Organization),
    ("service", "services.csv", models.Service),
    ("location", "locations.csv", models.Location),
    ("service_at_location", "service_at_location.csv", models.ServiceAtLocation),
    ("address", "addresses.csv", models.Address),
    ("phone", "phones.csv", models.Phone),
    ("schedule", "schedules.csv", models.Schedule),
    ("service_area", "service_areas.csv", models.ServiceArea),
    ("language", "languages.csv", models.Language),
    ("cost_option", "cost_options.csv", models.CostOption),
    ("required_document", "required_documents.csv", models.RequiredDocument),
    ("attribute", "attributes.csv", models.Attribute),
]


@dataclass(frozen=True)
class Place:
    zip_code: str
    city: str
    county: County
    latitude: float
    longitude: float
    time_zone: str


@dataclass
class GenerateResult:
    out: Path
    counts: dict[str, int] = field(default_factory=dict)


def kentucky_places() -> tuple[list[Place], list[float]]:
    """Standard Kentucky ZIP codes with a weight proportional to their county's population."""
    places = []
    for row in zipcodes.filter_by(state="KY"):
        if row["zip_code_type"] != "STANDARD" or not row["lat"]:
            continue
        info = zip_lookup(row["zip_code"])
        if info.county is None:
            continue
        places.append(
            Place(info.zip_code, info.city, info.county, info.latitude, info.longitude, info.time_zone)
        )
    per_county: dict[str, int] = {}
    for place in places:
        per_county[place.county.name] = per_county.get(place.county.name, 0) + 1
    weights = [
        COUNTY_POPULATION.get(place.county.name, DEFAULT_COUNTY_POPULATION) / per_county[place.county.name]
        for place in places
    ]
    return places, weights


def _leaves(nodes: Iterable[CategoryNode]) -> Iterator[CategoryNode]:
    for node in nodes:
        if node.children:
            yield from _leaves(node.children)
        else:
            yield node


class _Writer:
    def __init__(self, rng: random.Random, created: date) -> None:
        self.rng = rng
        self.created = created
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name, _file, _model in TABLES}
        self._counter = 0

    def new_id(self, kind: str) -> str:
        self._counter += 1
        return str(uuid.uuid5(NAMESPACE, f"{kind}:{self._counter}:{self.rng.random()}"))

    def add(self, table: str, **values: Any) -> str:
        values.setdefault("id", self.new_id(table))
        self.rows[table].append(values)
        return str(values["id"])


def _phone(rng: random.Random, place: Place) -> str:
    area = {"America/Chicago": "270"}.get(place.time_zone, rng.choice(["502", "859", "606"]))
    return f"({area}) 555-{rng.randint(100, 199):04d}"


def _hours(rng: random.Random) -> list[tuple[str, str, str]]:
    """Weekly windows as (days, opens, closes): weekdays, split days, evenings, weekends, 24 hours."""
    kind = rng.choices(
        ["office", "split", "evening", "weekend", "24h", "short"], weights=[45, 12, 10, 13, 8, 12]
    )[0]
    if kind == "24h":
        return [("MO,TU,WE,TH,FR,SA,SU", "00:00:00", "23:59:59")]
    if kind == "split":
        return [("MO,TU,WE,TH,FR", "08:30:00", "12:00:00"), ("MO,TU,WE,TH,FR", "13:00:00", "16:30:00")]
    if kind == "evening":
        return [("MO,TU,WE,TH", "17:00:00", "21:00:00"), ("SA", "10:00:00", "14:00:00")]
    if kind == "weekend":
        return [("MO,WE,FR", "09:00:00", "17:00:00"), ("SA,SU", "11:00:00", "15:00:00")]
    if kind == "short":
        return [("TU,TH", "10:00:00", "14:00:00")]
    return [("MO,TU,WE,TH,FR", "08:00:00", "16:30:00")]


def directory_generate(*, services: int, seed: int, out: Path, today: date | None = None) -> GenerateResult:
    """Write a synthetic Kentucky HSDS datapackage with exactly `services` services into `out`."""
    if services < 1:
        raise ValueError("services must be at least 1")
    with translation.override("en"):
        return _generate(services=services, seed=seed, out=out, today=today)


def _generate(*, services: int, seed: int, out: Path, today: date | None) -> GenerateResult:
    rng = random.Random(seed)
    today = today or date(2026, 11, 1)
    places, weights = kentucky_places()
    writer = _Writer(rng, today)

    category_tree = categories()
    situations = life_situations()
    data = kynect_taxonomies()
    for info in (data.categories_taxonomy, data.life_situations_taxonomy):
        writer.add(
            "taxonomy",
            id=info.id,
            name=info.name,
            description=info.description,
            uri=taxonomy_uri(info.slug),
            version=info.version,
        )
    for term_id, values in kynect_term_rows():
        writer.add(
            "taxonomy_term",
            id=term_id,
            **{**values, "taxonomy_id": values["taxonomy_detail_id"], "parent_id": values["parent_id"] or ""},
        )
    leaves = list(_leaves(category_tree))
    kinds = [kind for kind, _tax, _share in ORGANIZATION_KINDS]
    kind_weights = [share for _kind, _tax, share in ORGANIZATION_KINDS]
    taxes = {kind: tax for kind, tax, _share in ORGANIZATION_KINDS}

    made = 0
    organization_number = 0
    while made < services:
        organization_number += 1
        home = rng.choices(places, weights=weights)[0]
        kind = rng.choices(kinds, weights=kind_weights)[0]
        name = kind.format(county=home.county.name, place=home.city.title()) + (
            f" #{organization_number}" if rng.random() < 0.5 else ""
        )
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:30]
        organization_id = writer.add(
            "organization",
            name=name,
            alternate_name="",
            description=f"{name} serves {home.county.label} and nearby.",
            email=f"info@{slug}.example.org",
            website=f"https://{slug}.example.org",
            tax_status=taxes[kind],
            tax_id="",
            year_incorporated=rng.randint(1950, 2020),
            legal_status="",
            logo="",
            uri="",
            parent_organization_id="",
        )
        locations: list[tuple[str, Place]] = []
        for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
            place = home if not locations else rng.choices(places, weights=weights)[0]
            location_id = writer.add(
                "location",
                location_type="physical",
                url="",
                organization_id=organization_id,
                name=f"{name} — {place.city.title()}",
                alternate_name="",
                description="",
                transportation=rng.choice(
                    ["", "On a bus line", "Free parking on site", "Rides available on request"]
                ),
                latitude=round(place.latitude + rng.uniform(-0.03, 0.03), 6),
                longitude=round(place.longitude + rng.uniform(-0.03, 0.03), 6),
                external_identifier="",
                external_identifier_type="",
            )
            writer.add(
                "address",
                location_id=location_id,
                attention="",
                address_1=f"{rng.randint(10, 2999)} {rng.choice(STREETS)}",
                address_2="",
                city=place.city.title(),
                region=place.county.label,
                state_province="KY",
                postal_code=place.zip_code,
                country="US",
                address_type="physical",
            )
            writer.add(
                "phone",
                location_id=location_id,
                service_id="",
                organization_id="",
                contact_id="",
                service_at_location_id="",
                number=_phone(rng, place),
                extension="",
                type="voice",
                description="Main",
            )
            offset = -6 if place.time_zone == "America/Chicago" else -5
            for days, opens, closes in _hours(rng):
                writer.add(
                    "schedule",
                    service_id="",
                    location_id=location_id,
                    service_at_location_id="",
                    valid_from="",
                    valid_to="",
                    dtstart="",
                    timezone=offset,
                    until="",
                    count="",
                    wkst="MO",
                    freq="WEEKLY",
                    interval=1,
                    byday=days,
                    byweekno="",
                    bymonthday="",
                    byyearday="",
                    description="",
                    opens_at=opens,
                    closes_at=closes,
                    schedule_link="",
                    attending_type="in person",
                    notes="",
                )
            for month, day, holiday in HOLIDAYS:
                year = today.year if date(today.year, month, day) >= today else today.year + 1
                closed = date(year, month, day).isoformat()
                writer.add(
                    "schedule",
                    service_id="",
                    location_id=location_id,
                    service_at_location_id="",
                    valid_from=closed,
                    valid_to=closed,
                    dtstart="",
                    timezone=offset,
                    until="",
                    count="",
                    wkst="",
                    freq="",
                    interval="",
                    byday="",
                    byweekno="",
                    bymonthday="",
                    byyearday="",
                    description=f"Closed for {holiday}",
                    opens_at="",
                    closes_at="",
                    schedule_link="",
                    attending_type="",
                    notes="closed",
                )
            locations.append((location_id, place))

        for _ in range(min(rng.randint(2, 8), services - made)):
            term = leaves[made % len(leaves)] if made < len(leaves) * 2 else rng.choice(leaves)
            location_id, place = rng.choice(locations)
            minimum_age = rng.choice(["", "", 18, 60])
            service_id = writer.add(
                "service",
                organization_id=organization_id,
                program_id="",
                name=term.name_en,
                alternate_name="",
                description=(
                    f"{name} offers {term.name_en.lower()} for people in {place.county.label}. "
                    f"{term.description} Call ahead to check what is available this week."
                ),
                url=f"https://{slug}.example.org/services",
                email=f"help@{slug}.example.org",
                status="active",
                interpretation_services=rng.choice(["", "Interpreters available by phone"]),
                application_process=rng.choice(
                    ["Walk in", "Appointment required, please call", "Apply online or call"]
                ),
                fees_description=rng.choice(
                    ["Free", "Free", "Sliding scale based on income", "$5 per visit"]
                ),
                wait_time="",
                fees="",
                accreditations="",
                eligibility_description=rng.choice(ELIGIBILITY).format(county=place.county.name),
                minimum_age=minimum_age,
                maximum_age="",
                assured_date="",
                assurer_email="",
                licenses="",
                alert="",
                last_modified=f"{today.isoformat()}T12:00:00Z",
            )
            writer.add("service_at_location", service_id=service_id, location_id=location_id, description="")
            writer.add(
                "phone",
                location_id="",
                service_id=service_id,
                organization_id="",
                contact_id="",
                service_at_location_id="",
                number=_phone(rng, place),
                extension="",
                type="voice",
                description="",
            )
            writer.add(
                "attribute",
                link_id=service_id,
                taxonomy_term_id=taxonomy_id(term.slug),
                link_type="category",
                link_entity="service",
                value="",
            )
            if rng.random() < 0.35:
                situation = situations[made % len(situations)]
                writer.add(
                    "attribute",
                    link_id=service_id,
                    taxonomy_term_id=taxonomy_id(situation.slug),
                    link_type="life_situation",
                    link_entity="service",
                    value="",
                )
            for language, code in [LANGUAGES[0], *rng.sample(LANGUAGES[1:], k=rng.choice([0, 0, 1, 2]))]:
                writer.add(
                    "language",
                    service_id=service_id,
                    location_id="",
                    phone_id="",
                    name=language,
                    code=code,
                    note="",
                )
            writer.add(
                "service_area",
                service_id=service_id,
                name=place.county.label,
                description=f"Serves residents of {place.county.label}",
                extent="",
                extent_type="",
                uri=f"https://kynect.ky.gov/county/{place.county.fips}",
            )
            for document in rng.sample(DOCUMENTS, k=rng.randint(0, 2)):
                writer.add("required_document", service_id=service_id, document=document, uri="")
            if rng.random() < 0.2:
                writer.add(
                    "cost_option",
                    service_id=service_id,
                    valid_from="",
                    valid_to="",
                    option="Per visit",
                    currency="USD",
                    amount=rng.choice([5, 10, 25]),
                    amount_description="Per visit",
                )
            made += 1

    return _write(writer, out)


def _write(writer: _Writer, out: Path) -> GenerateResult:
    out.mkdir(parents=True, exist_ok=True)
    resources = []
    result = GenerateResult(out=out)
    for name, file_name, model in TABLES:
        columns = hsds_columns(model)
        with (out / file_name).open("w", newline="", encoding="utf-8") as handle:
            csv_writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="raise")
            csv_writer.writeheader()
            for row in writer.rows[name]:
                csv_writer.writerow({column: row.get(column, "") for column in columns})
        resources.append(
            {
                "name": name,
                "path": file_name,
                "format": "csv",
                "mediatype": "text/csv",
                "profile": "tabular-data-resource",
                "schema": {"primaryKey": "id", "fields": [{"name": column} for column in columns]},
            }
        )
        result.counts[name] = len(writer.rows[name])
    package = {
        "name": "kynect-kentucky-demo-directory",
        "title": "kynect resources demo directory (synthetic)",
        "profile": "tabular-data-package",
        "version": "3.0",
        "license": "synthetic data, no rights reserved",
        "created": writer.created.isoformat(),
        "resources": resources,
    }
    (out / "datapackage.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
    return result
