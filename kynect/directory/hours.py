"""Opening hours: HSDS schedules normalised to weekday windows, and the "today" / "open now" answers.

The HSDS `schedule` rows stay as imported (RRULE fields and all) for import and export fidelity.
`opening_windows_rebuild` derives `OpeningWindow` rows (one per weekday, wall-clock times in the
location's IANA time zone) and `ClosedDay` rows (holiday closures) from them. What a visitor sees,
"Today 8:00 AM to 4:30 PM", "Open 24 hours", "Closed today", and whether a place is open now, is
computed from those rows at display time by the pure functions below and never stored. Which windows
are in force on a date is `windows_in_force` alone, for the cards, the detail page and the APIs.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.functional import lazy
from django.utils.translation import gettext

from kynect.directory import models as hsds

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
MIDNIGHT = time(0, 0)
END_OF_DAY = time(23, 59, 59)
BYDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
# The longest valid_from..valid_to closure turned into closed days, one per date.
MAX_CLOSED_SPAN_DAYS = 366

_SCHEDULE_FIELDS = (
    "id",
    "valid_from",
    "valid_to",
    "dtstart",
    "until",
    "count",
    "freq",
    "interval",
    "byday",
    "byweekno",
    "bymonthday",
    "byyearday",
    "opens_at",
    "closes_at",
    "description",
    "notes",
)


# --- Rebuilding windows from schedules ------------------------------------------------------------


@dataclass(frozen=True)
class RebuildCounts:
    windows: int = 0
    closed_days: int = 0
    skipped: int = 0


def chunked(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """`items` in slices of CHUNK_SIZE, to keep `IN (...)` lists and batches bounded."""
    for start in range(0, len(items), CHUNK_SIZE):
        yield items[start : start + CHUNK_SIZE]


def _is_all_day(opens: time, closes: time) -> bool:
    return opens == MIDNIGHT and (closes == MIDNIGHT or closes >= time(23, 59))


def _is_closure(row: Mapping[str, Any]) -> bool:
    closed_note = str(row["notes"] or "").strip().lower() == "closed"
    return row["valid_from"] is not None and (
        (row["valid_from"] == row["valid_to"] and row["opens_at"] is None)
        or (closed_note and row["valid_to"] is not None)
    )


def _weekly_days(row: Mapping[str, Any]) -> list[int] | None:
    """The weekdays of a plain weekly rule, or None when the rule uses parts kynect cannot show."""
    if str(row["freq"] or "WEEKLY").upper() != "WEEKLY":
        return None
    if row["interval"] not in (None, 1) or row["count"] is not None:
        return None
    if any(str(row[part] or "").strip() for part in ("byweekno", "bymonthday", "byyearday")):
        return None
    if row["opens_at"] is None or row["closes_at"] is None:
        return None
    days: list[int] = []
    for token in str(row["byday"] or "").upper().replace(" ", "").split(","):
        if not token:
            continue
        if token not in BYDAY:  # "1MO", "-1FR": monthly-style positions
            return None
        if BYDAY[token] not in days:
            days.append(BYDAY[token])
    return days or None


def _later(first: date | None, second: date | None) -> date | None:
    return max(first, second) if first and second else first or second


def _earlier(first: date | None, second: date | None) -> date | None:
    return min(first, second) if first and second else first or second


class _Builder:
    def __init__(self) -> None:
        self.windows: list[hsds.OpeningWindow] = []
        self.closed_days: list[hsds.ClosedDay] = []
        self.skipped = 0

    def add(self, row: Mapping[str, Any], location_ids: Iterable[uuid.UUID], service_id: Any) -> None:
        locations = list(location_ids)
        if _is_closure(row):
            first, last = row["valid_from"], row["valid_to"] or row["valid_from"]
            if last < first or (last - first).days > MAX_CLOSED_SPAN_DAYS:
                self.skipped += 1
                return
            reason = str(row["description"] or row["notes"] or "").strip()
            for offset in range((last - first).days + 1):
                for location_id in locations:
                    self.closed_days.append(
                        hsds.ClosedDay(
                            location_id=location_id,
                            service_id=service_id,
                            date=first + timedelta(days=offset),
                            reason=reason,
                            source_schedule_id=row["id"],
                        )
                    )
            return
        days = _weekly_days(row)
        if days is None:
            self.skipped += 1
            return
        opens, closes = row["opens_at"], row["closes_at"]
        next_day = False
        if _is_all_day(opens, closes):
            closes = END_OF_DAY
        elif closes <= opens:
            next_day = True
        valid_from = _later(row["valid_from"], row["dtstart"])
        valid_to = _earlier(row["valid_to"], row["until"])
        for location_id in locations:
            for weekday in days:
                self.windows.append(
                    hsds.OpeningWindow(
                        location_id=location_id,
                        service_id=service_id,
                        weekday=weekday,
                        opens_at=opens,
                        closes_at=closes,
                        closes_next_day=next_day,
                        valid_from=valid_from,
                        valid_to=valid_to,
                        source_schedule_id=row["id"],
                    )
                )


def _rebuild_chunk(location_ids: Sequence[uuid.UUID], builder: _Builder) -> None:
    chunk = set(location_ids)
    # Attached to the location directly.
    for row in hsds.Schedule.objects.filter(location_id__in=location_ids).values(
        *_SCHEDULE_FIELDS, "location_id", "service_id", "service_at_location__service_id"
    ):
        builder.add(row, [row["location_id"]], row["service_id"] or row["service_at_location__service_id"])
    # Attached through a service at location.
    for row in hsds.Schedule.objects.filter(
        location__isnull=True, service_at_location__location_id__in=location_ids
    ).values(*_SCHEDULE_FIELDS, "service_at_location__location_id", "service_at_location__service_id"):
        builder.add(row, [row["service_at_location__location_id"]], row["service_at_location__service_id"])
    # Service-level schedules apply at every location of the service.
    service_locations: dict[uuid.UUID, set[uuid.UUID]] = {}
    for service_id, location_id in hsds.ServiceAtLocation.objects.filter(
        location_id__in=location_ids
    ).values_list("service_id", "location_id"):
        service_locations.setdefault(service_id, set()).add(location_id)
    for services in chunked(sorted(service_locations, key=str)):
        for row in hsds.Schedule.objects.filter(
            location__isnull=True, service_at_location__isnull=True, service_id__in=services
        ).values(*_SCHEDULE_FIELDS, "service_id"):
            where = sorted(service_locations[row["service_id"]] & chunk, key=str)
            builder.add(row, where, row["service_id"])


def opening_windows_rebuild(*, location_ids: Iterable[uuid.UUID] | None = None) -> int:
    """Derive the opening windows and closed days of these locations (all when None) from their
    schedules, replacing what was there. Returns how many windows were written; schedule rows kynect
    cannot express as weekly windows (monthly rules, week numbers, intervals) are skipped and logged."""
    return opening_windows_rebuild_counts(location_ids=location_ids).windows


def opening_windows_rebuild_counts(*, location_ids: Iterable[uuid.UUID] | None = None) -> RebuildCounts:
    """`opening_windows_rebuild`, returning windows, closed days and skipped schedule rows."""
    if location_ids is None:
        ids = list(hsds.Location.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(location_ids), key=str)
    windows = closed_days = skipped = 0
    with transaction.atomic():
        for chunk in chunked(ids):
            hsds.OpeningWindow.objects.filter(location_id__in=chunk).delete()
            hsds.ClosedDay.objects.filter(location_id__in=chunk).delete()
            builder = _Builder()
            _rebuild_chunk(chunk, builder)
            hsds.OpeningWindow.objects.bulk_create(builder.windows, batch_size=CHUNK_SIZE)
            hsds.ClosedDay.objects.bulk_create(builder.closed_days, batch_size=CHUNK_SIZE)
            windows += len(builder.windows)
            closed_days += len(builder.closed_days)
            skipped += builder.skipped
    if skipped:
        logger.info("opening hours: skipped %d schedule rows with rules kynect cannot show", skipped)
    return RebuildCounts(windows=windows, closed_days=closed_days, skipped=skipped)


# --- Display: pure functions over windows ---------------------------------------------------------


class WindowLike(Protocol):
    weekday: int
    opens_at: time
    closes_at: time
    closes_next_day: bool
    valid_from: date | None
    valid_to: date | None


WindowT = TypeVar("WindowT", bound=WindowLike)


class ClosedDayLike(Protocol):
    date: date
    reason: str


def zone(time_zone: str | ZoneInfo | None) -> ZoneInfo:
    """The ZoneInfo for a location's time zone; the site's time zone when blank or unknown."""
    if isinstance(time_zone, ZoneInfo):
        return time_zone
    try:
        return ZoneInfo(time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def format_time(value: time, language: str | None = None) -> str:
    """A wall-clock time as people read it: 8:00 AM in English, 8:00 a. m. in Spanish."""
    language = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    hour = value.hour % 12 or 12
    if language == "es":
        return f"{hour}:{value.minute:02d} {'a. m.' if value.hour < 12 else 'p. m.'}"
    return f"{hour}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


@dataclass(frozen=True)
class Window:
    opens_at: time
    closes_at: time
    closes_next_day: bool = False

    @property
    def all_day(self) -> bool:
        return _is_all_day(self.opens_at, self.closes_at) and not self.closes_next_day

    def __str__(self) -> str:
        return gettext("%(opens)s to %(closes)s") % {
            "opens": format_time(self.opens_at),
            "closes": format_time(self.closes_at),
        }


def _closed_dates(closed_days: Iterable[ClosedDayLike | date]) -> dict[date, str]:
    dates: dict[date, str] = {}
    for closed in closed_days:
        if isinstance(closed, date):
            dates.setdefault(closed, "")
        else:
            dates.setdefault(closed.date, closed.reason)
    return dates


def windows_in_force(*, windows: Iterable[WindowT], day: date) -> list[WindowT]:
    """Of a location's (or a service's own) weekly windows, those valid on `day`, whatever their weekday.
    A window that closes after midnight belongs to the day it opens: its dates are checked against
    that day, not the morning it runs into."""
    return [
        window
        for window in windows
        if (window.valid_from is None or window.valid_from <= day)
        and (window.valid_to is None or day <= window.valid_to)
    ]


def _window(record: WindowLike) -> Window:
    return Window(record.opens_at, record.closes_at, record.closes_next_day)


def _day_windows(windows: Iterable[WindowLike], day: date) -> tuple[Window, ...]:
    found = {_window(w) for w in windows_in_force(windows=windows, day=day) if w.weekday == day.weekday()}
    return tuple(sorted(found, key=lambda w: (w.opens_at, w.closes_at)))


@dataclass(frozen=True)
class WeekdayHours:
    """The weekdays (Monday is 0) that open in the same window."""

    weekdays: tuple[int, ...]
    window: Window


def weekly_hours(*, windows: Iterable[WindowLike], day: date) -> list[WeekdayHours]:
    """The regular week in force on `day`, weekdays with the same hours together, ordered by their first
    weekday. Closed days are dated exceptions and stay out."""
    weekdays: dict[Window, set[int]] = defaultdict(set)
    for record in windows_in_force(windows=windows, day=day):
        weekdays[_window(record)].add(record.weekday)
    ordered = sorted(weekdays.items(), key=lambda item: (min(item[1]), item[0].opens_at, item[0].closes_at))
    return [WeekdayHours(weekdays=tuple(sorted(days)), window=window) for window, days in ordered]


def _hours_text(windows: tuple[Window, ...]) -> str:
    return ", ".join(str(window) for window in windows)


@dataclass(frozen=True)
class DayHours:
    """One day's hours at a location: its windows, or closed (a holiday closure when `closed_reason` is
    set). The detail page's week reads `text`; a card reads `label`, the day's hours as today's."""

    date: date
    windows: tuple[Window, ...]
    holiday: bool = False
    closed_reason: str = ""

    @property
    def closed(self) -> bool:
        return self.holiday or not self.windows

    @property
    def all_day(self) -> bool:
        return not self.holiday and any(window.all_day for window in self.windows)

    @property
    def text(self) -> str:
        if self.closed:
            return gettext("Closed")
        if self.all_day:
            return gettext("Open 24 hours")
        return _hours_text(self.windows)

    def today_text(self) -> str:
        if self.closed:
            return gettext("Closed today")
        if self.all_day:
            return gettext("Open 24 hours")
        return gettext("Today %(hours)s") % {"hours": _hours_text(self.windows)}

    @property
    def label(self) -> str:
        """`today_text`, translated when rendered rather than when computed."""
        return _lazy_today_text(self)


