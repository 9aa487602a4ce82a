"""Service hours: parsing the setting and when to expect a call, around closing, weekends and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from kynect.ondemand.confirmation import local_time_text
from kynect.ondemand.hours import service_hours_parse
from kynect.ondemand.selectors import help_request_call_by, service_hours_table

EASTERN = ZoneInfo("America/New_York")
CENTRAL = ZoneInfo("America/Chicago")
WEEKDAYS_8_TO_8 = (
    "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00,thu=08:00-20:00,fri=08:00-20:00,"
    "sat=09:00-13:00,sun=closed"
)


@pytest.fixture(autouse=True)
def _hours(settings):
    settings.ONDEMAND_SERVICE_HOURS = WEEKDAYS_8_TO_8
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_CALLBACK_MINUTES = 30


def eastern(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=EASTERN)


@pytest.mark.parametrize(
    ("at", "call_by", "inside"),
    [
        # Tuesday 24 November 2026, open: now + 30 minutes.
        (eastern(2026, 11, 24, 10, 0), eastern(2026, 11, 24, 10, 30), True),
        # Opening minute counts as open; a minute before closing too (the promise is still 30 minutes).
        (eastern(2026, 11, 24, 8, 0), eastern(2026, 11, 24, 8, 30), True),
        (eastern(2026, 11, 24, 19, 59), eastern(2026, 11, 24, 20, 29), True),
        # Closing time itself is closed: the next opening + 30 minutes, the next morning.
        (eastern(2026, 11, 24, 20, 0), eastern(2026, 11, 25, 8, 30), False),
        (eastern(2026, 11, 24, 23, 45), eastern(2026, 11, 25, 8, 30), False),
        # Before opening the same day.
        (eastern(2026, 11, 24, 6, 15), eastern(2026, 11, 24, 8, 30), False),
        # Friday night → Saturday's shorter hours; Saturday afternoon → Monday (Sunday closed).
        (eastern(2026, 11, 27, 21, 0), eastern(2026, 11, 28, 9, 30), False),
        (eastern(2026, 11, 28, 13, 0), eastern(2026, 11, 30, 8, 30), False),
        (eastern(2026, 11, 29, 12, 0), eastern(2026, 11, 30, 8, 30), False),
    ],
)
def test_when_to_expect_a_call(at: datetime, call_by: datetime, inside: bool) -> None:
    result = help_request_call_by(at=at.astimezone(UTC))
    assert result.call_by == call_by
    assert result.inside_hours is inside
    assert result.clock_starts_at == (at if inside else call_by - timedelta(minutes=30))


def test_daylight_saving_ends_overnight_and_opening_stays_at_8_local() -> None:
    # Saturday 31 October 2026 after closing; clocks fall back on Sunday 1 November; Monday opens 8:00 EST.
    result = help_request_call_by(at=eastern(2026, 10, 31, 18, 0).astimezone(UTC))
    assert result.clock_starts_at == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # 8:00 EST is 13:00 UTC
    assert result.call_by.astimezone(EASTERN).hour == 8
    assert result.call_by.astimezone(EASTERN).minute == 30


def test_daylight_saving_starts_overnight() -> None:
    # Saturday 7 March 2026 after closing; clocks spring forward on Sunday 8 March; Monday 8:00 EDT.
    result = help_request_call_by(at=eastern(2026, 3, 7, 14, 0).astimezone(UTC))
    assert result.clock_starts_at == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # 8:00 EDT is 12:00 UTC


def test_a_minute_inside_hours_on_the_day_clocks_change_is_still_inside(settings) -> None:
    settings.ONDEMAND_SERVICE_HOURS = "sun=00:00-24:00,mon=08:00-20:00"
    at = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 1:30 EST, the second 1:30 of the night
    result = help_request_call_by(at=at)
    assert result.inside_hours
    assert (result.call_by - at).total_seconds() == 30 * 60


def test_central_time_requesters_see_the_same_instant_in_their_own_zone() -> None:
    at = eastern(2026, 11, 24, 21, 0).astimezone(UTC)
    call_by = help_request_call_by(at=at).call_by
    assert call_by.astimezone(CENTRAL).hour == 7
    with translation.override("en"):
        text = local_time_text(at=call_by, time_zone="America/Chicago")
    assert text.startswith("Wednesday, Nov. 25, 2026, 7:30 a.m.")
    assert "Central time" in text
    with translation.override("es"):
        text = local_time_text(at=call_by, time_zone="America/New_York")
    assert text.startswith("miércoles, 25 de noviembre de 2026")
    assert "08:30" in text


def test_the_hours_table_follows_the_setting_and_language() -> None:
    with translation.override("en"):
        rows = service_hours_table()
    assert rows[0] == ("Monday", "8 a.m. to 8 p.m.")
    assert rows[5] == ("Saturday", "9 a.m. to 1 p.m.")
    assert rows[6] == ("Sunday", "Closed")
    with translation.override("es"):
        rows = service_hours_table()
    assert rows[6] == ("domingo", "Cerrado")


@pytest.mark.parametrize(
    "value",
    ["mon=8-20", "mon=20:00-08:00", "funday=08:00-20:00", "mon=closed,tue=closed", "mon=08:00-24:30"],
)
def test_bad_service_hours_refuse_to_start(value: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        service_hours_parse(value, "America/New_York")


def test_midnight_closing_and_missing_days() -> None:
    hours = service_hours_parse("mon=18:00-24:00", "America/Chicago")
    assert hours.days[0] is not None
    assert hours.days[0].end_minute == 24 * 60
    assert hours.days[1:] == (None,) * 6
