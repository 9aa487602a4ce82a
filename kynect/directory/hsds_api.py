"""The HSDS 3.0 read API (Open Referral), mounted at /api/hsds/. Thin: selectors query, serializers shape.

See docs/reference/hsds_api.md for parameters, shapes and decisions.
"""

from __future__ import annotations

import itertools
import json
import math
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from ninja import Query, Router
from ninja.errors import HttpError
from pydantic import WithJsonSchema

from kynect.core.geo import UnknownZipCodeError
from kynect.directory import hsds_serializers as ser
from kynect.directory import selectors
from kynect.directory.hsds_api_limits import (
    FLAT,
    FULL,
    FULL_SERVICE,
    MAX_FULL_PER_PAGE,
    MAX_FULL_SERVICE_PER_PAGE,
    MAX_PER_PAGE,
    Nesting,
    api_rate_limited,
    page_size,
)
from kynect.directory.models import Organization, Taxonomy, TaxonomyTerm
from kynect.directory.search import COUNT_CAP

HSDS_VERSION = "3.0"
HSDS_PROFILE = "https://openreferral.org/specification/3.0"
MAX_SEARCH = 200  # characters; SQLite refuses LIKE patterns past 50,000 bytes
NDJSON_CHUNK = 200
# Sent, as "true", with a list whose search matched more than it lists (ADR 0035).
TRUNCATED_HEADER = "X-Search-Truncated"
ZIP_CODE = r"^[0-9]{5}(?:-[0-9]{4})?$"  # ASCII digits only: other Unicode digits are not ZIP codes

router = Router(tags=["HSDS 3.0"])
router.add_decorator(api_rate_limited)

M = TypeVar("M", bound=Model)
Many = Callable[[QuerySet[M]], list[dict[str, Any]]]

PAGE = Query(1, ge=1, description="Page number, from 1.")
PER_PAGE = Query(
    50,
    ge=1,
    le=MAX_PER_PAGE,
    description=(
        f"Results per page (1 to 500). With `full=true` at most {MAX_FULL_PER_PAGE}, and with "
        f"`full_service=true` at most {MAX_FULL_SERVICE_PER_PAGE}, which are then also the default."
    ),
)
FORMAT = Query(
    None,
    description="`json` (default) or `ndjson`: every result, one per line, unpaged; needs an API token.",
    example="ndjson",
)
SEARCH = Query(None, max_length=MAX_SEARCH, description="Case-insensitive text to look for.", example="food")
MODIFIED_AFTER = Query(
    None,
    description="ISO 8601 date-time; on or after. Without an offset, UTC.",
    example="2025-01-31T00:00:00Z",
)

# Kept as text (parsed by _modified_after, so that a bad value is a 400 that says what is wanted), and
# declared as a date-time so that clients and fuzzers know what to send.
DateTimeText = Annotated[str | None, WithJsonSchema({"type": "string", "format": "date-time"})]

# --- the response shapes our OpenAPI document declares ---------------------------------------------
# Deliberately shallow: the contract tests check every field against the official HSDS schemas
# (settings.HSDS_SPEC_DIR); these declarations give clients, and the Schemathesis run
# (tests/contract/test_schemathesis.py), the envelope, the ids and the error bodies.

