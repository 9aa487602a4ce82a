"""Property-based fuzzing of the HSDS read API with Schemathesis, driven by OUR OpenAPI document.

The document is the one django-ninja generates for /api/ (`config.api.api`). Only GET operations under
/api/hsds/ are fuzzed: they are read-only, so generated requests cannot change the data between
examples. Operations of other methods that may be added to the document later are left out on purpose
and need their own fuzzing (with data set up and torn down per example).

Every request goes in-process through the project's WSGI application (no network) and sees the
contract-test `directory` fixture: the fixture's rows live in the test's transaction, on this thread's
database connection, which the WSGI calls share (see `wsgi_app`).

Checks, for every generated request, valid or deliberately invalid:
- no server error (5xx);
- the response conforms to the schema, status code and content type that our OpenAPI declares for it.

Runs are deterministic (derandomized Hypothesis, no example database) and bounded (MAX_EXAMPLES per
operation).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import werkzeug
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.api import api
from config.wsgi import application
from tests.contract.conftest import Directory

MAX_EXAMPLES = 40

schema = schemathesis.openapi.from_dict(api.get_openapi_schema()).include(
    method="GET", path_regex=r"^/api/hsds/"
)

# Values that random generation almost never produces but that broke the API before (see the
# regression tests in test_hsds_api.py) or sit on a boundary. A generated query that has one of these
# parameters sometimes gets one of these values instead, in combination with everything else.
EDGE_VALUES: dict[str, list[Any]] = {
    "modified_after": [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+05:00",
        "2025-02-30T00:00:00Z",
        "2025-01-31T00:00:00+24:00",
        "2025-01-31",
        "\x00",
    ],
    "postcode": ["40601", "40202-1234", "\u0664\u0660\u0666\u0660\u0661", "4060\uff11", "00000", "99999"],
    "proximity": ["nan", "inf", "-inf", "-0", "1e-320", 1_000_000, 1_000_000.0001],
    "search": ["x" * 60_000, "%_\\", "\U0001f600\u0301\u200d", "\ufffd", "a\x00b"],
    "page": ["9" * 40, 2**63, 0],
    "per_page": [500, 501, "9" * 40],
    "format": ["ndjson", "NDJSON", ""],
}


@schema.hook
def before_generate_query(
    context: schemathesis.HookContext, strategy: st.SearchStrategy
) -> st.SearchStrategy:
    def with_edges(query: Any) -> st.SearchStrategy:
        names = sorted(set(EDGE_VALUES) & set(query)) if isinstance(query, dict) else []
        if not names:
            return st.just(query)
        edge = st.sampled_from(names).flatmap(
            lambda name: st.sampled_from(EDGE_VALUES[name]).map(lambda value: {**query, name: value})
        )
        return st.one_of(st.just(query), edge)

    return strategy.flatmap(with_edges)


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def wsgi_app(directory: Directory) -> Iterator[WSGIHandler]:
    """The project's WSGI application, answering on the test's own database connection.

    Like django.test.Client, stop Django from closing "old" connections around each request: inside the
    test transaction that would drop the connection that holds the fixture's uncommitted rows. Unhandled
    exceptions are recorded (`app.errors`) so that a 5xx failure shows its traceback.
    """
    errors: list[str] = []

    def record(**kwargs: Any) -> None:
        errors.append(traceback.format_exc())

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(record, dispatch_uid="schemathesis-record")
    application.errors = errors  # type: ignore[attr-defined]
    try:
        # The generated calls must see the fixture's rows: one plain call first.
        plain = werkzeug.Client(application).get(f"/api/hsds/services/{directory.training.id}")
        assert plain.status_code == 200, plain.get_data(as_text=True)
        assert plain.json["id"] == str(directory.training.id)  # type: ignore[index]
        yield application
    finally:
        del application.errors  # type: ignore[attr-defined]
        got_request_exception.disconnect(dispatch_uid="schemathesis-record")
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_schemathesis_calls_see_the_fixture_data(wsgi_app: WSGIHandler, directory: Directory) -> None:
    operation = schema["/api/hsds/service_at_locations"]["GET"]
    response = operation.Case(query={"postcode": "40601"}).call(app=wsgi_app)
    assert response.status_code == 200
    assert str(directory.training_frankfort.id) in {row["id"] for row in response.json()["contents"]}


def test_only_hsds_get_operations_are_fuzzed() -> None:
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results)
    fuzzed = {(r.ok().method.upper(), r.ok().path) for r in results if isinstance(r, Ok)}
    assert fuzzed
    assert all(method == "GET" and path.startswith("/api/hsds/") for method, path in fuzzed)
    document = api.get_openapi_schema()
    expected = {
        ("GET", path)
        for path, item in document["paths"].items()
        if "get" in item and path.startswith("/api/hsds/")
    }
    assert fuzzed == expected


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure reports the request as generated
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_hsds_api_fuzz(case: schemathesis.Case, wsgi_app: WSGIHandler) -> None:
    errors: list[str] = wsgi_app.errors  # type: ignore[attr-defined]
    errors.clear()
    response = case.call(app=wsgi_app)
    assert response.status_code < 500, f"{case.as_curl_command()[:2000]}\n{''.join(errors)}"
    case.validate_response(response, checks=CHECKS)
