"""kynect On Demand's service hours: when a help request's clock starts and when to expect a call.

Service hours are a setting (`ONDEMAND_SERVICE_HOURS`), one window per weekday in one time zone
(`ONDEMAND_SERVICE_HOURS_TIME_ZONE`, Eastern by default: Frankfort's). Windows are wall-clock times, so
they stay at 8:00 AM local across daylight saving changes; a requester in Central time is shown the
same instant in their own zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")


@dataclass(frozen=True)
class ServiceDay:
    """One weekday of the service hours: open from `start_minute` to `end_minute` (minutes since local
    midnight; 1440 is midnight)."""

    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class ServiceHours:
    zone: ZoneInfo
    days: tuple[ServiceDay | None, ...]  # Monday first

    def opening_and_closing(self, day: date) -> tuple[datetime, datetime] | None:
        hours = self.days[day.weekday()]
        if hours is None:
            return None
        midnight = datetime.combine(day, time(0))
        opening = (midnight + timedelta(minutes=hours.start_minute)).replace(tzinfo=self.zone)
        closing = (midnight + timedelta(minutes=hours.end_minute)).replace(tzinfo=self.zone)
        return opening, closing


def service_hours_parse(value: str, time_zone: str) -> ServiceHours:
    """'mon=08:00-20:00,...,sun=closed' → ServiceHours. A weekday left out is closed."""
    days: list[ServiceDay | None] = [None] * 7
    for part in filter(None, (item.strip() for item in value.split(","))):
        key, _sep, window = part.partition("=")
        key, window = key.strip().lower(), window.strip().lower()
        if key not in WEEKDAY_KEYS:
            raise ImproperlyConfigured(f"ONDEMAND_SERVICE_HOURS: unknown weekday {key!r}.")
        if window == "closed":
            continue
        match = _WINDOW.match(window)
        start = int(match.group(1)) * 60 + int(match.group(2)) if match else 0
        end = int(match.group(3)) * 60 + int(match.group(4)) if match else 0
        if not match or not start < end <= 24 * 60:
            raise ImproperlyConfigured(
                f"ONDEMAND_SERVICE_HOURS: {key} must be like 08:00-20:00 or closed, not {window!r}."
            )
        days[WEEKDAY_KEYS.index(key)] = ServiceDay(start_minute=start, end_minute=end)
    if not any(days):
        raise ImproperlyConfigured("ONDEMAND_SERVICE_HOURS: open on at least one weekday.")
    return ServiceHours(zone=ZoneInfo(time_zone), days=tuple(days))


@lru_cache(maxsize=8)
def _configured(value: str, time_zone: str) -> ServiceHours:
    return service_hours_parse(value, time_zone)


def service_hours() -> ServiceHours:
    return _configured(settings.ONDEMAND_SERVICE_HOURS, settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE)
