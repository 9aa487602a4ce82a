"""The API root serves an OpenAPI 3.1 document that later apps add their routers to."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_openapi_document_is_served() -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "kynect platform API"


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404() -> None:
    response = Client().get("/api/no-such-endpoint")
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_document_shows_how_api_tokens_are_sent() -> None:
    schemes = Client().get("/api/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["ApiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
