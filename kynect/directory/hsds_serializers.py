"""Model rows to HSDS 3.0 dicts, in the shapes of the official compiled schemas.

Rules: only HSDS field names appear (kynect-only fields such as `imported_at`, `name_es` and
`time_zone` never do); a field with no value (None or an empty string) is left out rather than sent as
null, because the schemas type every field as a plain string or number; nested arrays are always present
in the nested shapes, empty when there is nothing. Each `*_many` function fetches what it needs with a
fixed number of queries (select_related / prefetch_related, then one query each for the attributes and
metadata of every object it serialized), whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Model, Prefetch, QuerySet

from kynect.directory.models import (
    Attribute,
    Contact,
    Location,
    Metadata,
    Organization,
    Phone,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

Json = dict[str, Any]

ORGANIZATION_FIELDS = (
    "id",
    "name",
    "alternate_name",
    "description",
    "email",
    "website",
    "tax_status",
    "tax_id",
    "year_incorporated",
    "legal_status",
    "logo",
    "uri",
    "parent_organization_id",
)
PROGRAM_FIELDS = ("id", "organization_id", "name", "alternate_name", "description")
SERVICE_FIELDS = (
    "id",
    "organization_id",
    "program_id",
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "status",
    "interpretation_services",
    "application_process",
    "fees_description",
    "wait_time",
    "fees",
    "accreditations",
    "eligibility_description",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "assurer_email",
    "licenses",
    "alert",
    "last_modified",
)
LOCATION_FIELDS = (
    "id",
    "location_type",
    "url",
    "organization_id",
    "name",
    "alternate_name",
    "description",
    "transportation",
    "latitude",
    "longitude",
    "external_identifier",
    "external_identifier_type",
)
SERVICE_AT_LOCATION_FIELDS = ("id", "service_id", "location_id", "description")
ADDRESS_FIELDS = (
    "id",
    "location_id",
    "attention",
    "address_1",
    "address_2",
    "city",
    "region",
    "state_province",
    "postal_code",
    "country",
    "address_type",
)
CONTACT_FIELDS = (
    "id",
    "organization_id",
    "service_id",
    "service_at_location_id",
    "location_id",
    "name",
    "title",
    "department",
    "email",
)
PHONE_FIELDS = (
    "id",
    "location_id",
    "service_id",
    "organization_id",
    "contact_id",
    "service_at_location_id",
    "number",
    "extension",
    "type",
    "description",
)
SCHEDULE_FIELDS = (
    "id",
    "service_id",
    "location_id",
    "service_at_location_id",
    "valid_from",
    "valid_to",
    "dtstart",
    "timezone",
    "until",
    "count",
    "wkst",
    "freq",
    "interval",
    "byday",
    "byweekno",
    "bymonthday",
    "byyearday",
    "description",
    "opens_at",
    "closes_at",
    "schedule_link",
    "attending_type",
    "notes",
)
SERVICE_AREA_FIELDS = ("id", "service_id", "name", "description", "extent", "extent_type", "uri")
LANGUAGE_FIELDS = ("id", "service_id", "location_id", "phone_id", "name", "code", "note")
COST_OPTION_FIELDS = (
    "id",
    "service_id",
    "valid_from",
    "valid_to",
    "option",
    "currency",
    "amount",
    "amount_description",
)
REQUIRED_DOCUMENT_FIELDS = ("id", "service_id", "document", "uri")
ACCESSIBILITY_FIELDS = ("id", "location_id", "description", "details", "url")
FUNDING_FIELDS = ("id", "organization_id", "service_id", "source")
ORGANIZATION_IDENTIFIER_FIELDS = (
    "id",
    "organization_id",
    "identifier_scheme",
    "identifier_type",
    "identifier",
)
TAXONOMY_FIELDS = ("id", "name", "description", "uri", "version")
TAXONOMY_TERM_FIELDS = ("id", "code", "name", "description", "parent_id", "taxonomy", "language", "term_uri")
METADATA_FIELDS = (
    "id",
    "resource_id",
    "resource_type",
    "last_action_date",
    "last_action_type",
    "field_name",
    "previous_value",
    "replacement_value",
    "updated_by",
)
ATTRIBUTE_FIELDS = ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value")


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M") if not value.second else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def fields(obj: Model, names: Sequence[str]) -> Json:
    """The named attributes of `obj` that have a value, as JSON values. `x_id` names read the FK column."""
    out: Json = {}
    for name in names:
        value = getattr(obj, name)
        if value is None or value == "":
            continue
        out[name] = _json_value(value)
    return out


class Nesting:
    """Collects the dicts that need `attributes` and `metadata`, then fills them with two queries."""

    def __init__(self) -> None:
        self._pending: list[tuple[uuid.UUID, Json]] = []

    def add(self, obj: Model, data: Json) -> Json:
        self._pending.append((obj.pk, data))
        return data

    def finish(self) -> None:
        if not self._pending:
            return
        ids = {pk for pk, _ in self._pending}
        attributes: dict[uuid.UUID, list[Json]] = defaultdict(list)
        for attribute in Attribute.objects.filter(link_id__in=ids).select_related(
            "taxonomy_term__taxonomy_detail"
        ):
            item = fields(attribute, ATTRIBUTE_FIELDS)
            if attribute.taxonomy_term is not None:
                item["taxonomy_term"] = taxonomy_term_dict(attribute.taxonomy_term)
            attributes[attribute.link_id].append(item)
        metadata: dict[uuid.UUID, list[Json]] = defaultdict(list)
        for row in Metadata.objects.filter(resource_id__in=ids).order_by("last_action_date"):
            metadata[row.resource_id].append(fields(row, METADATA_FIELDS))
        for pk, data in self._pending:
            data["attributes"] = attributes.get(pk, [])
            data["metadata"] = metadata.get(pk, [])
        self._pending = []


# --- taxonomy ------------------------------------------------------------------------------------


def taxonomy_dict(taxonomy: Taxonomy) -> Json:
    return fields(taxonomy, TAXONOMY_FIELDS)


def taxonomy_term_dict(term: TaxonomyTerm) -> Json:
    data = fields(term, TAXONOMY_TERM_FIELDS)
    if term.taxonomy_detail_id is not None:
        data["taxonomy_id"] = str(term.taxonomy_detail_id)
        if term.taxonomy_detail is not None:
            data["taxonomy_detail"] = taxonomy_dict(term.taxonomy_detail)
    return data


def taxonomies_many(rows: Iterable[Taxonomy]) -> list[Json]:
    nesting = Nesting()
    out = [nesting.add(row, taxonomy_dict(row)) for row in rows]
    _metadata_only(nesting)
    return out


def taxonomy_terms_many(rows: Iterable[TaxonomyTerm]) -> list[Json]:
    nesting = Nesting()
    out = [nesting.add(row, taxonomy_term_dict(row)) for row in rows]
    _metadata_only(nesting)
    return out


def _metadata_only(nesting: Nesting) -> None:
    """Taxonomies and terms carry metadata but no attributes in HSDS."""
    pending = list(nesting._pending)
    nesting.finish()
    for _, data in pending:
        data.pop("attributes", None)


# --- nested pieces -------------------------------------------------------------------------------


def _phones(phones: Iterable[Phone], nesting: Nesting) -> list[Json]:
    out = []
    for phone in phones:
        data = nesting.add(phone, fields(phone, PHONE_FIELDS))
        data["languages"] = [
            nesting.add(language, fields(language, LANGUAGE_FIELDS)) for language in phone.languages.all()
        ]
        out.append(data)
    return out


def _contacts(contacts: Iterable[Contact], nesting: Nesting) -> list[Json]:
    out = []
    for contact in contacts:
        data = nesting.add(contact, fields(contact, CONTACT_FIELDS))
        data["phones"] = _phones(contact.phones.all(), nesting)
        out.append(data)
    return out


def _simple(rows: Iterable[Model], names: Sequence[str], nesting: Nesting) -> list[Json]:
    return [nesting.add(row, fields(row, names)) for row in rows]


def location_full(location: Location, nesting: Nesting) -> Json:
    data = nesting.add(location, fields(location, LOCATION_FIELDS))
    data["languages"] = _simple(location.languages.all(), LANGUAGE_FIELDS, nesting)
    data["addresses"] = _simple(location.addresses.all(), ADDRESS_FIELDS, nesting)
    data["contacts"] = _contacts(location.contacts.all(), nesting)
    data["accessibility"] = _simple(location.accessibility.all(), ACCESSIBILITY_FIELDS, nesting)
    data["phones"] = _phones(location.phones.all(), nesting)
    data["schedules"] = _simple(location.schedules.all(), SCHEDULE_FIELDS, nesting)
    return data


def _phone_prefetch(prefix: str) -> list[str]:
    return [f"{prefix}phones", f"{prefix}phones__languages"]


def _contact_prefetch(prefix: str) -> list[str]:
    return [f"{prefix}contacts", *_phone_prefetch(f"{prefix}contacts__")]


def _location_prefetch(prefix: str) -> list[str]:
    return [
        f"{prefix}languages",
        f"{prefix}addresses",
        *_contact_prefetch(prefix),
        f"{prefix}accessibility",
        *_phone_prefetch(prefix),
        f"{prefix}schedules",
    ]


# --- service -------------------------------------------------------------------------------------


def service_list_dict(service: Service) -> Json:
    """compiled/service_list.json: the service's own fields with its organization and program."""
    data = fields(service, SERVICE_FIELDS)
    data["organization"] = fields(service.organization, ORGANIZATION_FIELDS)
    if service.program is not None:
        data["program"] = fields(service.program, PROGRAM_FIELDS)
    return data