_lazy_today_text = lazy(DayHours.today_text, str)


def _local(moment: datetime, time_zone: str | ZoneInfo | None) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(zone(time_zone))


def _day_hours(windows: Sequence[WindowLike], closed: dict[date, str], day: date) -> DayHours:
    if day in closed:
        return DayHours(date=day, windows=(), holiday=True, closed_reason=closed[day])
    return DayHours(date=day, windows=_day_windows(windows, day))


def hours_today(
    *,
    windows: Iterable[WindowLike],
    closed_days: Iterable[ClosedDayLike | date] = (),
    time_zone: str | ZoneInfo | None,
    now: datetime,
) -> DayHours:
    """The hours of the location's local today (in its time zone), honouring closures and validity."""
    return _day_hours(list(windows), _closed_dates(closed_days), _local(now, time_zone).date())


def is_open(
    *,
    windows: Iterable[WindowLike],
    closed_days: Iterable[ClosedDayLike | date] = (),
    time_zone: str | ZoneInfo | None,
    at: datetime,
) -> bool:
    """Whether the location is open at `at`, including windows that opened the day before and close
    after midnight."""
    local = _local(at, time_zone)
    today, clock = local.date(), local.time().replace(tzinfo=None)
    yesterday = today - timedelta(days=1)
    all_windows = list(windows)
    closed = _closed_dates(closed_days)
    if today not in closed:
        for window in _day_windows(all_windows, today):
            if window.all_day or (
                window.opens_at <= clock and (window.closes_next_day or clock < window.closes_at)
            ):
                return True
    if yesterday not in closed:
        for window in _day_windows(all_windows, yesterday):
            if window.closes_next_day and clock < window.closes_at:
                return True
    return False


