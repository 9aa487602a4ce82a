"""The Medicaid application's SDoH answers, as the state eligibility system (IEES) delivers them: JSON
Lines, one application's answers per line (docs/reference/medicaid-sdoh.md, with its JSON Schema,
docs/reference/medicaid-sdoh.schema.json). This module reads a file into records and says what is wrong
with each bad line; it knows nothing of residents or ratings (`assessments.services_import` does).

Each question of the application is mapped onto one of the 18 domains, each answer onto a rating."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# question -> (domain, {answer: rating}). The application's own words, as IEES sends them.
QUESTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "housing": ("housing", {"stable": "stable", "at_risk": "vulnerable", "homeless": "in_crisis"}),
    "food": ("food", {"enough": "stable", "sometimes_short": "vulnerable", "often_short": "in_crisis"}),
    "utilities": (
        "income",
        {"no_problem": "stable", "shutoff_notice": "vulnerable", "shut_off": "in_crisis"},
    ),
    "transportation": ("mobility", {"no_problem": "stable", "problem": "vulnerable"}),
    "employment": ("employment", {"employed": "stable", "wants_work": "vulnerable", "not_seeking": "na"}),
    "childcare": ("childcare", {"not_needed": "na", "has_care": "stable", "needs_care": "vulnerable"}),
    "health_coverage": (
        "health_care_coverage",
        {"covered": "stable", "gap": "vulnerable", "uninsured": "in_crisis"},
    ),
    "safety": ("safety", {"safe": "stable", "unsafe": "in_crisis"}),
    "education": ("adult_education", {"no_need": "stable", "wants_help": "vulnerable"}),
    "disability": ("disabilities", {"none": "na", "managed": "stable", "needs_help": "vulnerable"}),
}
MAX_LINE = 20_000


@dataclass(frozen=True)
class MedicaidRecord:
    line: int
    record_id: str
    client_id: str
    answered_at: datetime
    ratings: dict[str, str]  # domain -> rating


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str


def _record(line: int, raw: Any) -> MedicaidRecord:
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    unknown = set(raw) - {"record_id", "client_id", "answered_at", "answers"}
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    record_id, client_id = raw.get("record_id"), raw.get("client_id")
    if not isinstance(record_id, str) or not 1 <= len(record_id) <= 100:
        raise ValueError("record_id: a string of 1 to 100 characters is required")
    if not isinstance(client_id, str) or not client_id.isdigit() or not 1 <= len(client_id) <= 20:
        raise ValueError("client_id: the resident's client ID, digits only, is required")
    try:
        answered_at = datetime.fromisoformat(str(raw.get("answered_at")))
    except ValueError:
        raise ValueError("answered_at: an ISO 8601 date and time with its offset is required") from None
    if answered_at.tzinfo is None:
        raise ValueError("answered_at: the time needs its UTC offset")
    answers = raw.get("answers")
    if not isinstance(answers, dict) or not answers:
        raise ValueError("answers: an object of at least one question and its answer is required")
    ratings: dict[str, str] = {}
    for question, answer in answers.items():
        if question not in QUESTIONS:
            raise ValueError(f"answers.{question}: not a question of the application")
        domain, scale = QUESTIONS[question]
        if answer not in scale:
            raise ValueError(f"answers.{question}: {answer!r} is not one of {', '.join(scale)}")
        ratings[domain] = scale[answer]
    return MedicaidRecord(line, record_id, client_id, answered_at, ratings)


def medicaid_sdoh_parse(data: bytes) -> tuple[list[MedicaidRecord], list[LineProblem]]:
    """Every record of the file, and every bad line with its reason (blank lines are skipped)."""
    records: list[MedicaidRecord] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [LineProblem(0, "the file is not UTF-8 text")]
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            problems.append(LineProblem(number, f"longer than {MAX_LINE} characters"))
            continue
        try:
            record = _record(number, json.loads(line))
        except json.JSONDecodeError as error:
            problems.append(LineProblem(number, f"not JSON: {error.msg}"))
            continue
        except ValueError as error:
            problems.append(LineProblem(number, str(error)))
            continue
        if record.record_id in seen:
            problems.append(LineProblem(number, f"record_id repeats line {seen[record.record_id]}"))
            continue
        seen[record.record_id] = number
        records.append(record)
    return records, problems