def services_list_many(rows: QuerySet[Service]) -> list[Json]:
    return [service_list_dict(s) for s in rows.select_related("organization", "program")]


def services_minimal_many(rows: QuerySet[Service]) -> list[Json]:
    return [fields(s, SERVICE_FIELDS) for s in rows]


def _service_prefetch(prefix: str = "", *, with_locations: bool = True) -> list[str | Prefetch[Any]]:
    lookups: list[str | Prefetch[Any]] = [
        *_phone_prefetch(prefix),
        f"{prefix}schedules",
        f"{prefix}service_areas",
        f"{prefix}languages",
        f"{prefix}funding",
        f"{prefix}cost_options",
        f"{prefix}required_documents",
        *_contact_prefetch(prefix),
    ]
    if with_locations:
        sal = f"{prefix}service_at_locations__"
        lookups += [
            Prefetch(
                f"{prefix}service_at_locations",
                queryset=ServiceAtLocation.objects.select_related("location").order_by("id"),
            ),
            *_contact_prefetch(sal),
            *_phone_prefetch(sal),
            f"{sal}schedules",
            *_location_prefetch(f"{sal}location__"),
        ]
    return lookups


def service_full(service: Service, nesting: Nesting, *, with_locations: bool = True) -> Json:
    """compiled/service.json. The nested organization and program carry their own fields only."""
    data = nesting.add(service, service_list_dict(service))
    data["phones"] = _phones(service.phones.all(), nesting)
    data["schedules"] = _simple(service.schedules.all(), SCHEDULE_FIELDS, nesting)
    data["service_areas"] = _simple(service.service_areas.all(), SERVICE_AREA_FIELDS, nesting)
    if with_locations:
        data["service_at_locations"] = [
            _service_at_location_nested(sal, nesting) for sal in service.service_at_locations.all()
        ]
    data["languages"] = _simple(service.languages.all(), LANGUAGE_FIELDS, nesting)
    data["funding"] = _simple(service.funding.all(), FUNDING_FIELDS, nesting)
    data["cost_options"] = _simple(service.cost_options.all(), COST_OPTION_FIELDS, nesting)
    data["required_documents"] = _simple(service.required_documents.all(), REQUIRED_DOCUMENT_FIELDS, nesting)
    data["contacts"] = _contacts(service.contacts.all(), nesting)
    return data