_RECORD: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}},
}
_PAGE: dict[str, Any] = {
    "type": "object",
    "required": [
        "total_items",
        "total_pages",
        "page_number",
        "size",
        "first_page",
        "last_page",
        "empty",
        "contents",
    ],
    "properties": {
        "total_items": {"type": "integer", "minimum": 0},
        "total_pages": {"type": "integer", "minimum": 0},
        "page_number": {"type": "integer", "minimum": 1},
        "size": {"type": "integer", "minimum": 0, "maximum": MAX_PER_PAGE},
        "first_page": {"type": "boolean"},
        "last_page": {"type": "boolean"},
        "empty": {"type": "boolean"},
        "contents": {"type": "array", "maxItems": MAX_PER_PAGE, "items": _RECORD},
    },
}
_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "minLength": 1}},
}
_INVALID: dict[str, Any] = {  # django-ninja's answer to a parameter that fails validation
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}},
            },
        }
    },
}
_ABOUT: dict[str, Any] = {
    "type": "object",
    "required": ["version", "profile", "openapi_url"],
    "properties": {
        "version": {"const": HSDS_VERSION},
        "profile": {"type": "string", "format": "uri"},
        "openapi_url": {"type": "string", "format": "uri"},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _declared(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    """openapi_extra for an operation: its 200 answer, the error statuses it can give, and the token it
    may send (every operation answers without one too)."""
    known = {
        400: _json(_ERROR, "Bad input (the detail says which)"),
        401: _json(_ERROR, "The API token is not valid, or format=ndjson came without one"),
        403: _json(_ERROR, "The client token does not have the hsds.read scope"),
        404: _json(_ERROR, "No such record"),
        422: _json(_INVALID, "A parameter failed validation"),
        429: _json(_ERROR, "Too many requests from this client or token; Retry-After says when to try again"),
    }
    responses = {status: known[status] for status in (*errors, 401, 403, 429)}
    return {"responses": {200: ok, **responses}, "security": [{}, {"BearerAuth": []}]}


LIST = _declared(
    {
        "description": "A page of records; with format=ndjson, every record, one JSON object a line",
        "headers": {
            TRUNCATED_HEADER: {
                "description": (
                    f"A search with words or a proximity lists its first {COUNT_CAP} matches, best or nearest"
                    " first. This header, 'true', says that more matched: narrow the search to see them."
                ),
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
        "content": {
            "application/json": {"schema": _PAGE},
            "application/x-ndjson": {"schema": _RECORD},
        },
    },
    400,
    422,
)
ONE = _declared(_json(_RECORD, "One record, fully nested"), 404, 422)


def _in_order(records: QuerySet[M], ids: list[Any], many: Many[M]) -> list[dict[str, Any]]:
    """The records of `ids`, in that order; one deleted since its id was read is left out."""
    by_id = {item["id"]: item for item in many(records.filter(pk__in=ids))}
    return [by_id[str(pk)] for pk in ids if str(pk) in by_id]


def _page(found: selectors.Found[M], *, page: int, per_page: int, many: Many[M]) -> dict[str, Any]:
    total = len(found.ids) if isinstance(found.ids, list) else found.ids.count()
    total_pages = math.ceil(total / per_page)
    start = (page - 1) * per_page
    contents = (
        _in_order(found.records, list(found.ids[start : start + per_page]), many) if start < total else []
    )
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def _ndjson(found: selectors.Found[M], many: Many[M], *, chunk: int) -> StreamingHttpResponse:
    """Every record, read `chunk` at a time while the response is sent: the ids come from one cursor
    (a server-side one on PostgreSQL), so memory stays bounded however large the directory."""

    def lines() -> Iterator[str]:
        ids = iter(found.ids) if isinstance(found.ids, list) else found.ids.iterator(chunk_size=NDJSON_CHUNK)
        while batch := list(itertools.islice(ids, chunk)):
            for item in _in_order(found.records, batch, many):
                yield json.dumps(item, ensure_ascii=False) + "\n"

    return StreamingHttpResponse(lines(), content_type="application/x-ndjson")


def _listing(
    request: HttpRequest,
    response: HttpResponse,
    found: selectors.Found[M],
    *,
    page: int,
    per_page: int,
    format: str | None,
    many: Many[M],
    nesting: Nesting = FLAT,
) -> dict[str, Any] | StreamingHttpResponse:
    """A page of `found`, or with format=ndjson all of it; `response` carries the headers of the page."""
    if found.truncated:
        response[TRUNCATED_HEADER] = "true"
    if format in (None, "", "json"):
        return _page(found, page=page, per_page=page_size(request, per_page, nesting), many=many)
    if format == "ndjson":
        if request.auth is None:  # type: ignore[attr-defined]
            raise HttpError(
                401,
                "format=ndjson exports every record and needs an API token (Authorization: Bearer). "
                "Without one, read the pages with page and per_page.",
            )
        stream = _ndjson(found, many, chunk=min(NDJSON_CHUNK, nesting.cap))
        if found.truncated:
            stream[TRUNCATED_HEADER] = "true"
        return stream
    raise HttpError(400, "format must be 'json' or 'ndjson'.")


def _modified_after(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise HttpError(400, "modified_after must be an ISO 8601 date-time, like 2025-01-31T00:00:00Z.")
    try:  # compared in UTC: 0001-01-01T00:00+05:00 or 9999-12-31T23:59-14:00 fall outside the calendar
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:
        raise HttpError(400, "modified_after is outside the years 1 to 9999 once converted to UTC.") from None


def _text(value: str | None, name: str) -> str | None:
    """Free text from the query string; NUL characters cannot be stored or searched (PostgreSQL)."""
    if value is not None and "\x00" in value:
        raise HttpError(400, f"{name} must not contain NUL characters.")
    return value


def _one(rows: list[dict[str, Any]], kind: str, pk: uuid.UUID) -> dict[str, Any]:
    if not rows:
        raise HttpError(404, f"No {kind} with id {pk}.")
    return rows[0]


@router.get(
    "/",
    summary="About this HSDS API",
    url_name="hsds-root",
    openapi_extra=_declared(_json(_ABOUT, "This API's version and profile")),
)
def about(request: HttpRequest) -> dict[str, str]:
    return {
        "version": HSDS_VERSION,
        "profile": HSDS_PROFILE,
        "openapi_url": request.build_absolute_uri(reverse("api:openapi-json")),
    }


@router.get("/services", summary="Paginated list of services", url_name="hsds-services", openapi_extra=LIST)
def services(
    request: HttpRequest,
    response: HttpResponse,
    search: str | None = SEARCH,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: DateTimeText = MODIFIED_AFTER,
    minimal: bool = False,
    full: bool = False,
    page: int = PAGE,
    per_page: int = PER_PAGE,
    format: str | None = FORMAT,
) -> Any:
    if minimal and full:
        raise HttpError(400, "Use either minimal or full, not both.")
    found = selectors.service_list(
        search=_text(search, "search"),
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        organization_id=organization_id,
        modified_after=_modified_after(modified_after),
    )
    many = (
        ser.services_full_many if full else ser.services_minimal_many if minimal else ser.services_list_many
    )
    nesting = FULL if full else FLAT
    return _listing(
        request, response, found, page=page, per_page=per_page, format=format, many=many, nesting=nesting
    )


@router.get("/services/{id}", summary="A fully nested service", url_name="hsds-service", openapi_extra=ONE)
def service(request: HttpRequest, id: uuid.UUID) -> Any:
    rows = selectors.visible_services().filter(pk=id)
    return _one(ser.services_full_many(rows), "service", id)


@router.get(
    "/service_at_locations",
    summary="Paginated list of services at locations",
    url_name="hsds-sals",
    openapi_extra=LIST,
)
def service_at_locations(
    request: HttpRequest,
    response: HttpResponse,
    search: str | None = SEARCH,
    taxonomy_term_id: uuid.UUID | None = None,
    taxonomy_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    modified_after: DateTimeText = MODIFIED_AFTER,
    postcode: str | None = Query(
        None,
        pattern=ZIP_CODE,
        description="A U.S. ZIP code (5 digits, or ZIP+4) whose coverage to check; the centre for proximity.",
        example="40601",
    ),
    proximity: float | None = Query(
        None,
        gt=0,
        le=1_000_000,
        description="Metres from the ZIP code's centroid, up to 1,000,000; needs postcode. Nearest first.",
        example=20_000,
    ),
    full: bool = False,
    page: int = PAGE,
    per_page: int = PER_PAGE,
    format: str | None = FORMAT,
) -> Any:
    circle = None
    if proximity is not None:
        if not postcode:
            raise HttpError(400, "proximity needs a postcode to measure from.")
        try:
            circle = selectors.proximity_from_postcode(postcode=postcode, metres=proximity)
        except UnknownZipCodeError as error:
            raise HttpError(400, f"postcode: {error}") from error
    found = selectors.service_at_location_list(
        search=_text(search, "search"),
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        organization_id=organization_id,
        modified_after=_modified_after(modified_after),
        postcode=postcode,
        proximity=circle,
    )
    many = ser.service_at_locations_full_many if full else ser.service_at_locations_list_many
    nesting = FULL if full else FLAT
    return _listing(
        request, response, found, page=page, per_page=per_page, format=format, many=many, nesting=nesting
    )


@router.get(
    "/service_at_locations/{id}",
    summary="A fully nested service at location",
    url_name="hsds-sal",
    openapi_extra=ONE,
)
def service_at_location(request: HttpRequest, id: uuid.UUID) -> Any:
    rows = selectors.visible_service_at_locations().filter(pk=id)
    return _one(ser.service_at_locations_full_many(rows), "service_at_location", id)


@router.get(
    "/organizations",
    summary="Paginated list of organizations",
    url_name="hsds-organizations",
    openapi_extra=LIST,
)
def organizations(
    request: HttpRequest,
    response: HttpResponse,
    search: str | None = SEARCH,
    full: bool = False,
    full_service: bool = False,
    page: int = PAGE,
    per_page: int = PER_PAGE,
    format: str | None = FORMAT,
) -> Any:
    found = selectors.organization_list(search=_text(search, "search"))

    def many(chunk: QuerySet[Organization]) -> list[dict[str, Any]]:
        if full:
            return ser.organizations_full_many(chunk, full_service=full_service)
        return ser.organizations_list_many(chunk)

    nesting = (FULL_SERVICE if full_service else FULL) if full else FLAT
    return _listing(
        request, response, found, page=page, per_page=per_page, format=format, many=many, nesting=nesting
    )


@router.get(
    "/organizations/{id}",
    summary="A fully nested organization",
    url_name="hsds-organization",
    openapi_extra=ONE,
)
def organization(request: HttpRequest, id: uuid.UUID, full_service: bool = False) -> Any:
    rows = Organization.objects.filter(pk=id)
    return _one(ser.organizations_full_many(rows, full_service=full_service), "organization", id)


@router.get(
    "/taxonomies", summary="Paginated list of taxonomies", url_name="hsds-taxonomies", openapi_extra=LIST
)
def taxonomies(
    request: HttpRequest,
    response: HttpResponse,
    search: str | None = SEARCH,
    page: int = PAGE,
    per_page: int = PER_PAGE,
    format: str | None = FORMAT,
) -> Any:
    found = selectors.taxonomy_list(search=_text(search, "search"))
    return _listing(
        request, response, found, page=page, per_page=per_page, format=format, many=ser.taxonomies_many
    )


@router.get("/taxonomies/{id}", summary="A taxonomy", url_name="hsds-taxonomy", openapi_extra=ONE)
def taxonomy(request: HttpRequest, id: uuid.UUID) -> Any:
    return _one(ser.taxonomies_many(Taxonomy.objects.filter(pk=id)), "taxonomy", id)


@router.get(
    "/taxonomy_terms",
    summary="Paginated list of taxonomy terms",
    url_name="hsds-taxonomy-terms",
    openapi_extra=LIST,
)
def taxonomy_terms(
    request: HttpRequest,
    response: HttpResponse,
    search: str | None = SEARCH,
    taxonomy_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    top_only: bool = False,
    page: int = PAGE,
    per_page: int = PER_PAGE,
    format: str | None = FORMAT,
) -> Any:
    found = selectors.taxonomy_term_list(
        search=_text(search, "search"), taxonomy_id=taxonomy_id, parent_id=parent_id, top_only=top_only
    )
    return _listing(
        request, response, found, page=page, per_page=per_page, format=format, many=ser.taxonomy_terms_many
    )


@router.get(
    "/taxonomy_terms/{id}", summary="A taxonomy term", url_name="hsds-taxonomy-term", openapi_extra=ONE
)
def taxonomy_term(request: HttpRequest, id: uuid.UUID) -> Any:
    rows = TaxonomyTerm.objects.select_related("taxonomy_detail").filter(pk=id)
    return _one(ser.taxonomy_terms_many(rows), "taxonomy_term", id)
