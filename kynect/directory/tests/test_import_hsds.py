"""`manage.py import_hsds`: the official HSDS examples, idempotency, full feeds, bad rows and bad input."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from kynect.directory import models as hsds
from kynect.directory.importers import hsds_import
from kynect.directory.importers.records import ENTITY_MODELS
from kynect.directory.importers.report import REPORT_COLUMNS, ImportResult

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
MIXED_ROWS = DATA / "mixed_rows"


@pytest.fixture
def official_csv(hsds_spec_dir: Path) -> Path:
    """The official tabular datapackage."""
    return hsds_spec_dir / "examples" / "csv"


@pytest.fixture
def official_examples(hsds_spec_dir: Path) -> Path:
    return hsds_spec_dir / "examples"


def _run(path: Path, report: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_hsds", str(path), "--report", str(report), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _report_rows(report: Path) -> list[dict[str, str]]:
    with report.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _problems(report: Path, severity: str, file: str) -> list[tuple[str, str, str]]:
    return [
        (row["line"], row["field"], row["reason"])
        for row in _report_rows(report)
        if row["severity"] == severity and row["file"] == file
    ]


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        entity: [
            model_to_dict(row) | {"imported_at": row.imported_at}
            for row in model._default_manager.order_by("pk")
        ]
        for entity, model in ENTITY_MODELS.items()
    }


def _row_counts() -> dict[str, int]:
    return {entity: model._default_manager.count() for entity, model in ENTITY_MODELS.items()}


def _csv_row_count(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def _write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_official_datapackage_loads_with_its_flaws_reported(tmp_path, official_csv):
    report = tmp_path / "report.csv"
    before = _row_counts()
    _run(official_csv, report)

    location_warnings = _problems(report, "warning", "locations.csv")
    assert any(
        line == "2" and field == "latitude" and "impossible coordinates" in reason
        for line, field, reason in location_warnings
    )
    assert ("2", "organization_id") in {(line, field) for line, field, _ in location_warnings}
    contact_fields = {(line, field) for line, field, _ in _problems(report, "warning", "contacts.csv")}
    assert {("2", "organization_id"), ("2", "service_at_location_id")} <= contact_fields
    term_fields = {(line, field) for line, field, _ in _problems(report, "warning", "taxonomy_terms.csv")}
    assert {("2", "parent_id"), ("2", "taxonomy_id")} <= term_fields

    descriptor = json.loads((official_csv / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        if resource["name"] not in ENTITY_MODELS:
            continue
        errors = _problems(report, "error", resource["path"])
        expected = _csv_row_count(official_csv / resource["path"]) - len(errors)
        added = ENTITY_MODELS[resource["name"]]._default_manager.count() - before[resource["name"]]
        assert added == expected, resource["name"]

    location = hsds.Location.objects.get()
    assert (location.latitude, location.longitude) == (None, None)
    assert location.organization_id is None
    assert location.name == "MyCity Civic Center"
    service = hsds.Service.objects.get()
    assert service.program_id == uuid.UUID("e7ec2e57-4540-43fa-b2c7-6be5a0ef7f42")
    assert service.imported_at is not None


def test_second_import_changes_nothing(tmp_path, official_csv):
    preexisting = sum(_row_counts().values())
    first = hsds_import(path=official_csv, report_path=tmp_path / "first.csv")
    before = _snapshot()

    second = hsds_import(path=official_csv, report_path=tmp_path / "second.csv")

    assert (
        sum(counts.created for counts in first.counts.values()) == sum(_row_counts().values()) - preexisting
    )
    assert sum(counts.created + counts.updated for counts in second.counts.values()) == 0
    assert second.counts["service"].unchanged == 1
    assert _snapshot() == before


def test_zip_of_the_package_imports(tmp_path, official_csv):
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in official_csv.iterdir():
            bundle.write(file, arcname=f"hsds/{file.name}")

    _run(archive, tmp_path / "report.csv")

    assert hsds.Service.objects.get().name == "Community Counselling"
    assert hsds.Phone.objects.count() == 1
    assert hsds.Location.objects.get().latitude is None


def test_official_service_full_json_imports(tmp_path, official_examples):
    report = tmp_path / "report.csv"
    _run(official_examples / "service_full.json", report)

    service = hsds.Service.objects.get()
    assert service.organization.name == "Example Organization Inc."
    location = hsds.ServiceAtLocation.objects.get(service=service).location
    assert location.latitude is None
    assert location.addresses.count() == 1
    assert location.organization_id == service.organization_id
    attribute = hsds.Attribute.objects.get()
    assert attribute.link_id == service.id
    assert attribute.taxonomy_term is not None
    assert attribute.taxonomy_term.taxonomy_detail is not None
    contact = hsds.Contact.objects.get()
    assert contact.organization_id == service.organization_id
    assert contact.phones.count() == 1
    assert hsds.Funding.objects.count() == 1
    assert any(
        row["line"] == "/service_at_locations/0/location" and row["field"] == "latitude"
        for row in _report_rows(report)
    )


def test_official_service_list_json_imports(tmp_path, official_examples):
    hsds_import(path=official_examples / "service_list.json", report_path=tmp_path / "report.csv")

    service = hsds.Service.objects.get()
    assert service.id == uuid.UUID("ac148810-d857-441c-9679-408f346de14b")
    assert service.organization.name == "Example Organization Inc."
    assert service.program is not None
    assert service.program.organization_id == service.organization_id


def _service_document(*service_ids: str) -> list[dict[str, Any]]:
    organization = {"id": "90000000-0000-4000-8000-000000000001", "name": "Org", "description": "An org"}
    return [
        {"id": service_id, "name": f"Service {service_id[-1]}", "organization": organization}
        for service_id in service_ids
    ]


def test_full_feed_marks_missing_services_inactive(tmp_path):
    kept, dropped = "91000000-0000-4000-8000-000000000001", "91000000-0000-4000-8000-000000000002"
    hsds_import(
        path=_write_json(tmp_path / "all.json", _service_document(kept, dropped)),
        report_path=tmp_path / "1.csv",
    )
    local = hsds.Service.objects.create(
        organization_id=uuid.UUID("90000000-0000-4000-8000-000000000001"), name="Local"
    )

    result: ImportResult = hsds_import(
        path=_write_json(tmp_path / "feed.json", _service_document(kept)),
        full_feed=True,
        report_path=tmp_path / "2.csv",
    )

    assert result.deactivated == 1
    assert hsds.Service.objects.count() == 3
    assert hsds.Service.objects.get(pk=dropped).status == hsds.Service.Status.INACTIVE
    assert hsds.Service.objects.get(pk=kept).status == hsds.Service.Status.ACTIVE
    local.refresh_from_db()
    assert local.status == hsds.Service.Status.ACTIVE


def test_full_feed_summary_says_how_many(tmp_path):
    hsds_import(
        path=_write_json(tmp_path / "all.json", _service_document("91000000-0000-4000-8000-000000000003")),
        report_path=tmp_path / "1.csv",
    )
    output = _run(_write_json(tmp_path / "feed.json", []), tmp_path / "2.csv", "--full-feed")

    assert "now inactive: 1" in output
    assert hsds.Service.objects.get().status == hsds.Service.Status.INACTIVE


def test_error_rows_are_skipped_and_good_rows_load(tmp_path):
    report = tmp_path / "report.csv"
    output = _run(MIXED_ROWS, report)

    service_errors = {(line, field) for line, field, _ in _problems(report, "error", "services.csv")}
    assert service_errors == {("3", "name"), ("4", "organization_id"), ("5", "id")}
    assert set(hsds.Service.objects.values_list("name", flat=True)) == {"Food Pantry", "Meal Delivery"}

    meal = hsds.Service.objects.get(name="Meal Delivery")
    assert meal.status == hsds.Service.Status.ACTIVE
    assert meal.program_id is None
    assert meal.minimum_age == 12
    service_warnings = {(line, field) for line, field, _ in _problems(report, "warning", "services.csv")}
    assert service_warnings == {("6", "status"), ("6", "program_id")}

    assert _problems(report, "warning", "organizations.csv")[0][:2] == ("2", "year_incorporated")
    assert hsds.Organization.objects.get().year_incorporated is None

    sal_errors = _problems(report, "error", "service_at_location.csv")
    assert [(line, field) for line, field, _ in sal_errors] == [("3", "service_id")]
    assert "skipped" in sal_errors[0][2]
    assert hsds.ServiceAtLocation.objects.count() == 1

    phone = hsds.Phone.objects.get()
    assert phone.contact_id is None
    assert _problems(report, "warning", "phones.csv")[0][:2] == ("2", "contact_id")
    assert "service" in output


def test_impossible_coordinates_fall_back_to_the_zip_centroid(tmp_path):
    report = tmp_path / "report.csv"
    _run(MIXED_ROWS, report)

    warehouse = hsds.Location.objects.get(name="Pantry Warehouse")
    assert warehouse.latitude == pytest.approx(38.2281, abs=0.01)
    assert warehouse.longitude == pytest.approx(-84.8697, abs=0.01)
    assert warehouse.time_zone == "America/New_York"
    reasons = [reason for line, field, reason in _problems(report, "warning", "locations.csv") if line == "2"]
    assert len(reasons) == 1
    assert "40601" in reasons[0]
    downtown = hsds.Location.objects.get(name="Downtown Office")
    assert (downtown.latitude, downtown.longitude) == (38.2, -84.87)


def test_an_updated_row_is_written_and_counted(tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    for file in MIXED_ROWS.iterdir():
        (package / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    hsds_import(path=package, report_path=tmp_path / "1.csv")
    services = package / "services.csv"
    services.write_text(
        services.read_text(encoding="utf-8").replace("Food Pantry", "Food Pantry Plus"), encoding="utf-8"
    )

    result = hsds_import(path=package, report_path=tmp_path / "2.csv")

    assert result.counts["service"].updated == 1
    assert result.counts["service"].created == 0
    assert hsds.Service.objects.filter(name="Food Pantry Plus").count() == 1


def test_report_goes_under_var_by_default_not_into_the_current_folder(tmp_path, monkeypatch, settings):
    settings.BASE_DIR = tmp_path / "project"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = io.StringIO()
    call_command("import_hsds", str(MIXED_ROWS), stdout=out, stderr=io.StringIO())

    assert list(elsewhere.iterdir()) == []
    reports = list((tmp_path / "project" / "var" / "import-reports").glob("import-report-*.csv"))
    assert len(reports) == 1
    assert f"report: {reports[0]}" in out.getvalue()
    with reports[0].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == REPORT_COLUMNS
    assert {row[0] for row in rows[1:]} == {"warning", "error"}


def test_problems_are_printed_to_stderr(tmp_path):
    err = io.StringIO()
    call_command(
        "import_hsds", str(MIXED_ROWS), "--report", str(tmp_path / "r.csv"), stdout=io.StringIO(), stderr=err
    )

    assert "ERROR services.csv:3 [name]" in err.getvalue()
    assert "WARNING locations.csv:2 [latitude]" in err.getvalue()


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    no_descriptor = tmp_path / "no_descriptor.zip"
    with zipfile.ZipFile(no_descriptor, "w") as bundle:
        bundle.writestr("organizations.csv", "id,name,description\n")
    missing_csv = tmp_path / "missing_csv"
    missing_csv.mkdir()
    for file in MIXED_ROWS.iterdir():
        if file.name != "phones.csv":
            (missing_csv / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"id": "91000000-0000-4000-8000-000000000001", "name": ', encoding="utf-8")
    return {
        "does not exist": tmp_path / "nowhere",
        "no datapackage.json": no_descriptor,
        "phones.csv is missing": missing_csv,
        "not readable JSON": broken_json,
    }


@pytest.mark.parametrize(
    "case", ["does not exist", "no datapackage.json", "phones.csv is missing", "not readable JSON"]
)
def test_bad_input_is_a_command_error_and_writes_nothing(tmp_path, case):
    path = _bad_inputs(tmp_path)[case]
    report = tmp_path / "report.csv"
    before = _row_counts()

    with pytest.raises(CommandError) as raised:
        _run(path, report)

    assert case.split()[-1] in str(raised.value) or path.name in str(raised.value)
    assert _row_counts() == before
    assert not report.exists()


def test_report_in_a_folder_that_does_not_exist_is_a_command_error_and_writes_nothing(tmp_path):
    before = _row_counts()

    with pytest.raises(CommandError) as raised:
        _run(MIXED_ROWS, tmp_path / "no-such-folder" / "report.csv")

    assert "no-such-folder" in str(raised.value)
    assert _row_counts() == before


def _official_package_copy(tmp_path: Path, official_csv: Path) -> Path:
    package = tmp_path / "package"
    package.mkdir()
    for file in official_csv.iterdir():
        (package / file.name).write_bytes(file.read_bytes())
    return package


def _append_line(path: Path, line: str) -> int:
    """Append one CSV line; returns its line number."""
    text = path.read_text(encoding="utf-8-sig").rstrip("\r\n")
    path.write_text(f"{text}\r\n{line}\r\n", encoding="utf-8")
    return text.count("\n") + 2


NEW_SERVICE = "91000000-0000-4000-8000-0000000000aa"
OFFICIAL_ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ([NEW_SERVICE, OFFICIAL_ORGANIZATION, "", "Short Row Service"], "4 fields; the header has 23"),
        (
            [NEW_SERVICE, OFFICIAL_ORGANIZATION, "", "Long Row Service", *[""] * 19, "extra", "more"],
            "25 fields; the header has 23",
        ),
    ],
    ids=["4 of 23 fields", "2 extra fields"],
)
def test_a_row_with_the_wrong_number_of_fields_is_an_error_and_skipped(tmp_path, official_csv, fields, said):
    package = _official_package_copy(tmp_path, official_csv)
    line = _append_line(package / "services.csv", ",".join(fields))
    report = tmp_path / "report.csv"

    output = _run(package, report)

    errors = _problems(report, "error", "services.csv")
    assert [(row_line, field) for row_line, field, _ in errors] == [(str(line), "")]
    assert said in errors[0][2]
    assert "row skipped" in errors[0][2]
    assert not hsds.Service.objects.filter(pk=NEW_SERVICE).exists()
    assert hsds.Service.objects.count() == 1
    service_counts = next(row.split() for row in output.splitlines() if row.startswith("service "))
    assert service_counts[1:] == ["1", "0", "0", "1", "0", "1"]  # created updated unchanged skipped ...


def test_a_cut_short_row_of_an_existing_service_overwrites_nothing_even_in_a_full_feed(
    tmp_path, official_csv
):
    package = _official_package_copy(tmp_path, official_csv)
    hsds_import(path=package, report_path=tmp_path / "1.csv")
    service = hsds.Service.objects.get()
    assert service.url
    assert service.description
    before = _snapshot()
    services = package / "services.csv"
    header, row = services.read_text(encoding="utf-8-sig").splitlines()[:2]
    short = ",".join(next(csv.reader([row]))[:4])
    services.write_text(f"{header}\r\n{short}\r\n", encoding="utf-8")

    result = hsds_import(path=package, report_path=tmp_path / "2.csv", full_feed=True)

    assert result.counts["service"].updated == 0
    assert result.deactivated == 0
    assert result.counts["service"].errors == 1
    assert [(p.file, p.line, p.severity) for p in result.problems if p.file == "services.csv"] == [
        ("services.csv", "2", "error")
    ]
    assert _snapshot() == before
