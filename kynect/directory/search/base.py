"""The search interface and what every backend shares: the opening-hours conditions and the query
that filters and orders `SearchEntry` rows.

A backend adds the full-text part (SQLite's FTS5 table ranked with bm25, `search.sqlite`; PostgreSQL's
generated tsvector columns with GIN indexes ranked with ts_rank, `search.postgresql`) and the place
(the chord between unit vectors, which orders as the great-circle distance does). ADR 0013 and ADR 0015
explain the choices.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from kynect.directory.hours import END_OF_DAY
from kynect.directory.models import SearchEntry
from kynect.directory.search.query import (
    COUNT_CAP,
    Origin,
    SearchHit,
    SearchPage,
    SearchQuery,
    SortOrder,
)

ZONE_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Sql:
    """A WHERE fragment with its bound parameters."""

    text: str
    params: tuple[object, ...]

    def condition(self) -> RawSQL:
        """The fragment as a boolean expression for `QuerySet.filter`."""
        return RawSQL(self.text, self.params, output_field=BooleanField())  # noqa: S611 - bound parameters


def _day(value: date) -> str:
    return value.isoformat()


def _clock(value: time) -> str:
    return value.replace(microsecond=0).isoformat()


# A window valid on a date whose location is not closed that date. Shared hours honour location-wide
# closures; a service's own hours its own closures too.
_VALID = "(w.valid_from IS NULL OR w.valid_from <= %s) AND (w.valid_to IS NULL OR w.valid_to >= %s)"
_NOT_CLOSED = (
    "w.location_id NOT IN (SELECT c.location_id FROM directory_closedday c"
    " WHERE c.date = %s AND c.service_id IS NULL)"
)
_OWN_NOT_CLOSED = (
    "(w.location_id, w.service_id) NOT IN (SELECT c.location_id, c.service_id FROM directory_closedday c"
    " WHERE c.date = %s AND c.service_id IS NOT NULL)"
)


def _window_part(condition: Sql, day: date, own: bool) -> Sql:
    text = f"({condition.text} AND {_VALID} AND {_NOT_CLOSED}"
    params = [*condition.params, _day(day), _day(day), _day(day)]
    if own:
        text += f" AND {_OWN_NOT_CLOSED}"
        params.append(_day(day))
    return Sql(text + ")", tuple(params))


def _hours_match(conditions: Sequence[tuple[Sql, date]], plus: str) -> Sql:
    """Entries with an opening window meeting one of `conditions`, each a (window condition, the local
    date it applies to) pair: the service's own windows when it keeps its own hours there, else its
    location's.

    Semi-joins: the locations (and the services with hours of their own) open as asked are found once
    per condition, through the (service, weekday, opens_at) index, and each entry is then a lookup in
    that set, where a correlated subquery would read every candidate's week of windows. `plus` is "+"
    on SQLite, which keeps its planner from driving the search from these sets instead of the other
    filters. Hand-written rather than built with the ORM: compiling the equivalent Q tree cost several
    times more than running it."""
    location = f"{plus}directory_searchentry.location_id"
    service = f"{plus}directory_searchentry.service_id"
    shared, own = [], []
    for condition, day in conditions:
        shared.append(_window_part(condition, day, own=False))
        own.append(_window_part(condition, day, own=True))
    shared_text = " OR ".join(
        f"{location} IN (SELECT w.location_id FROM directory_openingwindow w"  # noqa: S608 - fixed SQL
        f" WHERE w.service_id IS NULL AND {part.text})"
        for part in shared
    )
    own_text = " OR ".join(
        f"({location}, {service}) IN (SELECT w.location_id, w.service_id"  # noqa: S608 - fixed SQL
        f" FROM directory_openingwindow w WHERE w.service_id IS NOT NULL AND {part.text})"
        for part in own
    )
    text = (
        f"((NOT directory_searchentry.own_hours AND ({shared_text}))"
        f" OR (directory_searchentry.own_hours AND ({own_text})))"
    )
    return Sql(text, tuple(param for part in (*shared, *own) for param in part.params))


def _hours_exists(conditions: Sequence[tuple[Sql, date]]) -> Sql:
    """As `_hours_match`, as a correlated subquery per entry: each candidate probes its location's
    windows through the (location, weekday) index. PostgreSQL walks the entries nearest first and
    stops at a page's end, so it asks this of a few hundred entries, where building the sets of
    everything open in the state would read tens of thousands of windows."""
    shared = [_window_part(condition, day, own=False) for condition, day in conditions]
    own = [_window_part(condition, day, own=True) for condition, day in conditions]
    text = (
        "((NOT directory_searchentry.own_hours AND EXISTS (SELECT 1 FROM directory_openingwindow w"  # noqa: S608
        " WHERE w.location_id = directory_searchentry.location_id AND w.service_id IS NULL"
        f" AND ({' OR '.join(part.text for part in shared)})))"
        " OR (directory_searchentry.own_hours AND EXISTS (SELECT 1 FROM directory_openingwindow w"
        " WHERE w.location_id = directory_searchentry.location_id"
        " AND w.service_id = directory_searchentry.service_id"
        f" AND ({' OR '.join(part.text for part in own)}))))"
    )
    return Sql(text, tuple(param for part in (*shared, *own) for param in part.params))


def _hours(conditions: Sequence[tuple[Sql, date]], plus: str, correlated: bool) -> Sql:
    return _hours_exists(conditions) if correlated else _hours_match(conditions, plus)


def zone_groups(moment: datetime, zones: Iterable[str]) -> dict[datetime, list[str]]:
    """Time zones grouped by their wall-clock time at `moment` (Kentucky's zones are really two)."""
    groups: dict[datetime, list[str]] = {}
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        groups.setdefault(local, []).append(zone)
    return groups


def open_at_filter(moment: datetime, zones: Iterable[str], plus: str = "", correlated: bool = False) -> Sql:
    """Entries open at `moment`, each judged in its own time zone; windows that opened yesterday and
    close after midnight count."""
    texts: list[str] = []
    params: list[object] = []
    for local, group in zone_groups(moment, zones).items():
        today, clock = local.date(), _clock(local.time())
        yesterday = today - timedelta(days=1)
        opened_today = Sql(
            "w.weekday = %s AND w.opens_at <= %s"
            " AND (w.closes_next_day OR w.closes_at > %s OR w.closes_at = %s)",
            (today.weekday(), clock, clock, _clock(END_OF_DAY)),
        )
        opened_yesterday = Sql(
            "w.weekday = %s AND w.closes_next_day AND w.closes_at > %s", (yesterday.weekday(), clock)
        )
        match = _hours([(opened_today, today), (opened_yesterday, yesterday)], plus, correlated)
        marks = ", ".join(["%s"] * len(group))
        texts.append(f"(directory_searchentry.time_zone IN ({marks}) AND {match.text})")
        params += [*group, *match.params]
    return Sql(f"({' OR '.join(texts) or '1 = 0'})", tuple(params))


def open_on_filter(day: date, plus: str = "", correlated: bool = False) -> Sql:
    """Entries with opening hours on `day` (a local date) that are not closed that day."""
    return _hours([(Sql("w.weekday = %s", (day.weekday(),)), day)], plus, correlated)


_zones_cache: tuple[float, tuple[str, ...]] | None = None


def entry_time_zones() -> tuple[str, ...]:
    """The time zones the index holds, cached for a few minutes per process."""
    global _zones_cache
    now = _time.monotonic()
    if _zones_cache is None or now - _zones_cache[0] > ZONE_CACHE_SECONDS:
        zones = SearchEntry.objects.order_by().values_list("time_zone", flat=True).distinct()
        _zones_cache = (now, tuple(sorted(zone for zone in zones if zone)))
    return _zones_cache[1]


def entry_time_zones_forget() -> None:
    global _zones_cache
    _zones_cache = None


class SearchBackend:
    """The interface: index writes and searches. Subclasses supply the full-text part."""

    vendor = ""
    # Check opening hours with a correlated subquery per entry rather than with semi-joins.
    hours_correlated = False
    # Put before a column in a condition that must not choose the index (SQLite's unary plus).
    plus = ""

    def index_write(self, entries: Sequence[SearchEntry]) -> None:
        """Index these freshly saved entries (their ids are set)."""

    def index_delete(self, entry_ids: Sequence[int]) -> None:
        """Forget these entries."""

    def index_clear(self) -> None:
        """Forget every entry."""

    def index_analyze(self) -> None:
        """Refresh the query planner's statistics after many writes."""

    def text_filter(
        self, entries: QuerySet[SearchEntry], query: SearchQuery, *, words_in_title: bool = False
    ) -> QuerySet[SearchEntry]:
        """Keep the entries matching the words and tags, with a `rank` where smaller is better. With
        `words_in_title`, the words must be in the service's or its categories' names (PostgreSQL's
        first tier of best matches; other backends do not ask for it)."""
        raise NotImplementedError

    def near(
        self, entries: QuerySet[SearchEntry], origin: Origin, radius_miles: float | None, *, box: bool = True
    ) -> QuerySet[SearchEntry]:
        """Keep the entries within `radius_miles` of `origin` (any distance when None), annotated with
        `nearness`, a number that orders them nearest first and that `miles` turns into miles. With
        `box` false, a backend may leave out the bounding box its place index answers, when another
        index narrows the place instead."""
        raise NotImplementedError

    def miles(self, nearness: float) -> float:
        raise NotImplementedError

    def search(self, query: SearchQuery) -> SearchPage:
        rows = self.matches(query)
        hits = [
            SearchHit(entry_id=row[0], distance_miles=self.miles(row[1]) if len(row) > 1 else None)
            for row in rows[:COUNT_CAP][query.offset : query.offset + query.limit]
        ]
        return SearchPage(total=min(len(rows), COUNT_CAP), total_is_capped=len(rows) > COUNT_CAP, hits=hits)

    def matches(self, query: SearchQuery) -> list[tuple[Any, ...]]:
        """The first COUNT_CAP + 1 matches in order, as (id,) or, searching near a place, (id, nearness).
        One query gives both the count and the page (the last page offered ends at COUNT_CAP)."""
        entries, ordering = self.filtered(query)
        fields = ["id", "nearness"] if query.origin is not None else ["id"]
        return list(entries.order_by(*ordering).values_list(*fields)[: COUNT_CAP + 1])

    def hours_filters(self, query: SearchQuery, *, correlated: bool | None = None) -> list[Sql]:
        """The opening-hours conditions of `query`, each checked one way or the other (the backend's
        default unless `correlated` says)."""
        style = self.hours_correlated if correlated is None else correlated
        hours = []
        if query.open_at is not None:
            hours.append(open_at_filter(query.open_at, entry_time_zones(), self.plus, style))
        if query.open_on is not None:
            hours.append(open_on_filter(query.open_on, self.plus, style))
        return hours

    def filtered(
        self,
        query: SearchQuery,
        *,
        correlated: bool | None = None,
        box: bool = True,
        words_in_title: bool = False,
    ) -> tuple[QuerySet[SearchEntry], list[str]]:
        """The entries matching every filter of `query`, and the ordering it asks for."""
        entries = (SearchEntry.every if query.unlisted else SearchEntry.objects).all()
        ordering: list[str] = []
        if query.modified_after is not None:
            entries = entries.filter(service__last_modified__gte=query.modified_after)
        if query.organization_id is not None:
            entries = entries.filter(organization_id=query.organization_id)
        if query.origin is not None:
            entries = self.near(entries, query.origin, query.radius_miles, box=box)
        hours = self.hours_filters(query, correlated=correlated)
        if hours:
            entries = entries.filter(*(sql.condition() for sql in hours))
        if query.words or query.every_tag_group:
            entries = self.text_filter(entries, query, words_in_title=words_in_title)
        if query.sort is SortOrder.RELEVANCE and query.words:
            ordering.append("rank")
        if query.origin is not None:
            ordering.append("nearness")
            if query.sort is SortOrder.DISTANCE and query.words:
                ordering.append("rank")
        ordering += ["name", "id"]
        return entries, ordering
