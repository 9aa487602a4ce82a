"""The HSDS 3.0 read API against the official Open Referral schemas (settings.HSDS_SPEC_DIR).

Schemas are "closed" by the loader: a field HSDS does not define fails validation, so no kynect-only
field (imported_at, name_es, time_zone) can leak.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kynect.accounts.models import ApiScope
from kynect.accounts.tokens import api_token_create
from kynect.core.geo import haversine_miles, zip_lookup
from kynect.directory import models as m
from kynect.directory.hsds_api import TRUNCATED_HEADER
from kynect.directory.search import COUNT_CAP, search_index_update
from tests.contract.conftest import Directory, HsdsSchemas

BASE = "/api/hsds"
KYNECT_ONLY = {"imported_at", "name_es", "time_zone"}

pytestmark = pytest.mark.django_db


def get(path: str, **params: Any) -> Any:
    response = Client().get(BASE + path, params)
    assert response.status_code == 200, response.content
    return response.json()


def export(path: str, **params: Any) -> Any:
    """An NDJSON export, which needs an API token."""
    _api_token, token = api_token_create(client="partner.example", scopes=[ApiScope.HSDS_READ])
    response = Client().get(
        BASE + path, {**params, "format": "ndjson"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.getvalue()
    return response


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def ids(body: dict[str, Any]) -> set[str]:
    return {item["id"] for item in body["contents"]}


# --- shapes against the official schemas ---------------------------------------------------------


def test_root_describes_the_api() -> None:
    body = get("/")
    assert body["version"] == "3.0"
    assert body["profile"] == "https://openreferral.org/specification/3.0"
    assert body["openapi_url"] == "http://testserver/api/openapi.json"
    assert Client().get(body["openapi_url"]).status_code == 200


def test_service_list_matches_service_list_schema(directory: Directory, hsds_schemas: HsdsSchemas) -> None:
    body = get("/services")
    hsds_schemas.assert_page("compiled/service_list.json", body)
    training = next(s for s in body["contents"] if s["id"] == str(directory.training.id))
    assert training["organization"]["name"] == "Capital City Works"
    assert training["program"]["name"] == "Workforce"
    assert "phones" not in training


def test_service_detail_matches_compiled_service(directory: Directory, hsds_schemas: HsdsSchemas) -> None:
    body = get(f"/services/{directory.training.id}")
    hsds_schemas.assert_valid("compiled/service.json", body)
    assert body["phones"][0]["languages"][0]["code"] == "en"
    assert body["contacts"][0]["phones"][0]["number"] == "502-555-0101"
    assert body["cost_options"][0]["amount"] == 0
    sal = body["service_at_locations"][0]
    assert sal["location"]["addresses"][0]["postal_code"] == "40601"
    assert sal["location"]["schedules"][0]["opens_at"] == "08:00"
    terms = {a["taxonomy_term"]["name"] for a in body["attributes"] if "taxonomy_term" in a}
    assert terms == {"Computer Skills", "Veteran"}
    assert {a.get("value") for a in body["attributes"]} >= {"LH-1234.1500"}
    assert body["metadata"][0]["replacement_value"] == "Computer Skills Class"
    assert not keys_anywhere(body) & KYNECT_ONLY


def test_full_service_list_matches_compiled_service(directory: Directory, hsds_schemas: HsdsSchemas) -> None:
    body = get("/services", full="true")
    hsds_schemas.assert_page("compiled/service.json", body)
    assert all("service_at_locations" in s for s in body["contents"])
    assert not keys_anywhere(body) & KYNECT_ONLY


def test_minimal_services_carry_only_their_own_fields(
    directory: Directory, hsds_schemas: HsdsSchemas
) -> None:
    body = get("/services", minimal="true")
    hsds_schemas.assert_page("compiled/service_list.json", body)
    for service in body["contents"]:
        assert not {"organization", "program", "phones"} & set(service)
        assert {"id", "name", "status"} <= set(service)


def test_service_at_location_list_and_detail(directory: Directory, hsds_schemas: HsdsSchemas) -> None:
    body = get("/service_at_locations")
    hsds_schemas.assert_page("compiled/service_at_location_list.json", body)
    detail = get(f"/service_at_locations/{directory.training_frankfort.id}")
    # openapi.json points this response at the service schema, a known flaw; the right one:
    hsds_schemas.assert_valid("compiled/service_at_location.json", detail)
    assert detail["service"]["name"] == "Computer Skills Class"
    assert detail["location"]["accessibility"][0]["description"] == "Ramp at the side door"
    assert detail["phones"][0]["number"] == "502-555-0102"
    full = get("/service_at_locations", full="true")
    hsds_schemas.assert_page("compiled/service_at_location.json", full)
    assert not keys_anywhere(full) & KYNECT_ONLY


def test_organizations(directory: Directory, hsds_schemas: HsdsSchemas) -> None:
    body = get("/organizations")
    hsds_schemas.assert_page("compiled/organization_list.json", body)
    detail = get(f"/organizations/{directory.org.id}")
    hsds_schemas.assert_valid("compiled/organization.json", detail)
    assert detail["organization_identifiers"][0]["identifier"] == "12-3456789"
    assert {s["name"] for s in detail["services"]} == {"Computer Skills Class"}  # defunct hidden
    full_service = get(f"/organizations/{directory.org.id}", full_service="true")
    hsds_schemas.assert_valid("compiled/organization.json", full_service)
    assert full_service["services"][0]["phones"]
    full = get("/organizations", full="true")
    hsds_schemas.assert_page("compiled/organization.json", full)
    assert not keys_anywhere(full) & KYNECT_ONLY
    child = get(f"/organizations/{directory.other_org.id}")
    assert child["parent_organization_id"] == str(directory.org.id)


def test_taxonomies_and_terms(directory: Directory, hsds_schemas: HsdsSchemas) -> None:
    hsds_schemas.assert_page("taxonomy.json", get("/taxonomies"))
    hsds_schemas.assert_valid("taxonomy.json", get(f"/taxonomies/{directory.taxonomy.id}"))
    terms = get("/taxonomy_terms", per_page=500)  # includes the taxonomies the migrations ship
    hsds_schemas.assert_page("taxonomy_term.json", terms)
    assert get("/taxonomy_terms", taxonomy_id=str(directory.taxonomy.id))["total_items"] == 3
    term = get(f"/taxonomy_terms/{directory.computer_skills.id}")
    hsds_schemas.assert_valid("taxonomy_term.json", term)
    assert term["taxonomy_id"] == str(directory.taxonomy.id)
    assert term["taxonomy_detail"]["name"] == "kynect categories"
    assert not keys_anywhere(terms) & KYNECT_ONLY


def test_the_closed_schema_catches_a_leaked_field(hsds_schemas: HsdsSchemas) -> None:
    leaked = {"id": "0b8e1f1e-1a3c-4c1a-9f1e-1a3c4c1a9f1e", "name": "x", "description": "y", "name_es": "z"}
    assert list(hsds_schemas.validator("taxonomy_term.json").iter_errors(leaked))
    assert not list(hsds_schemas.validator("taxonomy_term.json", closed=False).iter_errors(leaked))


# --- filters -------------------------------------------------------------------------------------


def test_defunct_services_are_never_shown(directory: Directory) -> None:
    listed = ids(get("/services", per_page=500))
    assert str(directory.defunct.id) not in listed
    assert str(directory.closed_clinic.id) in listed  # inactive is listed, with its status
    assert Client().get(f"{BASE}/services/{directory.defunct.id}").status_code == 404
    assert str(directory.defunct_frankfort.id) not in ids(get("/service_at_locations"))
    assert Client().get(f"{BASE}/service_at_locations/{directory.defunct_frankfort.id}").status_code == 404


@pytest.mark.parametrize("search", ["computer", "GROCERIES", "derby food"])
def test_search_matches_name_description_or_organization(directory: Directory, search: str) -> None:
    expected = {
        "computer": {directory.training.id},
        "GROCERIES": {directory.food_pantry.id},
        "derby food": {directory.food_pantry.id, directory.closed_clinic.id},
    }[search]
    assert ids(get("/services", search=search)) == {str(i) for i in expected}


def _names(body: dict[str, Any]) -> list[str]:
    return [item["name"] if "name" in item else item["service"]["name"] for item in body["contents"]]


def test_search_reads_the_index_ranked_with_stemming(directory: Directory) -> None:
    closet = _service_at(directory, "Clothing closet", directory.frankfort).service
    main = _service_at(directory, "Pantry on Main", directory.frankfort).service
    m.Service.objects.filter(pk=closet.pk).update(description="Coats, and a pantry shelf.")
    m.Service.objects.filter(pk=main.pk).update(description="Food.")
    search_index_update(service_ids=[closet.pk, main.pk])

    # Words in the name rank before words in the description; "pantries" finds "pantry" (stemming).
    found = _names(get("/services", search="pantries"))
    assert set(found[:2]) == {"Emergency Food Pantry", "Pantry on Main"}
    assert found[2:] == ["Clothing closet"]
    located = get("/service_at_locations", search="pantry")
    assert _names(located)[-1] == "Clothing closet"
    assert located["total_items"] == 3


def test_search_pages_are_exact(directory: Directory, many_services: Callable[[int], None]) -> None:
    many_services(7)
    everything = get("/services", search="extra", per_page=500)
    assert everything["total_items"] == 7
    pages = [get("/services", search="extra", per_page=3, page=n) for n in (1, 2, 3)]
    assert [page["total_items"] for page in pages] == [7, 7, 7]
    assert [page["total_pages"] for page in pages] == [3, 3, 3]
    assert [item["id"] for page in pages for item in page["contents"]] == [
        item["id"] for item in everything["contents"]
    ]
    streamed = export("/services", search="extra")
    lines = streamed.getvalue().decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [item["id"] for item in everything["contents"]]


def _bulk_services(directory: Directory, count: int) -> None:
    """`count` services named "Bulk NNN", each at its own place in Frankfort, classified as veteran."""
    services = m.Service.objects.bulk_create(
        m.Service(organization=directory.org, name=f"Bulk {i:03}", description="More of the same")
        for i in range(count)
    )
    places = m.Location.objects.bulk_create(
        m.Location(location_type="physical", latitude=38.2 + i / 100_000, longitude=-84.87)
        for i in range(count)
    )
    m.ServiceAtLocation.objects.bulk_create(
        m.ServiceAtLocation(service=service, location=place)
        for service, place in zip(services, places, strict=True)
    )
    m.Attribute.objects.bulk_create(
        m.Attribute(link_entity="service", link_id=service.id, taxonomy_term=directory.veteran)
        for service in services
    )
    search_index_update(service_ids=[service.id for service in services])


def test_a_ranked_or_nearest_first_search_lists_its_first_matches(directory: Directory) -> None:
    _bulk_services(directory, COUNT_CAP + 10)
    client = Client()

    # Words: the first COUNT_CAP matches, best first, and a header saying that more matched.
    response = client.get(f"{BASE}/services", {"search": "bulk", "per_page": "500"})
    body = response.json()
    assert response[TRUNCATED_HEADER] == "true"
    assert body["total_items"] == COUNT_CAP
    assert body["total_pages"] == 1
    assert len(body["contents"]) == COUNT_CAP
    assert _names(body)[:2] == ["Bulk 000", "Bulk 001"]  # equal ranks: by name
    past = get("/services", search="bulk", per_page=500, page=2)
    assert past["empty"] is True
    streamed = export("/services", search="bulk")
    assert streamed[TRUNCATED_HEADER] == "true"
    assert len(streamed.getvalue().decode().splitlines()) == COUNT_CAP

    # A proximity: the nearest COUNT_CAP, nearest first.
    response = client.get(
        f"{BASE}/service_at_locations", {"postcode": "40601", "proximity": "100000", "per_page": "500"}
    )
    assert response[TRUNCATED_HEADER] == "true"
    near = response.json()
    assert near["total_items"] == COUNT_CAP
    origin = zip_lookup("40601")
    miles = [
        haversine_miles(
            origin.latitude, origin.longitude, item["location"]["latitude"], item["location"]["longitude"]
        )
        for item in near["contents"]
    ]
    assert miles == sorted(miles)

    # Filters that neither rank nor measure a distance list every match, by name.
    response = client.get(
        f"{BASE}/services", {"taxonomy_term_id": str(directory.veteran.id), "per_page": "500"}
    )
    assert TRUNCATED_HEADER not in response
    assert response.json()["total_items"] > COUNT_CAP

    # A search that matched fewer says nothing.
    assert TRUNCATED_HEADER not in client.get(f"{BASE}/services", {"search": "computer"})


def test_search_near_a_postcode_is_nearest_first(directory: Directory) -> None:
    lexington = _place("Lexington", 38.0464, -84.4953, "40507")
    _service_at(directory, "Lexington food pantry", lexington)
    _service_at(directory, "Frankfort food pantry", directory.frankfort)
    body = get("/service_at_locations", search="food", postcode="40601", proximity=150_000)
    assert _names(body) == [
        "Frankfort food pantry",
        "Lexington food pantry",
        "Emergency Food Pantry",
        "Closed Clinic",
    ]
    near = get("/service_at_locations", search="food", postcode="40601", proximity=20_000)
    assert _names(near) == ["Frankfort food pantry"]


def test_organizations_are_found_by_their_listings(directory: Directory) -> None:
    assert ids(get("/organizations", search="computer")) == {str(directory.org.id)}
    assert ids(get("/organizations", search="groceries")) == {str(directory.other_org.id)}
    assert ids(get("/organizations", search="nothing like this")) == set()


def test_filters_without_a_match_find_nothing(directory: Directory) -> None:
    empty_taxonomy = m.Taxonomy.objects.create(name="Empty", description="No terms", version="1")
    assert get("/services", taxonomy_id=str(empty_taxonomy.id))["total_items"] == 0
    assert get("/services", search="the and of")["total_items"] == 0
    assert get("/service_at_locations", search="%", postcode="40601", proximity=20_000)["total_items"] == 0


def test_taxonomy_filters(directory: Directory) -> None:
    by_term = ids(get("/services", taxonomy_term_id=str(directory.veteran.id)))
    assert by_term == {str(directory.training.id), str(directory.food_pantry.id)}
    by_taxonomy = ids(get("/services", taxonomy_id=str(directory.taxonomy.id)))
    assert by_taxonomy == {str(directory.training.id)}
    sals = get("/service_at_locations", taxonomy_term_id=str(directory.veteran.id))
    assert ids(sals) == {str(directory.training_frankfort.id), str(directory.pantry_louisville.id)}
    children = get("/taxonomy_terms", parent_id=str(directory.employment.id))
    assert [t["name"] for t in children["contents"]] == ["Getting ready for work"]
    life = get("/taxonomy_terms", taxonomy_id=str(directory.life_situations.id))
    assert [t["name"] for t in life["contents"]] == ["Veteran"]
    for taxonomy, top_term in [(directory.taxonomy, "Employment"), (directory.life_situations, "Veteran")]:
        top = get("/taxonomy_terms", top_only="true", taxonomy_id=str(taxonomy.id))
        assert [t["name"] for t in top["contents"]] == [top_term]


def test_organization_and_modified_after_filters(directory: Directory) -> None:
    assert ids(get("/services", organization_id=str(directory.org.id))) == {str(directory.training.id)}
    recent = ids(get("/services", modified_after="2025-02-01T00:00:00Z"))
    assert recent == {str(directory.training.id), str(directory.closed_clinic.id)}
    assert ids(get("/services", modified_after="2025-04-01T00:00:00")) == {str(directory.closed_clinic.id)}
    sals = get("/service_at_locations", organization_id=str(directory.other_org.id))
    assert len(sals["contents"]) == 2
    # With a search, the organization narrows the search itself, not the page it found.
    assert ids(get("/services", search="food", organization_id=str(directory.org.id))) == set()
    assert str(directory.food_pantry.id) in ids(
        get("/services", search="food", organization_id=str(directory.other_org.id))
    )
    near = get(
        "/service_at_locations", postcode="40601", proximity=150_000, organization_id=str(directory.org.id)
    )
    assert {item["service"]["id"] for item in near["contents"]} == {str(directory.training.id)}


def test_proximity_from_a_postcode(directory: Directory) -> None:
    near_frankfort = ids(get("/service_at_locations", postcode="40601", proximity=20_000))
    assert near_frankfort == {str(directory.training_frankfort.id)}
    wide = ids(get("/service_at_locations", postcode="40601", proximity=150_000))
    assert str(directory.pantry_louisville.id) in wide
    assert ids(get("/service_at_locations", postcode="40202")) == {
        str(directory.pantry_louisville.id),
        *[str(s.id) for s in directory.closed_clinic.service_at_locations.all()],
    }


# --- paging and formats --------------------------------------------------------------------------


def test_page_envelope_numbers(directory: Directory) -> None:
    first = get("/services", per_page=2)
    assert first["total_items"] == 3
    assert first["total_pages"] == 2
    assert first["page_number"] == 1
    assert first["size"] == 2
    assert (first["first_page"], first["last_page"], first["empty"]) == (True, False, False)
    second = get("/services", per_page=2, page=2)
    assert (second["size"], second["first_page"], second["last_page"]) == (1, False, True)
    assert ids(first).isdisjoint(ids(second))
    assert get("/services", page="9" * 40)["empty"] is True  # far past the end: no OFFSET overflow
    beyond = get("/services", per_page=2, page=9)
    assert beyond["empty"] is True
    assert beyond["contents"] == []
    assert beyond["last_page"] is True


def test_ndjson_streams_every_service_one_per_line(directory: Directory, hsds_schemas: HsdsSchemas) -> None:
    response = export("/services", per_page="1")
    assert response["Content-Type"] == "application/x-ndjson"
    lines = response.getvalue().decode().splitlines()
    services = [json.loads(line) for line in lines]
    assert len(services) == 3
    for service in services:
        hsds_schemas.assert_valid("compiled/service_list.json", service)
    full = export("/services", full="true")
    for line in full.getvalue().decode().splitlines():
        hsds_schemas.assert_valid("compiled/service.json", json.loads(line))


def _page_queries(queries: CaptureQueriesContext) -> list[str]:
    """The queries that read the page, leaving out the rate limit's count (a fixed few per request)."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if "core_ratelimitbucket" not in query["sql"] and "SAVEPOINT" not in query["sql"]
    ]


