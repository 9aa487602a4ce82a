"""import_doi_roster: idempotent upsert by NPN, bad rows printed and reported, agents de-registered."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kynect.ondemand.models import DoiLicence, Helper

pytestmark = pytest.mark.django_db

HEADER = (
    "npn,licence_number,first_name,last_name,email,phone,licence_status,lines_of_authority,"
    "licence_expiry,certification_completed_on\n"
)
ROWS = [
    "1000001,DOI-1,Ann,Able,ann@example.org,502-555-0101,active,Health,2099-12-31,2026-01-15\n",
    "1000002,DOI-2,Bo,Baker,bo@example.org,502-555-0102,active,Life,2099-12-31,\n",
    "bad,DOI-3,Cy,Cole,cy@example.org,502-555-0103,active,Health,2099-12-31,2026-01-15\n",
    "1000004,DOI-4,Di,Dunn,di@example.org,502-555-0104,retired,Health,2099-12-31,2026-01-15\n",
]


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_doi_roster", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(HEADER + "".join(ROWS))
    return path


def test_good_rows_load_and_bad_rows_are_printed_and_reported(roster):
    out, err = run(roster)
    assert sorted(DoiLicence.objects.values_list("npn", flat=True)) == ["1000001", "1000002"]
    assert "2 good rows: 2 created, 0 updated, 0 unchanged. 2 bad rows" in out
    assert "line 4 npn: not a National Producer Number" in err
    assert "line 5 licence_status: not one of" in err
    with (roster.parent / "roster.report.csv").open() as handle:
        report = list(csv.DictReader(handle))
    assert [(row["line"], row["field"]) for row in report] == [("4", "npn"), ("5", "licence_status")]
    assert DoiLicence.objects.get(npn="1000002").has_health_authority is False


def test_a_second_import_of_the_same_file_changes_nothing(roster):
    run(roster)
    before = {licence.npn: (licence.imported_at, licence.email) for licence in DoiLicence.objects.all()}
    out, _err = run(roster)
    assert "0 created, 0 updated, 2 unchanged" in out
    after = {licence.npn: (licence.imported_at, licence.email) for licence in DoiLicence.objects.all()}
    assert after == before


def test_a_changed_row_is_updated_and_missing_rows_are_kept(roster, tmp_path):
    run(roster)
    changed = tmp_path / "next.csv"
    changed.write_text(HEADER + ROWS[0].replace("ann@example.org", "ann.able@example.org"))
    out, _err = run(changed, "--report", str(tmp_path / "next-report.csv"))
    assert "0 created, 1 updated, 0 unchanged. 0 bad rows" in out
    assert DoiLicence.objects.get(npn="1000001").email == "ann.able@example.org"
    assert DoiLicence.objects.filter(npn="1000002").exists()
    assert (tmp_path / "next-report.csv").read_text().strip() == "line,field,reason"


def test_a_registered_agent_whose_licence_lapses_is_deregistered(make_registered_agent, tmp_path):
    helper = make_registered_agent()
    licence = helper.licence
    lapsed = tmp_path / "lapsed.csv"
    lapsed.write_text(
        HEADER + f"{licence.npn},{licence.licence_number},{licence.first_name},{licence.last_name},"
        f"{licence.email},502-555-0123,inactive,Health,2099-12-31,2026-01-15\n"
    )
    out, _err = run(lapsed)
    assert "1 agents de-registered" in out
    helper.refresh_from_db()
    assert helper.status == Helper.Status.DEREGISTERED
    assert helper.deregistration_reason == Helper.DeregistrationReason.NOT_ELIGIBLE


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"npn,first_name\n1,Ann\n", "Missing columns"), (b"\xff\xfe\x00", "not UTF-8"), (b"", "empty")],
)
def test_an_unreadable_file_imports_nothing(tmp_path, content, message):
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run(path)
    assert not DoiLicence.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "nope.csv")