def services_full_many(rows: QuerySet[Service]) -> list[Json]:
    nesting = Nesting()
    fetched = rows.select_related("organization", "program").prefetch_related(*_service_prefetch())
    out = [service_full(s, nesting) for s in fetched]
    nesting.finish()
    return out


# --- service at location -------------------------------------------------------------------------


def _service_at_location_nested(sal: ServiceAtLocation, nesting: Nesting) -> Json:
    data = nesting.add(sal, fields(sal, SERVICE_AT_LOCATION_FIELDS))
    data["contacts"] = _contacts(sal.contacts.all(), nesting)
    data["phones"] = _phones(sal.phones.all(), nesting)
    data["schedules"] = _simple(sal.schedules.all(), SCHEDULE_FIELDS, nesting)
    data["location"] = location_full(sal.location, nesting)
    return data


def service_at_locations_list_many(rows: QuerySet[ServiceAtLocation]) -> list[Json]:
    """compiled/service_at_location_list.json."""
    out = []
    for sal in rows.select_related("location", "service__organization", "service__program"):
        data = fields(sal, SERVICE_AT_LOCATION_FIELDS)
        data["location"] = fields(sal.location, LOCATION_FIELDS)
        data["service"] = service_list_dict(sal.service)
        out.append(data)
    return out