@dataclass(frozen=True)
class WeekRow:
    """A row of the hours table: the day's name, its date this week and its hours."""

    weekday: int
    day_name: str
    hours: DayHours
    is_today: bool

    @property
    def text(self) -> str:
        return self.hours.text


def weekly_table(
    *,
    windows: Iterable[WindowLike],
    closed_days: Iterable[ClosedDayLike | date] = (),
    time_zone: str | ZoneInfo | None,
    now: datetime,
) -> list[WeekRow]:
    """Seven rows, Monday to Sunday, for the week containing the location's local today."""
    today = _local(now, time_zone).date()
    monday = today - timedelta(days=today.weekday())
    all_windows = list(windows)
    closed = _closed_dates(closed_days)
    rows = []
    for weekday in range(7):
        day = monday + timedelta(days=weekday)
        rows.append(
            WeekRow(
                weekday=weekday,
                day_name=WEEKDAYS[weekday],
                hours=_day_hours(all_windows, closed, day),
                is_today=day == today,
            )
        )
    return rows


def own_or_location_hours(
    *, windows: Sequence[Any], closed_days: Sequence[Any], service_id: uuid.UUID | None, own: bool
) -> tuple[list[Any], list[Any]]:
    """Of a location's windows and closed days, those that apply to one service there: its own when it
    keeps its own hours (`own`), else the location's."""
    if own:
        return (
            [w for w in windows if w.service_id == service_id],
            [c for c in closed_days if c.service_id in (None, service_id)],
        )
    return [w for w in windows if w.service_id is None], [c for c in closed_days if c.service_id is None]


def hours_records(
    *, location_id: uuid.UUID, service_id: uuid.UUID | None = None
) -> tuple[list[hsds.OpeningWindow], list[hsds.ClosedDay]]:
    """The windows and closed days to show for a location, or for one service there: the service's
    own hours when it has any, else the location's."""
    windows = list(hsds.OpeningWindow.objects.filter(location_id=location_id))
    closed = list(hsds.ClosedDay.objects.filter(location_id=location_id))
    own = service_id is not None and any(w.service_id == service_id for w in windows)
    return own_or_location_hours(windows=windows, closed_days=closed, service_id=service_id, own=own)
