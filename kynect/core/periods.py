"""The periods every dashboard and report counts over: whole days on Kentucky's clock.

Kentucky's western counties keep Central time, but the platform counts days, months and years on one clock,
America/New_York (DESIGN §5.7): an event at 23:30 Central on the last day of a month happened at 00:30
Eastern, in the next month. Each page that shows a period says so.

A `Period` is the days `first` to `last` inclusive, and the UTC instants [start, end) that hold them.
`period_named` gives today, the last 7 or 30 days, this month and this year; `period_between` a chosen range;
`month_period` one calendar month (the incentive report's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext_lazy as _

KENTUCKY = ZoneInfo("America/New_York")
KENTUCKY_CLOCK_NAME = "America/New_York"


class PeriodKey(models.TextChoices):
    TODAY = "today", _("Today")
    WEEK = "week", _("Last 7 days")
    LAST_30_DAYS = "30days", _("Last 30 days")
    MONTH = "month", _("This month")
    YEAR = "year", _("This year")
    RANGE = "range", _("Chosen dates")


@dataclass(frozen=True)
class Period:
    """Whole days on Kentucky's clock, `first` to `last` inclusive."""

    key: str
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return kentucky_midnight(self.first)

    @property
    def end(self) -> datetime:
        return kentucky_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(
            self.first + timedelta(days=offset) for offset in range((self.last - self.first).days + 1)
        )

    @property
    def label(self) -> str:
        return str(PeriodKey(self.key).label)


@dataclass(frozen=True)
class Window:
    """Instants [start, end) that are not whole days: a rolling window such as the last 24 hours."""

    start: datetime
    end: datetime


def kentucky_midnight(day: date) -> datetime:
    """The instant (UTC) a day begins on Kentucky's clock."""
    return datetime.combine(day, time(0), tzinfo=KENTUCKY).astimezone(UTC)


def kentucky_today(now: datetime) -> date:
    return now.astimezone(KENTUCKY).date()


def period_named(*, key: str, now: datetime) -> Period:
    """The named period that holds today; an unknown key (or "range", which needs dates) means today."""
    today = kentucky_today(now)
    if key == PeriodKey.WEEK:
        return Period(key=key, first=today - timedelta(days=6), last=today)
    if key == PeriodKey.LAST_30_DAYS:
        return Period(key=key, first=today - timedelta(days=29), last=today)
    if key == PeriodKey.MONTH:
        return Period(key=key, first=today.replace(day=1), last=today)
    if key == PeriodKey.YEAR:
        return Period(key=key, first=today.replace(month=1, day=1), last=today)
    return Period(key=PeriodKey.TODAY, first=today, last=today)


def period_between(*, first: date, last: date) -> Period:
    """A chosen range of days, `first` to `last` inclusive."""
    if last < first:
        raise ValueError("A period's last day must not come before its first.")
    return Period(key=PeriodKey.RANGE, first=first, last=last)


def month_period(*, year: int, month: int) -> Period:
    """One whole calendar month."""
    first = date(year, month, 1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(key=PeriodKey.RANGE, first=first, last=following - timedelta(days=1))


def month_before(day: date) -> date:
    """The first day of the month before `day`'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)