def test_service_list_has_no_n_plus_one(directory: Directory, many_services: Any) -> None:
    many_services(60)
    with CaptureQueriesContext(connection) as queries:
        body = get("/services", per_page=50)
    assert body["size"] == 50
    assert len(_page_queries(queries)) == 3
    with CaptureQueriesContext(connection) as queries:
        full = get("/services", per_page=25, full="true")
    assert full["size"] == 25
    assert len(_page_queries(queries)) <= 30


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/services/{id}",
        "/service_at_locations/{id}",
        "/organizations/{id}",
        "/taxonomies/{id}",
        "/taxonomy_terms/{id}",
    ],
)
def test_unknown_id_is_a_json_404(db: Any, path: str) -> None:
    response = Client().get(BASE + path.format(id="6f1c1a2e-3b0c-4b8e-9d7a-2f1e0c9b8a70"))
    assert response.status_code == 404
    assert "No " in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/services/not-a-uuid", {}),
        ("/services", {"per_page": 0}),
        ("/services", {"per_page": 501}),
        ("/services", {"page": -1}),
        ("/services", {"page": "one"}),
        ("/services", {"modified_after": "yesterday"}),
        ("/services", {"organization_id": "nope"}),
        ("/services", {"format": "xml"}),
        ("/services", {"minimal": "true", "full": "true"}),
        ("/service_at_locations", {"proximity": 1000}),
        ("/service_at_locations", {"postcode": "00000", "proximity": 1000}),
        ("/service_at_locations", {"postcode": "abc", "proximity": 1000}),
        ("/service_at_locations", {"postcode": "40601", "proximity": -5}),
        ("/taxonomy_terms", {"parent_id": "x"}),
        ("/services", {"search": "a\x00b"}),
        ("/service_at_locations", {"postcode": "40\x00601"}),
        ("/organizations", {"search": "\x00"}),
        ("/service_at_locations", {"proximity": "nan", "postcode": "40601"}),
        ("/service_at_locations", {"proximity": "inf", "postcode": "40601"}),
        ("/services", {"page": "9" * 5000}),
        ("/services/{00000000-0000-0000-0000-00000000000g}", {}),
    ],
)
def test_bad_input_is_a_clear_4xx(db: Any, path: str, params: dict[str, str | int]) -> None:
    response = Client().get(BASE + path, params)
    assert response.status_code in (400, 422), response.content
    assert response.json()["detail"]


