"""The Medicaid SDoH file: the reader's checks agree with the documented JSON Schema; every bad line is
named; the import matches by client ID, reports the unmatched, and is idempotent."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from kynect.assessments.models import RiskRating
from kynect.interop.iees.medicaid_sdoh import QUESTIONS, medicaid_sdoh_parse
from kynect.referrals.tests.factories import partner, referral, resident_input
from kynect.residents.models import Resident

SCHEMA = json.loads((Path(settings.BASE_DIR) / "docs/reference/medicaid-sdoh.schema.json").read_text())

GOOD = {
    "record_id": "IEES-1",
    "client_id": "4400123456",
    "answered_at": "2026-11-02T14:05:00-05:00",
    "answers": {"housing": "at_risk", "food": "enough", "utilities": "shut_off"},
}
BAD = [
    "not json",
    json.dumps([GOOD]),
    json.dumps({**GOOD, "extra": 1}),
    json.dumps({key: value for key, value in GOOD.items() if key != "client_id"}),
    json.dumps({**GOOD, "client_id": "44-00"}),
    json.dumps({**GOOD, "answered_at": "2026-11-02T14:05:00"}),
    json.dumps({**GOOD, "answers": {}}),
    json.dumps({**GOOD, "answers": {"weather": "fine"}}),
    json.dumps({**GOOD, "answers": {"housing": "castle"}}),
]


def _valid_by_schema(line: str) -> bool:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return False
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return validator.is_valid(value)


def test_the_schema_lists_the_readers_questions_and_answers():
    answers = SCHEMA["properties"]["answers"]["properties"]
    assert {question: set(spec["enum"]) for question, spec in answers.items()} == {
        question: set(scale) for question, (_domain, scale) in QUESTIONS.items()
    }


@pytest.mark.parametrize("line", [json.dumps(GOOD), *BAD])
def test_the_reader_and_the_schema_agree(line):
    records, problems = medicaid_sdoh_parse(line.encode())
    assert bool(records) == _valid_by_schema(line)
    assert bool(problems) != bool(records)


def test_every_bad_line_is_named():
    data = "\n".join([json.dumps(GOOD), *BAD, json.dumps(GOOD)]).encode()
    records, problems = medicaid_sdoh_parse(data)
    assert [problem.line for problem in problems] == list(range(2, len(BAD) + 3))
    assert "repeats line 1" in problems[-1].reason
    assert len(records) == 1


@pytest.mark.django_db
def test_the_import_matches_by_client_id_reports_the_rest_and_is_idempotent(tmp_path):
    resident = referral(partner(), partner(), resident=resident_input()).resident
    Resident.objects.filter(pk=resident.pk).update(client_id="4400123456")
    other = {**GOOD, "record_id": "IEES-2", "client_id": "999"}
    path = tmp_path / "sdoh.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + json.dumps(other) + "\n")
    out = StringIO()
    call_command("import_medicaid_sdoh", str(path), stdout=out)
    assert "line 3: record IEES-2 matches no resident" in out.getvalue()
    assert "999" not in out.getvalue()
    assert "1 matched, 1 unmatched. 3 ratings stored" in out.getvalue()
    ratings = dict(RiskRating.objects.filter(resident=resident).values_list("domain", "rating"))
    assert ratings == {"housing": "vulnerable", "food": "stable", "income": "in_crisis"}
    assert set(RiskRating.objects.values_list("source", flat=True)) == {"medicaid"}
    again = StringIO()
    call_command("import_medicaid_sdoh", str(path), stdout=again)
    assert "0 ratings stored, 3 already there" in again.getvalue()
    assert RiskRating.objects.count() == 3


@pytest.mark.django_db
def test_a_file_with_a_bad_line_imports_nothing(tmp_path):
    resident = referral(partner(), partner(), resident=resident_input()).resident
    Resident.objects.filter(pk=resident.pk).update(client_id="4400123456")
    path = tmp_path / "sdoh.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + BAD[-1] + "\n")
    err = StringIO()
    with pytest.raises(CommandError, match=r"1 bad lines\. Nothing was imported\."):
        call_command("import_medicaid_sdoh", str(path), stderr=err)
    assert "line 2: answers.housing: 'castle' is not one of" in err.getvalue()
    assert RiskRating.objects.count() == 0
