"""Contract-test fixtures: the official HSDS 3.0 schemas (read from settings.HSDS_SPEC_DIR through the
`hsds_spec_dir` fixture, never copied) and a small directory built with the ORM."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from kynect.directory import models as m
from kynect.directory.search import search_index_update

# The official files name each other by remote URL (openapi.json) or by bare file name (the
# schemas); both are mapped to the local file of the same name.
SPEC_BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"


def _local_file(spec_dir: Path, uri: str) -> Path:
    name = uri.rsplit("/", 1)[-1]
    compiled = spec_dir / "compiled" / name
    if "/compiled/" in uri and compiled.exists():
        return compiled
    return spec_dir / name


def _retriever(spec_dir: Path) -> Callable[[str], Resource]:
    def retrieve(uri: str) -> Resource:
        path = _local_file(spec_dir, uri)
        if not path.exists():
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012)

    return retrieve


def _closed(schema: Any) -> Any:
    """A copy of the schema in which every object with listed properties allows no others, so a field
    that HSDS does not define (a kynect-only one such as name_es) fails validation."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@dataclass
class HsdsSchemas:
    spec_dir: Path
    registry: Registry

    def validator(self, name: str, *, closed: bool = True) -> Draft202012Validator:
        """A validator for `name` ("compiled/service.json", "taxonomy.json", ...)."""
        uri = SPEC_BASE + name
        if closed:
            resolved = self.registry.resolver().lookup(uri)
            schema = _closed(self._inline(resolved.contents, uri))
        else:
            schema = {"$ref": uri}
        return Draft202012Validator(schema, registry=self.registry, format_checker=FormatChecker())

    def _inline(self, schema: Any, base: str) -> Any:
        """Replace the bare-file $refs of the non-compiled schemas by their targets, closed too."""
        if isinstance(schema, dict):
            if "$ref" in schema:
                target = self.registry.resolver(base_uri=base).lookup(schema["$ref"])
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                return {**rest, **self._inline(target.contents, str(SPEC_BASE + schema["$ref"]))}
            return {k: self._inline(v, base) for k, v in schema.items()}
        if isinstance(schema, list):
            return [self._inline(v, base) for v in schema]
        return schema

    def assert_valid(self, name: str, instance: Any) -> None:
        errors = sorted(self.validator(name).iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

    def page(self) -> dict[str, Any]:
        """The Page envelope from openapi.json, closed, with `contents` required to be an array."""
        openapi = json.loads((self.spec_dir / "openapi.json").read_text())
        page = copy.deepcopy(openapi["components"]["schemas"]["Page"])
        page["properties"]["contents"] = {"type": "array"}
        page["required"] = list(page["properties"])
        page["additionalProperties"] = False
        return page

    def assert_page(self, item_schema: str, body: Any) -> None:
        errors = list(Draft202012Validator(self.page()).iter_errors(body))
        assert not errors, [e.message for e in errors]
        for item in body["contents"]:
            self.assert_valid(item_schema, item)


@pytest.fixture(scope="session")
def hsds_schemas(hsds_spec_dir: Path) -> HsdsSchemas:
    return HsdsSchemas(
        spec_dir=hsds_spec_dir,
        registry=Registry(retrieve=_retriever(hsds_spec_dir)),  # type: ignore[call-arg]
    )


@dataclass
class Directory:
    taxonomy: m.Taxonomy
    life_situations: m.Taxonomy
    employment: m.TaxonomyTerm
    computer_skills: m.TaxonomyTerm
    veteran: m.TaxonomyTerm
    org: m.Organization
    other_org: m.Organization
    frankfort: m.Location
    louisville: m.Location
    training: m.Service
    food_pantry: m.Service
    closed_clinic: m.Service
    defunct: m.Service
    training_frankfort: m.ServiceAtLocation
    pantry_louisville: m.ServiceAtLocation
    defunct_frankfort: m.ServiceAtLocation


NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def directory(db: Any) -> Directory:
    imported = {"imported_at": NOW}
    taxonomy = m.Taxonomy.objects.create(
        name="kynect categories", description="kynect's categories", version="1", **imported
    )
    life = m.Taxonomy.objects.create(name="kynect life situations", description="Life situations")
    employment = m.TaxonomyTerm.objects.create(
        code="employment",
        name="Employment",
        description="Work",
        taxonomy="kynect categories",
        taxonomy_detail=taxonomy,
        language="en",
        name_es="Empleo",
        **imported,
    )
    ready = m.TaxonomyTerm.objects.create(
        code="employment.ready",
        name="Getting ready for work",
        description="Preparing",
        parent=employment,
        taxonomy_detail=taxonomy,
        name_es="Prepararse",
    )
    computer = m.TaxonomyTerm.objects.create(
        code="employment.ready.computer",
        name="Computer Skills",
        description="Computer classes",
        parent=ready,
        taxonomy_detail=taxonomy,
        term_uri="https://example.org/terms/computer",
    )
    veteran = m.TaxonomyTerm.objects.create(
        code="veteran", name="Veteran", description="Veterans", taxonomy_detail=life
    )
    org = m.Organization.objects.create(
        name="Capital City Works",
        description="Job training in Frankfort",
        email="info@example.org",
        website="https://example.org",
        year_incorporated=1990,
        **imported,
    )
    other = m.Organization.objects.create(
        name="Derby Food Bank", description="Food for Louisville", parent_organization=org
    )
    m.OrganizationIdentifier.objects.create(
        organization=org, identifier_scheme="US-EIN", identifier_type="EIN", identifier="12-3456789"
    )
    program = m.Program.objects.create(organization=org, name="Workforce", description="Programs")
    m.Funding.objects.create(organization=org, source="State grant")
    frankfort = m.Location.objects.create(
        location_type="physical",
        organization=org,
        name="Frankfort office",
        latitude=38.2009,
        longitude=-84.8733,
        time_zone="America/New_York",
        **imported,
    )
    louisville = m.Location.objects.create(
        location_type="physical",
        organization=other,
        name="Louisville pantry",
        latitude=38.2527,
        longitude=-85.7585,
        time_zone="America/New_York",
    )
    m.Address.objects.create(
        location=frankfort,
        address_1="100 Main St",
        city="Frankfort",
        state_province="KY",
        postal_code="40601",
        country="US",
        address_type="physical",
    )
    m.Address.objects.create(
        location=louisville,
        address_1="1 River Rd",
        city="Louisville",
        state_province="KY",
        postal_code="40202",
        country="US",
        address_type="physical",
    )
    m.Accessibility.objects.create(location=frankfort, description="Ramp at the side door")
    m.Schedule.objects.create(
        location=frankfort, freq="WEEKLY", byday="MO,TU", opens_at=dt.time(8), closes_at=dt.time(16, 30)
    )
    m.Language.objects.create(location=frankfort, name="Spanish", code="es")

    training = m.Service.objects.create(
        organization=org,
        program=program,
        name="Computer Skills Class",
        description="Learn to use a computer",
        url="https://example.org/class",
        minimum_age=16,
        last_modified=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        assured_date=dt.date(2025, 1, 2),
        **imported,
    )
    pantry = m.Service.objects.create(
        organization=other,
        name="Emergency Food Pantry",
        description="Groceries once a week",
        last_modified=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    closed = m.Service.objects.create(
        organization=other,
        name="Closed Clinic",
        description="A clinic that is inactive",
        status="inactive",
        last_modified=dt.datetime(2025, 5, 1, tzinfo=dt.UTC),
    )
    defunct = m.Service.objects.create(
        organization=org, name="Old Defunct Program", description="Gone", status="defunct"
    )
    phone = m.Phone.objects.create(service=training, number="502-555-0100", extension=12, type="voice")
    m.Language.objects.create(phone=phone, name="English", code="en")
    contact = m.Contact.objects.create(service=training, name="Pat Doe", email="pat@example.org")
    m.Phone.objects.create(contact=contact, number="502-555-0101")
    m.Schedule.objects.create(
        service=training, freq="WEEKLY", byday="WE", opens_at=dt.time(9), closes_at=dt.time(12)
    )
    m.ServiceArea.objects.create(service=training, name="Franklin County", extent_type="geojson")
    m.Language.objects.create(service=training, name="English", code="en")
    m.CostOption.objects.create(service=training, option="Free", currency="USD", amount=Decimal("0.00"))
    m.RequiredDocument.objects.create(service=training, document="Photo ID")
    m.Funding.objects.create(service=training, source="WIOA")
    sal_training = m.ServiceAtLocation.objects.create(
        service=training, location=frankfort, description="Room 2", **imported
    )
    m.Phone.objects.create(service_at_location=sal_training, number="502-555-0102")
    sal_pantry = m.ServiceAtLocation.objects.create(service=pantry, location=louisville)
    m.ServiceAtLocation.objects.create(service=closed, location=louisville)
    sal_defunct = m.ServiceAtLocation.objects.create(service=defunct, location=frankfort)
    for service, term in [(training, computer), (training, veteran), (pantry, veteran), (defunct, computer)]:
        m.Attribute.objects.create(link_entity="service", link_id=service.id, taxonomy_term=term)
    m.Attribute.objects.create(
        link_entity="service", link_id=training.id, link_type="211", value="LH-1234.1500"
    )
    m.Metadata.objects.create(
        resource_id=training.id,
        resource_type="service",
        last_action_date=NOW,
        last_action_type="update",
        field_name="name",
        previous_value="Computer Class",
        replacement_value="Computer Skills Class",
        updated_by="importer",
    )
    # The list endpoints' filters read the search index, which commits would otherwise rebuild.
    search_index_update()
    return Directory(
        taxonomy=taxonomy,
        life_situations=life,
        employment=employment,
        computer_skills=computer,
        veteran=veteran,
        org=org,
        other_org=other,
        frankfort=frankfort,
        louisville=louisville,
        training=training,
        food_pantry=pantry,
        closed_clinic=closed,
        defunct=defunct,
        training_frankfort=sal_training,
        pantry_louisville=sal_pantry,
        defunct_frankfort=sal_defunct,
    )


@pytest.fixture
def many_services(directory: Directory) -> Callable[[int], None]:
    """Adds `n` active services, each with phones, a location, terms and metadata."""

    def make(n: int) -> None:
        for i in range(n):
            service = m.Service.objects.create(
                organization=directory.org, name=f"Extra {i:03}", description="More of the same"
            )
            m.Phone.objects.create(service=service, number=f"502-555-{i:04}")
            location = m.Location.objects.create(location_type="physical", latitude=38.2, longitude=-84.87)
            m.ServiceAtLocation.objects.create(service=service, location=location)
            m.Attribute.objects.create(
                link_entity="service", link_id=service.id, taxonomy_term=directory.veteran
            )
        search_index_update()

    return make