# --- regressions found by fuzzing (tests/contract/test_schemathesis.py) ---------------------------


@pytest.mark.parametrize("path", ["/services", "/service_at_locations"])
@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+05:00"])
def test_modified_after_outside_the_calendar_in_utc_is_a_400(db: Any, path: str, when: str) -> None:
    """Valid ISO 8601 date-times whose UTC time falls before year 1 or after 9999 overflowed (500) when
    converted for the database."""
    response = Client().get(BASE + path, {"modified_after": when})
    assert response.status_code == 400
    assert "modified_after" in response.json()["detail"]


def test_modified_after_at_the_calendar_edges_still_filters(directory: Directory) -> None:
    assert ids(get("/services", modified_after="9999-12-31T23:59:59Z")) == set()
    assert len(ids(get("/services", modified_after="0001-01-01T00:00:00-05:00"))) == 3


@pytest.mark.parametrize(
    "postcode",
    [
        # Arabic-Indic digits: the ZIP library panicked, a BaseException that not even Django catches
        "\u0664\u0660\u0666\u0660\u0661",
        "4060\uff11",  # a fullwidth digit
        "\u0664\u0660\u0666\u0660\u0661-1234",
    ],
)
@pytest.mark.parametrize("proximity", [None, 20_000])
def test_non_ascii_digits_in_postcode_are_a_422(db: Any, postcode: str, proximity: int | None) -> None:
    params: dict[str, Any] = {"postcode": postcode}
    if proximity:
        params["proximity"] = proximity
    response = Client().get(f"{BASE}/service_at_locations", params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "postcode"]


