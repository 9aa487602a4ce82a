"""The periods dashboards and reports count over: whole days, months and years on Kentucky's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kynect.core.forms import PeriodForm
from kynect.core.periods import (
    PeriodKey,
    kentucky_today,
    month_before,
    month_period,
    period_between,
    period_named,
)

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # noon Eastern, Tuesday 24 November 2026
CENTRAL = ZoneInfo("America/Chicago")


def test_named_periods_end_today_and_start_where_their_names_say():
    assert period_named(key="today", now=NOW).days == (date(2026, 11, 24),)
    week = period_named(key="week", now=NOW)
    assert (week.first, week.last) == (date(2026, 11, 18), date(2026, 11, 24))
    thirty = period_named(key="30days", now=NOW)
    assert (thirty.first, thirty.last, len(thirty.days)) == (date(2026, 10, 26), date(2026, 11, 24), 30)
    month = period_named(key="month", now=NOW)
    assert (month.first, month.last) == (date(2026, 11, 1), date(2026, 11, 24))
    year = period_named(key="year", now=NOW)
    assert (year.first, year.last) == (date(2026, 1, 1), date(2026, 11, 24))
    assert period_named(key="range", now=NOW).key == PeriodKey.TODAY
    assert period_named(key="nonsense", now=NOW).key == PeriodKey.TODAY


def test_a_period_is_the_instants_of_its_days_on_eastern_time():
    year = period_named(key="year", now=NOW)
    assert year.start == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)  # EST, UTC-5
    assert year.end == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    july = month_period(year=2026, month=7)
    assert july.start == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # EDT, UTC-4
    assert july.last == date(2026, 7, 31)
    assert month_period(year=2028, month=2).last == date(2028, 2, 29)
    assert month_period(year=2026, month=12).end == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)


def test_half_past_eleven_central_on_the_last_day_of_a_month_is_in_the_next_month():
    late = datetime(2026, 11, 30, 23, 30, tzinfo=CENTRAL)
    november = month_period(year=2026, month=11)
    december = month_period(year=2026, month=12)
    assert not november.start <= late < november.end
    assert december.start <= late < december.end
    assert kentucky_today(late) == date(2026, 12, 1)
    # Half an hour earlier it is still November on Kentucky's clock.
    assert november.start <= late - timedelta(minutes=31) < november.end


def test_month_before_and_chosen_ranges():
    assert month_before(date(2026, 1, 1)) == date(2025, 12, 1)
    assert month_before(date(2026, 3, 31)) == date(2026, 2, 1)
    chosen = period_between(first=date(2026, 3, 7), last=date(2026, 3, 9))
    assert chosen.key == PeriodKey.RANGE
    assert chosen.end - chosen.start == timedelta(hours=71)  # clocks go forward on 8 March 2026
    with pytest.raises(ValueError, match="last day"):
        period_between(first=date(2026, 3, 9), last=date(2026, 3, 7))


KEYS = (PeriodKey.LAST_30_DAYS, PeriodKey.YEAR, PeriodKey.RANGE)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"period": "year"}, (date(2026, 1, 1), date(2026, 11, 24))),
        ({"start": "2026-02-01", "end": "2026-02-10"}, (date(2026, 2, 1), date(2026, 2, 10))),
        (
            {"period": "range", "start": "2026-02-01", "end": "2026-02-01"},
            (date(2026, 2, 1), date(2026, 2, 1)),
        ),
    ],
)
def test_the_period_form_gives_the_period_chosen(data, expected):
    form = PeriodForm(data, keys=KEYS, max_days=366)
    assert form.is_valid(), form.errors
    period = form.chosen_period(now=NOW, default=PeriodKey.LAST_30_DAYS)
    assert (period.first, period.last) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period": "range", "start": "2026-02-01"}, "Give both dates"),
        ({"start": "2026-02-10", "end": "2026-02-01"}, "must not be before its start"),
        ({"start": "2020-01-01", "end": "2026-02-01"}, "at most 366 days"),
        ({"start": "yesterday", "end": "2026-02-01"}, "Enter a valid date"),
        ({"period": "week"}, "Select a valid choice"),
    ],
)
def test_a_bad_period_is_refused_with_a_message_and_the_default_stands(data, message):
    form = PeriodForm(data, keys=KEYS, max_days=366)
    assert not form.is_valid()
    assert message in str(form.errors)
    assert form.chosen_period(now=NOW, default=PeriodKey.LAST_30_DAYS).key == PeriodKey.LAST_30_DAYS


def test_dates_edited_while_the_list_names_a_period_mean_the_dates():
    with time_machine.travel(NOW, tick=False):
        edited = PeriodForm(
            {"period": "30days", "start": "2026-02-01", "end": "2026-02-03"}, keys=KEYS, max_days=366
        )
        assert edited.is_valid()
        assert edited.chosen_period(now=NOW, default=PeriodKey.YEAR).days == (
            date(2026, 2, 1),
            date(2026, 2, 2),
            date(2026, 2, 3),
        )
        unchanged = PeriodForm(
            {"period": "30days", "start": "2026-10-26", "end": "2026-11-24"}, keys=KEYS, max_days=366
        )
        assert unchanged.is_valid()
        assert unchanged.chosen_period(now=NOW, default=PeriodKey.YEAR).key == PeriodKey.LAST_30_DAYS
        backwards = PeriodForm(
            {"period": "30days", "start": "2026-12-01", "end": "2026-11-01"}, keys=KEYS, max_days=366
        )
        assert not backwards.is_valid()
        assert "must not be before its start" in str(backwards.errors)
