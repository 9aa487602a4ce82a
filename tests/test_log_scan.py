"""The scan of the suite's logs for the demo people's personal data (tests/log_scan.py)."""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

from django.conf import settings

from kynect.accounts.demo import DEMO_RESIDENT_PHONE, USERS
from kynect.core.logging import JsonFormatter
from kynect.core.phones import phone_display
from kynect.ondemand.demo import DEMO_HELPERS
from tests.log_scan import demo_personal_data, log_leaks, phone_spellings

RESIDENT_EMAIL, RESIDENT_FIRST, RESIDENT_LAST = USERS[0][0], USERS[0][1], USERS[0][2]


def json_line(message: str, **fields: object) -> str:
    return json.dumps({"level": "INFO", "logger": "kynect.x", "message": message, **fields}) + "\n"


def test_the_personal_data_comes_from_the_demo_source() -> None:
    data = demo_personal_data()

    for email, first_name, last_name, _role, _organization in USERS:
        assert email.lower() in data
        assert f"{first_name} {last_name}".lower() in data
    for _email, phone, _zip in [*DEMO_HELPERS, ("", DEMO_RESIDENT_PHONE, "")]:
        assert phone in data
        assert phone_display(phone).lower() in data
        assert phone[-10:] in data


def test_phone_spellings_cover_what_the_code_writes() -> None:
    spellings = phone_spellings("+15025550101")

    assert {"+15025550101", "(502) 555-0101", "5025550101", "502-555-0101"} <= spellings


def test_a_planted_leak_is_reported_with_file_line_and_what(tmp_path: Path) -> None:
    log = tmp_path / "gw0-123.log"
    log.write_text(
        json_line("Offer accepted")
        + json_line(f"Calling {RESIDENT_FIRST.upper()} {RESIDENT_LAST} back")
        + json_line("ok", exception=f"ValueError: no such user {RESIDENT_EMAIL}")
        + f"a plain line with {phone_display(DEMO_RESIDENT_PHONE)}\n",
        encoding="utf-8",
    )

    leaks = log_leaks([log])

    assert [(leak.path, leak.line) for leak in leaks] == [(log, 2), (log, 3), (log, 4)]
    assert leaks[0].what == f"the name of demo user {RESIDENT_EMAIL}"
    assert leaks[1].what == f"the email of demo user {RESIDENT_EMAIL}"
    written = phone_display(DEMO_RESIDENT_PHONE)
    assert leaks[2].what == f"the phone number of the demo resident, written {written!r}"
    assert str(leaks[0]) == f"{log}:2: the name of demo user {RESIDENT_EMAIL}"


def test_an_escaped_character_in_json_is_read_as_itself(tmp_path: Path) -> None:
    log = tmp_path / "main-1.log"
    log.write_text(json.dumps({"message": "Hola Seán"}) + "\n", encoding="utf-8")  # written as Se\\u00e1n

    assert log_leaks([log], {"seán": "a name"})[0].line == 1


def test_masked_lines_pass(tmp_path: Path) -> None:
    log = tmp_path / "main-1.log"
    log.write_text(json_line("Texted [phone] at [email] for help request 3f2a"), encoding="utf-8")

    assert log_leaks([log]) == []


def test_the_suite_writes_every_record_to_the_scanned_files() -> None:
    marker = uuid.uuid4().hex
    logging.getLogger("kynect.tests.scan").debug("marker %s", marker)

    mine = Path(settings.LOGGING["handlers"]["leak_scan"]["filename"])
    assert mine.name.endswith(f"-{os.getpid()}.log")
    lines = [json.loads(line) for line in mine.read_text(encoding="utf-8").splitlines()]
    [entry] = [line for line in lines if line["message"] == f"marker {marker}"]
    assert entry["level"] == "DEBUG"
    [handler] = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == mine
    ]
    assert isinstance(handler.formatter, JsonFormatter)
