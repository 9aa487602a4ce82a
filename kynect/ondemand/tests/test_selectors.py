"""Availability by switch and schedule in the helper's time zone (DST included), and eligibility reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kynect.ondemand.models import DoiLicence, Helper, ScheduleBreak, ScheduleWindow, TimeOff
from kynect.ondemand.selectors import (
    helper_is_available_at,
    helpers_available_at,
    licence_problems,
    local_weekday_minute,
)
from kynect.ondemand.tests.factories import DoiLicenceFactory, HelperFactory

pytestmark = pytest.mark.django_db

EASTERN = "America/New_York"
CENTRAL = "America/Chicago"
MON, SAT, SUN = 0, 5, 6


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def helper_with(windows, *, time_zone=EASTERN, available=True, breaks=(), time_off=()) -> Helper:
    helper = HelperFactory.create(time_zone=time_zone, is_available=available)
    for weekday, start, end in windows:
        window = ScheduleWindow.objects.create(
            helper=helper, weekday=weekday, start_minute=start, end_minute=end
        )
        for break_start, break_end in breaks:
            ScheduleBreak.objects.create(window=window, start_minute=break_start, end_minute=break_end)
    for starts_at, ends_at in time_off:
        TimeOff.objects.create(helper=helper, starts_at=starts_at, ends_at=ends_at)
    return helper


def available(helper: Helper, at: datetime) -> bool:
    """Both selectors, which must agree: the per-helper check and the one-query filter for routing."""
    one = helper_is_available_at(helper=helper, at=at)
    many = helpers_available_at(at=at, helpers=Helper.objects.filter(pk=helper.pk)).exists()
    assert one == many, f"the two availability selectors disagree at {at}"
    return one


NINE_TO_FIVE = [(MON, 9 * 60, 17 * 60)]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 2, 13, 59), False),  # 8:59 EST
        (utc(2026, 3, 2, 14, 0), True),  # 9:00 EST: the start is included
        (utc(2026, 3, 2, 21, 59, 59), True),  # 16:59:59
        (utc(2026, 3, 2, 22, 0), False),  # 17:00: the end is excluded
        (utc(2026, 3, 9, 13, 0), True),  # 9:00 EDT, the Monday after clocks spring forward
        (utc(2026, 3, 9, 21, 30), False),  # 17:30 EDT (it would be 16:30 in EST)
        (utc(2026, 11, 2, 14, 0), True),  # 9:00 EST, the Monday after clocks fall back
        (utc(2026, 11, 2, 13, 30), False),  # 8:30 EST (it would be 9:30 in EDT)
        (utc(2026, 3, 3, 15, 0), False),  # a Tuesday
    ],
)
def test_a_weekly_window_follows_the_eastern_wall_clock(at, expected):
    assert available(helper_with(NINE_TO_FIVE), at) is expected


def test_a_central_helper_follows_the_central_wall_clock():
    helper = helper_with(NINE_TO_FIVE, time_zone=CENTRAL)
    assert not available(helper, utc(2026, 3, 2, 14, 30))  # 8:30 CST, though 9:30 in Frankfort
    assert available(helper, utc(2026, 3, 2, 15, 0))  # 9:00 CST
    assert available(helper, utc(2026, 3, 2, 22, 30))  # 16:30 CST
    assert not available(helper, utc(2026, 3, 2, 23, 0))  # 17:00 CST


def test_the_weekday_is_the_local_one():
    helper = helper_with([(SUN, 20 * 60, 22 * 60)])
    assert available(helper, utc(2026, 3, 2, 2, 0))  # Monday 02:00 UTC is Sunday 21:00 EST
    assert not available(helper, utc(2026, 3, 1, 21, 0))  # Sunday 21:00 UTC is only 16:00 EST


def test_breaks_are_not_available():
    helper = helper_with(NINE_TO_FIVE, breaks=[(12 * 60, 12 * 60 + 30)])
    assert available(helper, utc(2026, 3, 2, 16, 59))  # 11:59
    assert not available(helper, utc(2026, 3, 2, 17, 0))  # 12:00
    assert not available(helper, utc(2026, 3, 2, 17, 29))  # 12:29
    assert available(helper, utc(2026, 3, 2, 17, 30))  # 12:30


def test_a_window_may_run_to_midnight():
    helper = helper_with([(SAT, 23 * 60, 24 * 60)])
    assert available(helper, utc(2026, 3, 8, 4, 59, 59))  # Saturday 23:59:59 EST
    assert not available(helper, utc(2026, 3, 8, 5, 0))  # Sunday 00:00


def test_on_the_spring_forward_night_the_missing_hour_never_comes():
    # Sunday 8 March 2026: at 2:00 EST clocks jump to 3:00 EDT.
    skipped = helper_with([(SUN, 2 * 60, 3 * 60)])
    assert not available(skipped, utc(2026, 3, 8, 6, 59))  # 1:59 EST
    assert not available(skipped, utc(2026, 3, 8, 7, 0))  # 3:00 EDT
    around = helper_with([(SUN, 1 * 60, 4 * 60)])
    assert available(around, utc(2026, 3, 8, 6, 30))  # 1:30 EST
    assert available(around, utc(2026, 3, 8, 7, 30))  # 3:30 EDT, one real hour later
    assert not available(around, utc(2026, 3, 8, 8, 0))  # 4:00 EDT


def test_on_the_fall_back_night_the_repeated_hour_counts_twice():
    # Sunday 1 November 2026: at 2:00 EDT clocks go back to 1:00 EST.
    helper = helper_with([(SUN, 1 * 60, 2 * 60)])
    assert not available(helper, utc(2026, 11, 1, 4, 59))  # 0:59 EDT
    assert available(helper, utc(2026, 11, 1, 5, 30))  # 1:30 EDT
    assert available(helper, utc(2026, 11, 1, 6, 30))  # 1:30 EST, the second time round
    assert not available(helper, utc(2026, 11, 1, 7, 0))  # 2:00 EST


def test_central_time_changes_an_hour_after_eastern():
    helper = helper_with([(SUN, 1 * 60, 4 * 60)], time_zone=CENTRAL)
    assert available(helper, utc(2026, 3, 8, 7, 30))  # 1:30 CST while Frankfort is already at 3:30 EDT
    assert available(helper, utc(2026, 3, 8, 8, 30))  # 3:30 CDT


def test_time_off_wins_over_the_schedule():
    helper = helper_with(NINE_TO_FIVE, time_off=[(utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 16, 0))])
    assert available(helper, utc(2026, 3, 2, 14, 59))
    assert not available(helper, utc(2026, 3, 2, 15, 0))  # starts: included
    assert not available(helper, utc(2026, 3, 2, 15, 59))
    assert available(helper, utc(2026, 3, 2, 16, 0))  # ends: excluded


def test_time_off_across_days_and_a_dst_change():
    helper = helper_with(
        [(day, 0, 24 * 60) for day in range(7)],
        time_off=[(utc(2026, 3, 6, 5, 0), utc(2026, 3, 10, 4, 0))],
    )
    assert available(helper, utc(2026, 3, 6, 4, 59))
    assert not available(helper, utc(2026, 3, 8, 7, 0))
    assert available(helper, utc(2026, 3, 10, 4, 0))


def test_the_switch_off_means_not_available():
    helper = helper_with([(day, 0, 24 * 60) for day in range(7)], available=False)
    assert not available(helper, utc(2026, 3, 2, 15, 0))


def test_no_schedule_means_not_available():
    assert not available(helper_with([]), utc(2026, 3, 2, 15, 0))


def test_the_filter_for_many_helpers_is_one_query():
    eastern = helper_with(NINE_TO_FIVE)
    central = helper_with(NINE_TO_FIVE, time_zone=CENTRAL)
    helper_with(NINE_TO_FIVE, available=False)
    at = utc(2026, 3, 2, 14, 30)  # 9:30 EST, 8:30 CST
    with CaptureQueriesContext(connection) as queries:
        found = list(helpers_available_at(at=at))
    assert found == [eastern]
    assert len(queries) == 2  # the distinct time zones, then the helpers
    assert central not in found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(0, 1439),
    length=st.integers(1, 600),
    offset_minutes=st.integers(0, 14 * 24 * 60),
    zone=st.sampled_from([EASTERN, CENTRAL]),
)
def test_both_selectors_agree_with_the_wall_clock(start, length, offset_minutes, zone):
    end = min(start + length, 1440)
    helper = helper_with([(day, start, end) for day in range(7)], time_zone=zone)
    at = utc(2026, 2, 28) + timedelta(minutes=offset_minutes)  # two weeks across spring forward
    _weekday, minute = local_weekday_minute(at=at, time_zone=zone)
    assert available(helper, at) is (start <= minute < end)
    helper.delete()


# --- Licence eligibility ---------------------------------------------------------------------------------


def test_an_eligible_licence_has_no_problems():
    assert licence_problems(licence=DoiLicenceFactory.build(), today=date(2026, 3, 2)) == []


def test_every_problem_of_a_licence_is_named():
    licence = DoiLicenceFactory.build(
        status=DoiLicence.Status.SUSPENDED,
        has_health_authority=False,
        certification_completed_on=None,
        email="",
    )
    assert len(licence_problems(licence=licence, today=date(2026, 3, 2))) == 4


def test_a_licence_past_its_expiry_is_not_active():
    licence = DoiLicenceFactory.build(expires_on=date(2026, 3, 1))
    assert licence_problems(licence=licence, today=date(2026, 3, 2)) == [
        "Your licence is not active on the Department of Insurance roster."
    ]
