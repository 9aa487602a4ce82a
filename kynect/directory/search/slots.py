"""Hours of the week: the search index's open-now prefilter (ADR 0019)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from kynect.directory.hours import END_OF_DAY, Window

HOURS_PER_WEEK = 7 * 24
_SECONDS_PER_DAY = 24 * 3600


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def hour_slots(windows: Iterable[tuple[int, time, time, bool]]) -> list[int]:
    """The hours of the week (weekday * 24 + hour of the local wall clock; Monday 00:00 to 00:59 is
    0) in which any of these (weekday, opens, closes, closes next day) windows is open for at least a
    moment. The dates a window is valid and the closed days are ignored, so this is a superset of when
    the place is open: PostgreSQL's search tests it inside its place index before the exact hours
    (ADR 0019)."""
    slots: set[int] = set()
    for weekday, opens, closes, next_day in windows:
        start = weekday * _SECONDS_PER_DAY + _seconds(opens)
        # Open until just before `closes`; 23:59:59 stands for midnight and is itself open.
        end = weekday * _SECONDS_PER_DAY + _seconds(closes) + (_SECONDS_PER_DAY if next_day else 0)
        end += 1 if closes == END_OF_DAY else 0
        if Window(opens, closes, next_day).all_day:  # what the display counts as 24 hours
            end = max(end, (weekday + 1) * _SECONDS_PER_DAY)
        if end <= start:
            continue
        slots.update(hour % HOURS_PER_WEEK for hour in range(start // 3600, (end - 1) // 3600 + 1))
    return sorted(slots)


def moment_slot(local: datetime) -> int:
    """The hour of the week of a local wall-clock moment, as `hour_slots` numbers them."""
    return local.weekday() * 24 + local.hour
