"""Opening hours: windows derived from HSDS schedules, "today" text, "open now", the weekly table."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from kynect.core import clock
from kynect.directory import models as hsds
from kynect.directory.generator import directory_generate
from kynect.directory.hours import (
    format_time,
    hours_records,
    hours_today,
    is_open,
    opening_windows_rebuild,
    opening_windows_rebuild_counts,
    weekly_hours,
    weekly_table,
    windows_in_force,
)
from kynect.directory.search.slots import hour_slots, moment_slot

pytestmark = pytest.mark.django_db

EASTERN = "America/New_York"
CENTRAL = "America/Chicago"
WEEKDAYS = "MO,TU,WE,TH,FR"
ALL_DAYS = "MO,TU,WE,TH,FR,SA,SU"
# Monday 15 June 2026 (daylight time: Eastern is UTC-4, Central UTC-5).
MONDAY = date(2026, 6, 15)


def _location(time_zone: str = EASTERN) -> hsds.Location:
    return hsds.Location.objects.create(location_type="physical", name="Office", time_zone=time_zone)


def _weekly(location: hsds.Location, byday: str, opens: str, closes: str, **extra: Any) -> hsds.Schedule:
    values: dict[str, Any] = {"freq": "WEEKLY", "wkst": "MO", "interval": 1, **extra}
    return hsds.Schedule.objects.create(
        location=location,
        byday=byday,
        opens_at=time.fromisoformat(opens),
        closes_at=time.fromisoformat(closes),
        **values,
    )


def _closure(
    location: hsds.Location, day: date, reason: str = "Closed for Independence Day"
) -> hsds.Schedule:
    return hsds.Schedule.objects.create(
        location=location, valid_from=day, valid_to=day, description=reason, notes="closed"
    )


def _local(day: date, hour: int, minute: int = 0, time_zone: str = EASTERN) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(time_zone))


def _today(location: hsds.Location, now: datetime) -> str:
    windows, closed = hours_records(location_id=location.pk)
    return str(hours_today(windows=windows, closed_days=closed, time_zone=location.time_zone, now=now).label)


def _open(location: hsds.Location, at: datetime) -> bool:
    windows, closed = hours_records(location_id=location.pk)
    return is_open(windows=windows, closed_days=closed, time_zone=location.time_zone, at=at)


def _rows() -> list[tuple[Any, ...]]:
    windows = hsds.OpeningWindow.objects.order_by("location_id", "weekday", "opens_at", "closes_at")
    closed = hsds.ClosedDay.objects.order_by("location_id", "date")
    return sorted(
        [
            *windows.values_list(
                "location_id",
                "service_id",
                "weekday",
                "opens_at",
                "closes_at",
                "closes_next_day",
                "valid_from",
                "valid_to",
                "source_schedule_id",
            ),
            *closed.values_list("location_id", "service_id", "date", "reason", "source_schedule_id"),
        ],
        key=repr,
    )


def test_a_weekly_schedule_gives_one_window_per_listed_day(time_machine: Any) -> None:
    location = _location()
    _weekly(location, WEEKDAYS, "08:00", "16:30")
    assert opening_windows_rebuild() == 5
    windows = list(location.opening_windows.all())
    assert [w.weekday for w in windows] == [0, 1, 2, 3, 4]
    assert all(
        (w.opens_at, w.closes_at, w.closes_next_day) == (time(8), time(16, 30), False) for w in windows
    )

    time_machine.move_to(_local(MONDAY, 10), tick=False)
    assert _today(location, clock.now()) == "Today 8:00 AM to 4:30 PM"
    assert _open(location, clock.now())
    assert _open(location, _local(MONDAY, 8))
    assert not _open(location, _local(MONDAY, 7, 59))
    assert not _open(location, _local(MONDAY, 16, 30))
    saturday = date(2026, 6, 20)
    assert _today(location, _local(saturday, 10)) == "Closed today"
    assert not _open(location, _local(saturday, 10))


def test_a_split_day_lists_both_windows_in_order() -> None:
    location = _location()
    _weekly(location, WEEKDAYS, "13:00", "16:30")
    _weekly(location, WEEKDAYS, "08:30", "12:00")
    opening_windows_rebuild()
    assert _today(location, _local(MONDAY, 9)) == "Today 8:30 AM to 12:00 PM, 1:00 PM to 4:30 PM"
    assert _open(location, _local(MONDAY, 11, 59))
    assert not _open(location, _local(MONDAY, 12, 30))
    assert _open(location, _local(MONDAY, 13))


def test_closing_after_midnight_counts_as_open_early_the_next_day() -> None:
    location = _location()
    _weekly(location, "FR,SA", "20:00", "02:00")
    opening_windows_rebuild()
    assert all(w.closes_next_day for w in location.opening_windows.all())
    friday, saturday, sunday = date(2026, 6, 19), date(2026, 6, 20), date(2026, 6, 21)
    assert _today(location, _local(friday, 12)) == "Today 8:00 PM to 2:00 AM"
    assert not _open(location, _local(friday, 1))  # Thursday has no late window
    assert _open(location, _local(friday, 23, 30))
    assert _open(location, _local(saturday, 1))
    assert not _open(location, _local(saturday, 2))
    assert not _open(location, _local(saturday, 12))
    assert _open(location, _local(sunday, 1, 30))
    assert _today(location, _local(sunday, 1, 30)) == "Closed today"
    assert not _open(location, _local(date(2026, 6, 22), 1))


@pytest.mark.parametrize("closes", ["23:59:59", "00:00"])
def test_twenty_four_hours(closes: str) -> None:
    location = _location()
    _weekly(location, ALL_DAYS, "00:00", closes)
    opening_windows_rebuild()
    windows = list(location.opening_windows.all())
    assert len(windows) == 7
    assert all((w.closes_at, w.closes_next_day) == (time(23, 59, 59), False) for w in windows)
    assert _today(location, _local(MONDAY, 3)) == "Open 24 hours"
    for hour, minute in [(0, 0), (3, 0), (12, 0), (23, 59)]:
        assert _open(location, _local(date(2026, 6, 21), hour, minute))
    assert _open(location, datetime(2026, 6, 16, 3, 59, 59, 900000, tzinfo=UTC))  # 23:59:59.9 Eastern


def test_a_holiday_closure_shows_closed_that_day_only() -> None:
    location = _location()
    _weekly(location, WEEKDAYS, "08:00", "16:30")
    holiday = date(2026, 7, 3)  # a Friday
    _closure(location, holiday)
    opening_windows_rebuild()
    closed = location.closed_days.get()
    assert (closed.date, closed.reason) == (holiday, "Closed for Independence Day")
    assert _today(location, _local(holiday, 10)) == "Closed today"
    assert not _open(location, _local(holiday, 10))
    assert _today(location, _local(date(2026, 7, 2), 10)) == "Today 8:00 AM to 4:30 PM"
    assert _today(location, _local(date(2026, 7, 6), 10)) == "Today 8:00 AM to 4:30 PM"
    windows, closed_days = hours_records(location_id=location.pk)
    today = hours_today(windows=windows, closed_days=closed_days, time_zone=EASTERN, now=_local(holiday, 9))
    assert today.holiday
    assert today.closed_reason == "Closed for Independence Day"


def test_a_holiday_stops_a_late_window_from_spilling_into_the_next_morning() -> None:
    location = _location()
    _weekly(location, "FR", "20:00", "02:00")
    _closure(location, date(2026, 7, 3))
    opening_windows_rebuild()
    assert not _open(location, _local(date(2026, 7, 4), 1))
    assert _open(location, _local(date(2026, 7, 11), 1))


def test_the_same_instant_is_a_different_local_day_in_eastern_and_central() -> None:
    eastern, central = _location(EASTERN), _location(CENTRAL)
    for location in (eastern, central):
        _weekly(location, "MO", "08:00", "16:30")
        _weekly(location, "TU", "09:00", "17:00")
    opening_windows_rebuild()
    # Tuesday 13 January 2026, 05:30 UTC: 00:30 Tuesday in Louisville, 23:30 Monday in Bowling Green.
    instant = datetime(2026, 1, 13, 5, 30, tzinfo=UTC)
    assert _today(eastern, instant) == "Today 9:00 AM to 5:00 PM"
    assert _today(central, instant) == "Today 8:00 AM to 4:30 PM"
    # Tuesday 14:30 UTC is 9:30 AM Eastern (open) and 8:30 AM Central (not yet).
    instant = datetime(2026, 1, 13, 14, 30, tzinfo=UTC)
    assert _open(eastern, instant)
    assert not _open(central, instant)
    assert _open(central, datetime(2026, 1, 13, 15, 30, tzinfo=UTC))


def test_a_location_without_a_time_zone_uses_the_site_time_zone() -> None:
    location = _location("")
    _weekly(location, "MO", "08:00", "16:30")
    opening_windows_rebuild()
    assert _open(location, datetime(2026, 6, 15, 12, 30, tzinfo=UTC))  # 8:30 AM Eastern daylight


def test_windows_respect_valid_from_and_valid_to() -> None:
    location = _location()
    _weekly(location, WEEKDAYS, "08:00", "16:30", valid_from=date(2026, 9, 1))
    _weekly(location, WEEKDAYS, "07:00", "12:00", valid_from=date(2026, 6, 1), valid_to=date(2026, 8, 31))
    opening_windows_rebuild()
    summer = {(w.valid_from, w.valid_to) for w in location.opening_windows.filter(opens_at=time(7))}
    assert summer == {(date(2026, 6, 1), date(2026, 8, 31))}
    assert _today(location, _local(MONDAY, 9)) == "Today 7:00 AM to 12:00 PM"
    assert not _open(location, _local(MONDAY, 13))
    assert _today(location, _local(date(2026, 5, 25), 9)) == "Closed today"
    assert _today(location, _local(date(2026, 9, 7), 9)) == "Today 8:00 AM to 4:30 PM"
    assert _open(location, _local(date(2026, 9, 7), 13))


def test_dtstart_and_until_narrow_the_validity() -> None:
    location = _location()
    _weekly(location, "MO", "08:00", "12:00", dtstart=date(2026, 6, 1), until=date(2026, 6, 30))
    opening_windows_rebuild()
    window = location.opening_windows.get()
    assert (window.valid_from, window.valid_to) == (date(2026, 6, 1), date(2026, 6, 30))


def test_spanish_rendering() -> None:
    office, split, allday = _location(), _location(), _location()
    _weekly(office, WEEKDAYS, "08:00", "16:30")
    _weekly(split, WEEKDAYS, "08:30", "12:00")
    _weekly(split, WEEKDAYS, "13:00", "16:30")
    _weekly(allday, ALL_DAYS, "00:00", "23:59:59")
    opening_windows_rebuild()
    now = _local(MONDAY, 9)
    windows, closed = hours_records(location_id=office.pk)
    computed_in_english = hours_today(windows=windows, closed_days=closed, time_zone=EASTERN, now=now)
    with translation.override("es"):
        assert _today(office, now) == "Hoy 8:00 a. m. a 4:30 p. m."
        assert _today(split, now) == "Hoy 8:30 a. m. a 12:00 p. m., 1:00 p. m. a 4:30 p. m."
        assert _today(allday, now) == "Abierto las 24 horas"
        assert _today(office, _local(date(2026, 6, 20), 9)) == "Cerrado hoy"
        assert str(computed_in_english.label) == "Hoy 8:00 a. m. a 4:30 p. m."
    assert str(computed_in_english.label) == "Today 8:00 AM to 4:30 PM"


def test_time_format_by_language() -> None:
    assert format_time(time(0, 5), "en") == "12:05 AM"
    assert format_time(time(12), "en") == "12:00 PM"
    assert format_time(time(16, 30), "es") == "4:30 p. m."
    assert format_time(time(8), "es-mx") == "8:00 a. m."


def test_weekly_table_has_seven_rows_with_closed_days_and_holidays() -> None:
    location = _location(CENTRAL)
    _weekly(location, WEEKDAYS, "08:00", "16:30")
    _weekly(location, "SA", "10:00", "14:00")
    _closure(location, date(2026, 7, 3))
    opening_windows_rebuild()
    windows, closed = hours_records(location_id=location.pk)
    rows = weekly_table(
        windows=windows, closed_days=closed, time_zone=CENTRAL, now=_local(date(2026, 7, 1), 9, 0, CENTRAL)
    )
    assert [str(row.day_name) for row in rows] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert [row.text for row in rows] == [
        "8:00 AM to 4:30 PM",
        "8:00 AM to 4:30 PM",
        "8:00 AM to 4:30 PM",
        "8:00 AM to 4:30 PM",
        "Closed",
        "10:00 AM to 2:00 PM",
        "Closed",
    ]
    assert [row.is_today for row in rows] == [False, False, True, False, False, False, False]
    assert rows[4].hours.holiday
    with translation.override("es"):
        assert str(rows[0].day_name) == "lunes"
        assert rows[4].text == "Cerrado"
        assert rows[5].text == "10:00 a. m. a 2:00 p. m."


def test_rebuild_is_idempotent() -> None:
    location, other = _location(), _location(CENTRAL)
    _weekly(location, WEEKDAYS, "08:00", "16:30")
    _weekly(location, "FR,SA", "20:00", "02:00")
    _closure(location, date(2026, 7, 3))
    _weekly(other, ALL_DAYS, "00:00", "23:59:59")
    first = opening_windows_rebuild_counts()
    rows = _rows()
    second = opening_windows_rebuild_counts()
    assert first == second
    assert (first.windows, first.closed_days) == (14, 1)
    assert _rows() == rows
    assert opening_windows_rebuild(location_ids=[location.pk]) == 7
    assert _rows() == rows


def test_rebuilding_some_locations_leaves_the_others_alone() -> None:
    location, other = _location(), _location()
    _weekly(location, WEEKDAYS, "08:00", "16:30")
    schedule = _weekly(other, WEEKDAYS, "08:00", "16:30")
    opening_windows_rebuild()
    schedule.byday = "MO"
    schedule.save()
    opening_windows_rebuild(location_ids=[location.pk])
    assert other.opening_windows.count() == 5
    opening_windows_rebuild(location_ids=[other.pk])
    assert other.opening_windows.count() == 1
    assert location.opening_windows.count() == 5


def test_unsupported_rules_are_skipped_and_counted() -> None:
    location = _location()
    _weekly(location, WEEKDAYS, "08:00", "16:30")
    hsds.Schedule.objects.create(
        location=location, freq="MONTHLY", byday="1MO", opens_at=time(9), closes_at=time(12)
    )
    _weekly(location, "TU", "09:00", "12:00", byweekno="41,42")
    _weekly(location, "TH", "09:00", "12:00", interval=2)
    _weekly(location, "2WE", "09:00", "12:00")
    counts = opening_windows_rebuild_counts()
    assert (counts.windows, counts.skipped) == (5, 4)
    assert {(w.opens_at, w.closes_at) for w in location.opening_windows.all()} == {(time(8), time(16, 30))}


def test_service_schedules_give_service_windows() -> None:
    organization = hsds.Organization.objects.create(name="Org", description="")
    service = hsds.Service.objects.create(organization=organization, name="Pantry")
    clinic = hsds.Service.objects.create(organization=organization, name="Clinic")
    location = _location()
    pantry_here = hsds.ServiceAtLocation.objects.create(service=service, location=location)
    hsds.ServiceAtLocation.objects.create(service=clinic, location=location)
    _weekly(location, WEEKDAYS, "08:00", "16:30")
    hsds.Schedule.objects.create(
        service_at_location=pantry_here, freq="WEEKLY", byday="TU", opens_at=time(10), closes_at=time(12)
    )
    hsds.Schedule.objects.create(
        service=clinic, freq="WEEKLY", byday="WE", opens_at=time(13), closes_at=time(15)
    )
    assert opening_windows_rebuild() == 7
    assert location.opening_windows.filter(service=service).get().weekday == 1
    assert location.opening_windows.filter(service=clinic).get().weekday == 2
    windows, _ = hours_records(location_id=location.pk, service_id=service.pk)
    assert [(w.weekday, w.opens_at) for w in windows] == [(1, time(10))]
    windows, _ = hours_records(location_id=location.pk)
    assert len(windows) == 5


def test_import_builds_windows_for_every_location_with_weekly_schedules(tmp_path: Path) -> None:
    directory_generate(services=50, seed=3, out=tmp_path)
    call_command("import_hsds", str(tmp_path), report=str(tmp_path / "r.csv"), stdout=io.StringIO())
    weekly = set(
        hsds.Schedule.objects.filter(freq="WEEKLY")
        .exclude(Q(byday="") | Q(location__isnull=True))
        .values_list("location_id", flat=True)
    )
    assert weekly
    with_windows = set(hsds.OpeningWindow.objects.values_list("location_id", flat=True))
    assert weekly <= with_windows
    holidays = hsds.Schedule.objects.filter(notes="closed").count()
    assert holidays
    assert hsds.ClosedDay.objects.count() == holidays
    rows = _rows()
    call_command("import_hsds", str(tmp_path), report=str(tmp_path / "r2.csv"), stdout=io.StringIO())
    assert _rows() == rows


# --- Hours of the week (the search index's prefilter) ---------------------------------------------


@dataclass
class _Window:
    weekday: int
    opens_at: time
    closes_at: time
    closes_next_day: bool = False
    valid_from: date | None = None
    valid_to: date | None = None


def _slots(*windows: _Window) -> list[int]:
    return hour_slots((w.weekday, w.opens_at, w.closes_at, w.closes_next_day) for w in windows)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (_Window(0, time(8), time(17)), list(range(8, 17))),
        (_Window(0, time(8, 30), time(17, 30)), list(range(8, 18))),
        (_Window(2, time(0), time(23, 59, 59)), list(range(48, 72))),
        (_Window(0, time(23), time(23, 59, 59)), [23]),
        (_Window(0, time(22), time(23)), [22]),
        (_Window(6, time(22), time(2), closes_next_day=True), [0, 1, 166, 167]),
        (_Window(4, time(9), time(9)), []),
        (_Window(1, time(0), time(0)), list(range(24, 48))),
    ],
    ids=[
        "hours",
        "half hours",
        "24 hours",
        "until midnight",
        "closing on the hour",
        "over Sunday night",
        "empty",
        "midnight to midnight",
    ],
)
def test_hour_slots_are_the_hours_of_the_week_a_window_touches(window: _Window, expected: list[int]) -> None:
    assert _slots(window) == expected


def test_hour_slots_merge_windows_and_number_a_moment_alike() -> None:
    assert _slots(
        _Window(0, time(8), time(10)), _Window(0, time(9), time(11)), _Window(1, time(8), time(9))
    ) == [
        8,
        9,
        10,
        32,
    ]
    # Tuesday 8:15 local is hour 24 + 8 of the week.
    assert moment_slot(datetime(2026, 11, 24, 8, 15, tzinfo=ZoneInfo("America/Chicago"))) == 32


_clock_times = st.builds(
    time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]), st.sampled_from([0, 30, 59])
)


@settings(max_examples=300, deadline=None)
@given(
    windows=st.lists(
        st.builds(
            _Window,
            weekday=st.integers(0, 6),
            opens_at=_clock_times,
            closes_at=st.one_of(_clock_times, st.just(time(23, 59, 59))),
            closes_next_day=st.booleans(),
        ),
        max_size=4,
    ),
    # Hypothesis takes naive bounds and attaches the zone itself.
    moment=st.datetimes(
        min_value=datetime(2026, 11, 23),  # noqa: DTZ001
        max_value=datetime(2026, 11, 30),  # noqa: DTZ001
        timezones=st.just(ZoneInfo("America/New_York")),
    ),
)
def test_hour_slots_hold_every_moment_the_place_is_open(windows: list[_Window], moment: datetime) -> None:
    # A superset: whenever the exact rule says open, the moment's hour is among the slots.
    if is_open(windows=windows, time_zone="America/New_York", at=moment):
        assert moment_slot(moment) in _slots(*windows)


# --- Windows in force on a date, and the regular week ---------------------------------------------


def test_a_window_is_in_force_from_its_first_to_its_last_valid_day_inclusive() -> None:
    summer = _Window(6, time(10), time(14), valid_from=date(2026, 6, 1), valid_to=date(2026, 8, 31))
    starting = _Window(0, time(8), time(12), valid_from=date(2026, 6, 1))
    ending = _Window(0, time(13), time(17), valid_to=date(2026, 8, 31))
    always = _Window(3, time(9), time(17))
    windows = [summer, starting, ending, always]
    # Whatever the day's weekday: 31 May 2026 is a Sunday, 1 June a Monday.
    assert windows_in_force(windows=windows, day=date(2026, 5, 31)) == [ending, always]
    assert windows_in_force(windows=windows, day=date(2026, 6, 1)) == windows
    assert windows_in_force(windows=windows, day=date(2026, 8, 31)) == windows
    assert windows_in_force(windows=windows, day=date(2026, 9, 1)) == [starting, always]


def test_a_window_past_midnight_is_in_force_by_the_day_it_opens() -> None:
    friday, saturday = date(2026, 6, 19), date(2026, 6, 20)
    last_friday = _Window(4, time(20), time(2), closes_next_day=True, valid_to=friday)
    assert windows_in_force(windows=[last_friday], day=friday) == [last_friday]
    assert windows_in_force(windows=[last_friday], day=saturday) == []
    assert is_open(windows=[last_friday], time_zone=EASTERN, at=_local(saturday, 1))
    from_saturday = _Window(4, time(20), time(2), closes_next_day=True, valid_from=saturday)
    assert not is_open(windows=[from_saturday], time_zone=EASTERN, at=_local(saturday, 1))


def test_the_regular_week_groups_weekdays_with_the_same_hours_in_force() -> None:
    windows = [
        _Window(5, time(0), time(23, 59, 59)),
        _Window(2, time(9), time(12)),
        _Window(0, time(9), time(12)),
        _Window(4, time(20), time(2), closes_next_day=True),
        _Window(0, time(13), time(16)),
        _Window(1, time(7), time(9), valid_to=MONDAY - timedelta(days=1)),
    ]
    week = weekly_hours(windows=windows, day=MONDAY)
    assert [(hours.weekdays, str(hours.window)) for hours in week] == [
        ((0, 2), "9:00 AM to 12:00 PM"),
        ((0,), "1:00 PM to 4:00 PM"),
        ((4,), "8:00 PM to 2:00 AM"),
        ((5,), "12:00 AM to 11:59 PM"),
    ]
    assert [(hours.window.all_day, hours.window.closes_next_day) for hours in week[2:]] == [
        (False, True),
        (True, False),
    ]
    assert weekly_hours(windows=[], day=MONDAY) == []
