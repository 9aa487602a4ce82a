"""Parsing the Department of Insurance roster: good rows kept, each bad row named by line, field, reason."""

from __future__ import annotations

from datetime import date

import pytest

from kynect.interop.doi.roster import RosterFileError, RosterProblem, roster_parse

HEADER = (
    "NPN,License Number,First Name,Last Name,Email,Phone,License Status,Lines of Authority,"
    "License Expiry,Certification Completed On\n"
)
GOOD = "1234567,DOI-1,Ann,Agent,Ann@Example.org,(502) 555-0123,Active,Health; Life,2027-12-31,01/15/2026\n"


def test_a_good_row_is_normalised():
    roster = roster_parse((HEADER + GOOD).encode())
    assert roster.problems == []
    [row] = roster.rows
    assert row.npn == "1234567"
    assert row.email == "ann@example.org"
    assert row.phone == "+15025550123"
    assert row.status == "active"
    assert row.lines_of_authority == ("Health", "Life")
    assert row.has_health_authority
    assert row.expires_on == date(2027, 12, 31)
    assert row.certification_completed_on == date(2026, 1, 15)


@pytest.mark.parametrize(
    ("lines", "health"),
    [
        ("Accident & Health", True),
        ("Accident and Health or Sickness", True),
        ("Life; Property", False),
        ("", False),
    ],
)
def test_health_lines_of_authority(lines, health):
    text = HEADER + f'1,DOI-1,Ann,Agent,,,Active,"{lines}",,\n'
    assert roster_parse(text.encode()).rows[0].has_health_authority is health


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (",DOI-1,Ann,Agent,,,Active,Health,,", "npn", "missing"),
        ("12x,DOI-1,Ann,Agent,,,Active,Health,,", "npn", "not a National Producer Number"),
        ("1,DOI-1,Ann,Agent,not-an-email,,Active,Health,,", "email", "not an email address"),
        ("1,DOI-1,Ann,Agent,,555-0123,Active,Health,,", "phone", "not a 10-digit U.S. phone number"),
        ("1,DOI-1,Ann,Agent,,,Pending,Health,,", "licence_status", "not one of"),
        ("1,DOI-1,Ann,Agent,,,Active,Health,31/12/2027,", "licence_expiry", "not a date"),
        ("1,DOI-1,Ann,Agent,,,Active,Health,,yesterday", "certification_completed_on", "not a date"),
        ("1,DOI-1,,Agent,,,Active,Health,,", "first_name", "missing"),
        ("1,DOI-1,Ann\x1b[2J,Agent,,,Active,Health,,", "first_name", "hidden control"),
        ("1,DOI-1,Ann,\u202eAgent,,,Active,Health,,", "last_name", "text-direction character"),
        ("1,DOI-1,Ann,Agent,,,Active", "", "has 7 values, the header 10"),
    ],
)
def test_a_bad_row_is_reported_and_the_good_rows_kept(row, field, reason):
    roster = roster_parse((HEADER + row + "\n" + GOOD).encode())
    assert [good.line for good in roster.rows] == [3]
    [problem] = roster.problems
    assert (problem.line, problem.field) == (2, field)
    assert reason in problem.reason


def test_reasons_carry_no_personal_data():
    roster = roster_parse(
        (HEADER + "1,DOI-1,Ann,Agent,ann-at-example.org,502-555-012,Active,Health,,\n").encode()
    )
    for problem in roster.problems:
        assert "ann" not in problem.reason
        assert "555" not in problem.reason


def test_a_repeated_npn_is_reported_once_the_first_is_kept():
    roster = roster_parse((HEADER + GOOD + GOOD).encode())
    assert len(roster.rows) == 1
    assert roster.problems == [RosterProblem(line=3, field="npn", reason="repeats the NPN of line 2")]


def test_blank_lines_are_skipped_and_line_numbers_follow_the_file():
    quoted = '7654321,DOI-2,Bo,Agent,,,Active,"Health;\nLife",,\n'
    roster = roster_parse((HEADER + "\n" + quoted + "bad,DOI-3,Cy,Agent,,,Active,Health,,\n").encode())
    assert [row.line for row in roster.rows] == [4]
    assert roster.problems[0].line == 5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"npn,first_name\n1,Ann\n", "Missing columns"),
        ("\ufeff".encode() + HEADER.encode("latin-1") + "1,DOI-1,Jos\xe9".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_raises(data, message):
    with pytest.raises(RosterFileError, match=message):
        roster_parse(data)


def test_a_byte_order_mark_is_fine():
    assert len(roster_parse(("\ufeff" + HEADER + GOOD).encode()).rows) == 1
