"""The scan that keeps the demo people's personal data out of the logs.

Every record the test suite logs is written to files in `settings.LOG_SCAN_DIR` (config/test_settings.py);
when the session ends, the root conftest calls `log_leaks` on them and fails the run if any line holds a
demo person's name, email or phone number. The values come from the demo data's own source, so the scan
follows the demo when it changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kynect.accounts.demo import DEMO_RESIDENT_PHONE, USERS
from kynect.core.phones import phone_display
from kynect.ondemand.demo import DEMO_HELPERS


@dataclass(frozen=True)
class Leak:
    path: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def phone_spellings(e164: str) -> set[str]:
    """The ways a US number can be written: the E.164 form and the display form the code writes, the
    bare digits, and the spellings people type."""
    digits = e164[-10:]
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    return {
        e164,
        phone_display(e164),
        digits,
        f"1{digits}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{area} {exchange} {line}",
        f"1-{area}-{exchange}-{line}",
        f"+1 {area} {exchange} {line}",
        f"+1 ({area}) {exchange}-{line}",
    }


def demo_personal_data() -> dict[str, str]:
    """Each demo person's name, email and phone spelling (lower case), and what it is."""
    found: dict[str, str] = {}
    for email, first_name, last_name, _role, _organization in USERS:
        found[email.lower()] = f"the email of demo user {email}"
        found[f"{first_name} {last_name}".lower()] = f"the name of demo user {email}"
    phones = [(DEMO_RESIDENT_PHONE, "the demo resident")]
    phones += [(phone, f"demo helper {email}") for email, phone, _zip in DEMO_HELPERS]
    for e164, whose in phones:
        for spelling in phone_spellings(e164):
            found[spelling.lower()] = f"the phone number of {whose}, written {spelling!r}"
    return found


def _text_of(line: str) -> str:
    """A JSON line's values, decoded (so an escaped character reads as itself); any other line as it is."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    return " ".join(_strings(entry))


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [str(value)]


def log_leaks(paths: list[Path], personal_data: dict[str, str] | None = None) -> list[Leak]:
    """Every line of the files that holds personal data, with what it holds."""
    personal_data = demo_personal_data() if personal_data is None else personal_data
    leaks = []
    for path in sorted(paths):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                text = _text_of(line).lower()
                leaks += [Leak(path, number, what) for value, what in personal_data.items() if value in text]
    return leaks
