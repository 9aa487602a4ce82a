"""GET /api/fhir/HealthcareService/{id} (and the Organization and Location it refers to): FHIR JSON, an
OperationOutcome for an id that is unknown or malformed, and a bounded number of queries."""

from __future__ import annotations

from datetime import time

import pytest
from django.test import Client

from kynect.directory import models
from kynect.directory.tests.factories import listed_service

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
UNKNOWN_ID = "5c1d6a0e-7f0b-4c39-9a57-2f6a4f0e9b11"


def a_service(**fields) -> models.ServiceAtLocation:
    return listed_service(
        category_slugs=["food-pantries"],
        language_codes=["en", "es"],
        hours=[("MO,TU,WE,TH,FR", time(8), time(16, 30))],
        **fields,
    )


def test_a_service_is_read_as_fhir_json(client: Client):
    link = a_service()
    response = client.get(f"/api/fhir/HealthcareService/{link.service_id}")
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    body = response.json()
    assert (body["resourceType"], body["id"], body["name"]) == (
        "HealthcareService",
        str(link.service_id),
        "Food pantry",
    )

    organization = client.get("/api/fhir/" + body["providedBy"]["reference"])
    assert (organization.status_code, organization["Content-Type"]) == (200, FHIR_JSON)
    assert organization.json()["resourceType"] == "Organization"
    location = client.get("/api/fhir/" + body["location"][0]["reference"])
    assert (location.status_code, location["Content-Type"]) == (200, FHIR_JSON)
    assert location.json()["id"] == str(link.location_id)


@pytest.mark.parametrize("kind", ["HealthcareService", "Organization", "Location"])
@pytest.mark.parametrize("raw_id", [UNKNOWN_ID, "not-a-uuid", "1", "%00", "<script>"])
def test_an_unknown_or_malformed_id_is_a_404_with_an_operation_outcome(client: Client, kind, raw_id):
    response = client.get(f"/api/fhir/{kind}/{raw_id}")
    assert response.status_code == 404
    assert response["Content-Type"] == FHIR_JSON
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "not-found", "diagnostics": f"No {kind} with this id."}],
    }


def test_a_defunct_service_is_not_found_and_an_inactive_one_is_inactive(client: Client):
    defunct = a_service(status=models.Service.Status.DEFUNCT)
    inactive = a_service(status=models.Service.Status.INACTIVE)
    assert client.get(f"/api/fhir/HealthcareService/{defunct.service_id}").status_code == 404
    assert client.get(f"/api/fhir/HealthcareService/{inactive.service_id}").json()["active"] is False


def test_the_queries_of_a_read_do_not_grow_with_the_service(client: Client, django_assert_num_queries):
    small = a_service()
    large = a_service(name="Large pantry")
    for _ in range(5):
        other = a_service(name="Elsewhere")
        models.ServiceAtLocation.objects.create(service=large.service, location=other.location)
    for code in ("fr", "ar", "sw", "ne", "vi"):
        models.Language.objects.create(service=large.service, code=code, name=code)
    for number in range(5):
        models.Phone.objects.create(service=large.service, number=f"(502) 555-01{number:02d}", type="voice")

    with django_assert_num_queries(6):
        assert client.get(f"/api/fhir/HealthcareService/{small.service_id}").status_code == 200
    with django_assert_num_queries(6):
        body = client.get(f"/api/fhir/HealthcareService/{large.service_id}").json()
    assert len(body["location"]) == 6
    assert len(body["communication"]) == 7
    with django_assert_num_queries(3):
        client.get(f"/api/fhir/Organization/{large.service.organization_id}")
    with django_assert_num_queries(4):
        client.get(f"/api/fhir/Location/{large.location_id}")


def test_the_fhir_reads_are_in_the_openapi_document(client: Client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for kind in ("HealthcareService", "Organization", "Location"):
        responses = paths[f"/api/fhir/{kind}/{{id}}"]["get"]["responses"]
        assert set(responses["200"]["content"]) == {FHIR_JSON}
        assert responses["404"]["content"][FHIR_JSON]["schema"]["properties"]["resourceType"] == {
            "const": "OperationOutcome"
        }