@pytest.mark.parametrize(
    "path", ["/services", "/service_at_locations", "/organizations", "/taxonomies", "/taxonomy_terms"]
)
def test_overlong_search_is_a_422(db: Any, path: str) -> None:
    """SQLite refuses LIKE patterns over 50,000 bytes ("pattern too complex", a 500)."""
    response = Client().get(BASE + path, {"search": "x" * 60_000})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "search"]
    assert Client().get(BASE + path, {"search": "x" * 200}).status_code == 200


def test_search_with_like_wildcards_and_odd_unicode_is_literal(directory: Directory) -> None:
    assert ids(get("/services", search="%")) == set()
    assert ids(get("/services", search="_")) == set()
    assert ids(get("/services", search="\U0001f600\u0301\u200d")) == set()
    assert ids(get("/services", search="\\")) == set()


# --- postcode coverage and proximity order -------------------------------------------------------


def _service_at(
    directory: Directory, name: str, location: m.Location, areas: tuple[str, ...] = ()
) -> m.ServiceAtLocation:
    service = m.Service.objects.create(organization=directory.org, name=name, description="x")
    for area in areas:
        m.ServiceArea.objects.create(service=service, name=area)
    row = m.ServiceAtLocation.objects.create(service=service, location=location)
    search_index_update(service_ids=[service.id])
    return row