def service_at_locations_full_many(rows: QuerySet[ServiceAtLocation]) -> list[Json]:
    """compiled/service_at_location.json."""
    nesting = Nesting()
    fetched = rows.select_related("location", "service__organization", "service__program").prefetch_related(
        *_contact_prefetch(""),
        *_phone_prefetch(""),
        "schedules",
        *_location_prefetch("location__"),
        *_service_prefetch("service__", with_locations=False),
    )
    out = []
    for sal in fetched:
        data = _service_at_location_nested(sal, nesting)
        data["service"] = service_full(sal.service, nesting, with_locations=False)
        out.append(data)
    nesting.finish()
    return out


# --- organization --------------------------------------------------------------------------------


def organizations_list_many(rows: QuerySet[Organization]) -> list[Json]:
    """compiled/organization_list.json."""
    return [fields(o, ORGANIZATION_FIELDS) for o in rows]


def organizations_full_many(rows: QuerySet[Organization], *, full_service: bool = False) -> list[Json]:
    """compiled/organization.json. Services are listed with their own fields, or in full."""
    nesting = Nesting()
    visible = Service.objects.exclude(status=Service.Status.DEFUNCT).order_by("name", "id")
    if full_service:
        visible = visible.select_related("organization", "program").prefetch_related(*_service_prefetch())
    fetched = rows.prefetch_related(
        "funding",
        *_contact_prefetch(""),
        *_phone_prefetch(""),
        Prefetch("locations", queryset=Location.objects.order_by("id")),
        *_location_prefetch("locations__"),
        "programs",
        "organization_identifiers",
        Prefetch("services", queryset=visible),
    )
    out = []
    for org in fetched:
        data = nesting.add(org, fields(org, ORGANIZATION_FIELDS))
        data["funding"] = _simple(org.funding.all(), FUNDING_FIELDS, nesting)
        data["contacts"] = _contacts(org.contacts.all(), nesting)
        data["phones"] = _phones(org.phones.all(), nesting)
        data["locations"] = [location_full(location, nesting) for location in org.locations.all()]
        data["programs"] = _simple(org.programs.all(), PROGRAM_FIELDS, nesting)
        data["organization_identifiers"] = _simple(
            org.organization_identifiers.all(), ORGANIZATION_IDENTIFIER_FIELDS, nesting
        )
        if full_service:
            data["services"] = [service_full(s, nesting) for s in org.services.all()]
        else:
            data["services"] = [fields(s, SERVICE_FIELDS) for s in org.services.all()]
        out.append(data)
    nesting.finish()
    return out
