"""The Kentucky Department of Insurance producer roster, as a CSV file, parsed into plain rows.

Columns (header names in any case; spaces or hyphens for underscores; "license" or "licence"):
npn, licence_number, first_name, last_name, email, phone, licence_status, lines_of_authority
(separated by semicolons), licence_expiry, certification_completed_on. Dates are YYYY-MM-DD or MM/DD/YYYY.

A row with any bad value is reported (line, field, reason) and left out; every other row is returned.
Reasons never repeat the bad value, so a report carries no personal data.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from kynect.core.names import name_validate
from kynect.core.phones import phone_normalize

COLUMNS = (
    "npn",
    "licence_number",
    "first_name",
    "last_name",
    "email",
    "phone",
    "licence_status",
    "lines_of_authority",
    "licence_expiry",
    "certification_completed_on",
)
REQUIRED = ("npn", "licence_number", "first_name", "last_name", "licence_status")
STATUSES = ("active", "inactive", "expired", "suspended", "revoked")
MAX_LENGTHS = {"licence_number": 30, "first_name": 150, "last_name": 150, "email": 254}


class RosterFileError(ValueError):
    """The file as a whole cannot be read: not UTF-8, no header, or a missing column."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    npn: str
    licence_number: str
    first_name: str
    last_name: str
    email: str
    phone: str
    status: str
    lines_of_authority: tuple[str, ...]
    expires_on: date | None
    certification_completed_on: date | None

    @property
    def has_health_authority(self) -> bool:
        """'Health', 'Accident & Health', 'Accident and Health or Sickness' all count."""
        return any(re.search(r"\bhealth\b", line, re.IGNORECASE) for line in self.lines_of_authority)


@dataclass(frozen=True)
class RosterProblem:
    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class Roster:
    rows: list[RosterRow]
    problems: list[RosterProblem]


def _header_key(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return key.replace("license", "licence")


def _parse_date(value: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007  (a calendar date, no time)
        except ValueError:
            continue
    raise ValueError


def _row(line: int, values: dict[str, str]) -> tuple[RosterRow | None, list[RosterProblem]]:
    problems: list[RosterProblem] = []

    def problem(field: str, reason: str) -> None:
        problems.append(RosterProblem(line=line, field=field, reason=reason))

    for field in REQUIRED:
        if not values[field]:
            problem(field, "missing")
    for field, limit in MAX_LENGTHS.items():
        if len(values[field]) > limit:
            problem(field, f"longer than {limit} characters")
    for field in ("first_name", "last_name"):
        try:
            name_validate(values[field])
        except ValidationError:
            problem(field, "has a hidden control or text-direction character")
    npn = values["npn"]
    if npn and not re.fullmatch(r"[0-9]{1,10}", npn):
        problem("npn", "not a National Producer Number (1 to 10 digits)")
    email = values["email"].lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problem("email", "not an email address")
    phone = ""
    if values["phone"]:
        try:
            phone = phone_normalize(values["phone"])
        except ValidationError:
            problem("phone", "not a 10-digit U.S. phone number")
    status = values["licence_status"].lower()
    if status and status not in STATUSES:
        problem("licence_status", f"not one of {', '.join(STATUSES)}")
    dates: dict[str, date | None] = {}
    for field in ("licence_expiry", "certification_completed_on"):
        dates[field] = None
        if values[field]:
            try:
                dates[field] = _parse_date(values[field])
            except ValueError:
                problem(field, "not a date (YYYY-MM-DD or MM/DD/YYYY)")
    if problems:
        return None, problems
    lines = tuple(part.strip() for part in values["lines_of_authority"].split(";") if part.strip())
    return (
        RosterRow(
            line=line,
            npn=npn,
            licence_number=values["licence_number"],
            first_name=values["first_name"],
            last_name=values["last_name"],
            email=email,
            phone=phone,
            status=status,
            lines_of_authority=lines,
            expires_on=dates["licence_expiry"],
            certification_completed_on=dates["certification_completed_on"],
        ),
        [],
    )


def roster_parse(data: bytes) -> Roster:
    """Every good row of the roster, and a problem for each bad one. Raises RosterFileError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterFileError("The file is not UTF-8 text.") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise RosterFileError("The file is empty: it needs a header row naming the columns.")
    keys = [_header_key(cell) for cell in header]
    missing = [column for column in COLUMNS if column not in keys]
    if missing:
        raise RosterFileError(f"Missing columns: {', '.join(missing)}.")
    return _rows(reader, keys)


def _rows(reader: Any, keys: list[str]) -> Roster:
    rows: list[RosterRow] = []
    problems: list[RosterProblem] = []
    first_line_of: dict[str, int] = {}
    for cells in reader:
        index = reader.line_num  # the file's line, even after a quoted value that spans lines
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(keys):
            problems.append(
                RosterProblem(line=index, field="", reason=f"has {len(cells)} values, the header {len(keys)}")
            )
            continue
        values = {key: cell.strip() for key, cell in zip(keys, cells, strict=True) if key in COLUMNS}
        row, row_problems = _row(index, values)
        if row is None:
            problems.extend(row_problems)
            continue
        if row.npn in first_line_of:
            problems.append(
                RosterProblem(
                    line=index, field="npn", reason=f"repeats the NPN of line {first_line_of[row.npn]}"
                )
            )
            continue
        first_line_of[row.npn] = index
        rows.append(row)
    return Roster(rows=rows, problems=problems)