def _place(name: str, latitude: float, longitude: float, postal_code: str) -> m.Location:
    location = m.Location.objects.create(
        location_type="physical", name=name, latitude=latitude, longitude=longitude
    )
    m.Address.objects.create(
        location=location,
        address_1="1 Main St",
        city=name,
        state_province="KY",
        postal_code=postal_code,
        country="US",
    )
    return location


def test_postcode_follows_service_areas_when_they_name_a_place(directory: Directory) -> None:
    """HSDS: "If service_area is available, only return results where the postcode exists within the
    service_area." The conftest's training service serves "Franklin County" (ZIP 40601)."""
    statewide = _service_at(directory, "Statewide Hotline", directory.louisville, ("Kentucky",))
    jefferson_only = _service_at(directory, "Jefferson Legal Aid", directory.frankfort, ("Jefferson County",))
    spelled = _service_at(directory, "Franklin Meals", directory.louisville, ("  franklin county, KY ",))
    unreadable = _service_at(directory, "River Counties Help", directory.frankfort, ("The river counties",))

    frankfort = ids(get("/service_at_locations", postcode="40601"))
    assert frankfort == {
        str(directory.training_frankfort.id),  # serves Franklin County, located there too
        str(statewide.id),  # located in Louisville, serves the whole state
        str(spelled.id),  # located in Louisville, serves Franklin County
        str(unreadable.id),  # no readable service area: its address is in 40601
    }
    louisville = ids(get("/service_at_locations", postcode="40202-1234"))
    assert str(jefferson_only.id) in louisville  # located in Frankfort, serves Jefferson County
    assert str(statewide.id) in louisville
    assert str(directory.training_frankfort.id) not in louisville
    assert str(spelled.id) not in louisville  # located in 40202 but serves Franklin County only
    # Outside Kentucky no service area reads as covering; addresses still match.
    assert ids(get("/service_at_locations", postcode="10001")) == set()


