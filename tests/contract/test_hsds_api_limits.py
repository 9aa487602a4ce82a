"""What keeps the public HSDS API from tying up the server: a rate limit per client address or per API
token, a cap on the size of nested pages, and whole-directory NDJSON exports for token holders only,
read in bounded chunks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.api import api
from kynect.accounts.models import ApiScope
from kynect.accounts.tokens import api_token_create
from kynect.directory import hsds_api_limits
from kynect.directory import hsds_serializers as ser
from kynect.directory import models as m
from tests.contract.conftest import Directory

BASE = "/api/hsds"
# 12:00:15.4 UTC: 44.6 seconds before the one-minute window ends, so a correct Retry-After is 45.
START = datetime(2025, 3, 3, 12, 0, 15, 400_000, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _partner_token(*, rate_limited: bool = True) -> str:
    _api_token, token = api_token_create(
        client="partner.example", scopes=[ApiScope.HSDS_READ], rate_limited=rate_limited
    )
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def small_limits(settings: Any) -> None:
    settings.HSDS_API_LIMIT_PER_CLIENT = 3
    settings.HSDS_API_LIMIT_PER_TOKEN = 2
    settings.HSDS_API_WINDOW_SECONDS = 60


# --- the rate limit ------------------------------------------------------------------------------


def test_an_anonymous_client_over_its_limit_gets_429_with_a_correct_retry_after(
    directory: Directory, small_limits: None
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(START, tick=False) as traveller:
        assert [client.get(f"{BASE}/services").status_code for _ in range(3)] == [200, 200, 200]

        refused = client.get(f"{BASE}/services/{directory.training.id}")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "45"
        assert "Too many requests" in refused.json()["detail"]
        assert "API token" in refused.json()["detail"]
        # Another address has a limit of its own.
        assert Client(REMOTE_ADDR="198.51.100.8").get(f"{BASE}/").status_code == 200

        traveller.move_to(START + timedelta(seconds=44))  # 12:00:59.4, still the same window
        assert client.get(f"{BASE}/").status_code == 429
        traveller.move_to(START + timedelta(seconds=45))  # 12:01:00.4, a new window
        assert client.get(f"{BASE}/").status_code == 200


def test_every_hsds_operation_is_rate_limited(directory: Directory, settings: Any) -> None:
    settings.HSDS_API_LIMIT_PER_CLIENT = 0
    paths = [path for path in api.get_openapi_schema()["paths"] if path.startswith(f"{BASE}/")]
    assert len(paths) == 11
    for path in paths:
        url = path.replace("{id}", str(directory.training.id))
        assert Client().get(url).status_code == 429, path


def test_a_token_has_a_limit_of_its_own_and_an_exempt_token_none(
    directory: Directory, small_limits: None
) -> None:
    limited, exempt = _partner_token(), _partner_token(rate_limited=False)
    client = Client(REMOTE_ADDR="198.51.100.7")
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            client.get(f"{BASE}/")
        assert client.get(f"{BASE}/").status_code == 429

        # The same address with a token counts against the token, not the address.
        answers = [client.get(f"{BASE}/", headers=_bearer(limited)).status_code for _ in range(3)]
        assert answers == [200, 200, 429]
        assert client.get(f"{BASE}/", headers=_bearer(limited))["Retry-After"] == "45"
        assert {client.get(f"{BASE}/", headers=_bearer(exempt)).status_code for _ in range(5)} == {200}


def test_a_bad_token_is_401_and_a_client_token_without_the_scope_403(directory: Directory) -> None:
    bad = Client().get(f"{BASE}/services", HTTP_AUTHORIZATION="Bearer kyt_00000000_nope")
    assert bad.status_code == 401
    assert bad.json()["detail"] == "The API token is not valid or has been revoked."

    _api_token, intake = api_token_create(client="intake.example", scopes=[ApiScope.ONDEMAND_INTAKE])
    unscoped = Client().get(f"{BASE}/services", headers=_bearer(intake))
    assert unscoped.status_code == 403
    assert "hsds.read" in unscoped.json()["detail"]


def test_the_document_declares_the_optional_token_and_the_new_answers() -> None:
    operation = api.get_openapi_schema()["paths"][f"{BASE}/services"]["get"]
    assert operation["security"] == [{}, {"BearerAuth": []}]
    assert {"400", "401", "403", "422", "429"} <= {str(status) for status in operation["responses"]}


# --- nested pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "cap"),
    [
        ("/services", {"full": "true"}, 25),
        ("/service_at_locations", {"full": "true"}, 25),
        ("/organizations", {"full": "true"}, 25),
        ("/organizations", {"full": "true", "full_service": "true"}, 5),
    ],
)
def test_a_nested_page_larger_than_its_cap_is_a_400_that_says_the_cap(
    directory: Directory, path: str, params: dict[str, str], cap: int
) -> None:
    assert Client().get(BASE + path, {**params, "per_page": str(cap)}).status_code == 200

    refused = Client().get(BASE + path, {**params, "per_page": str(cap + 1)})

    assert refused.status_code == 400
    detail = refused.json()["detail"]
    assert f"per_page is at most {cap} with " in detail
    assert "format=ndjson" in detail


def test_a_nested_page_without_per_page_is_as_large_as_its_cap(
    directory: Directory, many_services: Callable[[int], None]
) -> None:
    many_services(30)
    services = Client().get(f"{BASE}/services", {"full": "true"}).json()
    assert services["size"] == hsds_api_limits.MAX_FULL_PER_PAGE
    assert services["total_pages"] == 2  # 33 services
    plain = Client().get(f"{BASE}/services").json()
    assert plain["size"] == 33


# --- NDJSON exports ------------------------------------------------------------------------------


def test_an_ndjson_export_needs_a_token(directory: Directory) -> None:
    refused = Client().get(f"{BASE}/services", {"format": "ndjson"})
    assert refused.status_code == 401
    assert "API token" in refused.json()["detail"]
    assert "page" in refused.json()["detail"]

    exported = Client().get(f"{BASE}/services", {"format": "ndjson"}, headers=_bearer(_partner_token()))
    assert exported.status_code == 200
    assert len(exported.getvalue().decode().splitlines()) == 3


def _streamed(response: Any) -> Iterator[bytes]:
    """The lines of a streamed answer, read as the client reads them: each produced when asked for."""
    return iter(response.streaming_content)


def _lines_with_queries(response: Any) -> Iterator[tuple[dict[str, Any], int]]:
    """Each streamed record with the number of queries run until it was yielded."""
    with CaptureQueriesContext(connection) as queries:
        for line in _streamed(response):
            yield json.loads(line), len(queries)


def test_an_ndjson_export_reads_nested_records_a_chunk_at_a_time(
    directory: Directory, many_services: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    many_services(60)
    chunks: list[int] = []
    serialize = ser.services_full_many

    def counted(rows: Any) -> list[dict[str, Any]]:
        found = serialize(rows)
        chunks.append(len(found))
        return found

    monkeypatch.setattr(ser, "services_full_many", counted)
    response = Client().get(
        f"{BASE}/services",
        {"search": "extra", "full": "true", "format": "ndjson"},
        headers=_bearer(_partner_token()),
    )
    assert response.status_code == 200
    assert response.streaming

    streamed = list(_lines_with_queries(response))

    chunk = hsds_api_limits.MAX_FULL_PER_PAGE
    assert chunks == [chunk, chunk, 60 - 2 * chunk]
    assert len(streamed) == 60
    # The first record leaves after the ids query and its own chunk's queries, the last after the
    # third chunk's: every chunk of like services costs the same number of queries, whatever the total.
    first, last = streamed[0][1], streamed[-1][1]
    per_chunk = (last - first) // 2
    assert per_chunk > 0
    assert last - first == 2 * per_chunk
    assert first <= per_chunk + 2


def test_a_record_deleted_during_an_export_is_left_out(
    directory: Directory, many_services: Callable[[int], None]
) -> None:
    many_services(60)
    response = Client().get(
        f"{BASE}/services",
        {"search": "extra", "full": "true", "format": "ndjson"},
        headers=_bearer(_partner_token()),
    )
    lines = iter(_streamed(response))
    first = json.loads(next(lines))
    m.Service.objects.filter(name="Extra 040").delete()

    rest = [json.loads(line) for line in lines]

    assert first["name"] == "Extra 000"
    assert len(rest) == 58
    assert "Extra 040" not in {service["name"] for service in rest}