def test_proximity_orders_nearest_first(directory: Directory) -> None:
    lexington = _place("Lexington", 38.0464, -84.4953, "40507")
    _service_at(directory, "Aardvark Aid", directory.louisville)  # first by name, farthest
    _service_at(directory, "Zebra Center", lexington)  # last by name, in between
    body = get("/service_at_locations", postcode="40601", proximity=150_000)
    names = [item["service"]["name"] for item in body["contents"]]
    # Frankfort, Lexington, then the Louisville rows, which tie on distance: by service name.
    assert names == [
        "Computer Skills Class",
        "Zebra Center",
        "Aardvark Aid",
        "Closed Clinic",
        "Emergency Food Pantry",
    ]
    order = [item["id"] for item in body["contents"]]
    paged = [
        get("/service_at_locations", postcode="40601", proximity=150_000, per_page=2, page=n)
        for n in (1, 2, 3)
    ]
    assert [item["id"] for page in paged for item in page["contents"]] == order
    streamed = export("/service_at_locations", postcode="40601", proximity="150000")
    assert [json.loads(line)["id"] for line in streamed.getvalue().decode().splitlines()] == order
    # Without proximity: by service name.
    assert [item["service"]["name"] for item in get("/service_at_locations")["contents"]][:2] == [
        "Aardvark Aid",
        "Closed Clinic",
    ]


def test_proximity_also_checks_service_areas(directory: Directory) -> None:
    jefferson_only = _service_at(directory, "Jefferson Legal Aid", directory.frankfort, ("Jefferson County",))
    statewide = _service_at(directory, "Statewide Hotline", directory.louisville, ("Kentucky",))
    near = ids(get("/service_at_locations", postcode="40601", proximity=20_000))
    # Jefferson Legal Aid is near, but does not serve 40601.
    assert near == {str(directory.training_frankfort.id)}
    wide = ids(get("/service_at_locations", postcode="40601", proximity=150_000))
    assert str(statewide.id) in wide
    assert str(jefferson_only.id) not in wide


def test_proximity_is_exact_at_the_edge(directory: Directory) -> None:
    """The circle is a great-circle distance, not the bounding box: a point just inside the box's
    corner is outside the circle."""
    centre = zip_lookup("40601")
    latitude, longitude = centre.latitude + 0.12, centre.longitude + 0.15
    row = _service_at(directory, "Corner Service", _place("Corner", latitude, longitude, "40601"))
    metres = haversine_miles(centre.latitude, centre.longitude, latitude, longitude) * 1609.344
    assert str(row.id) in ids(get("/service_at_locations", postcode="40601", proximity=metres + 1))
    assert str(row.id) not in ids(get("/service_at_locations", postcode="40601", proximity=metres - 1))
