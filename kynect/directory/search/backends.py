"""Search backends: one interface, one implementation per database.

Each backend filters `SearchEntry` rows by words and tags (SQLite's FTS5 table ranked with bm25;
PostgreSQL's generated tsvector columns with GIN indexes ranked with ts_rank), by place (a bounding
box, then the chord between unit vectors, which orders as the haversine distance does) and by opening
hours (semi-joins or correlated probes of the opening windows). ADR 0013 and ADR 0015 explain the
choices; the PostgreSQL backend's nearest-first and best-match paths are the ones tuned for 500,000
services.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import FloatField, QuerySet
from django.db.models.expressions import RawSQL

from kynect.core.geo import box_cells, chord_for_miles, miles_for_chord, unit_vector
from kynect.directory.hours import END_OF_DAY, moment_slot
from kynect.directory.models import SearchEntry
from kynect.directory.search.query import (
    COUNT_CAP,
    Origin,
    SearchHit,
    SearchPage,
    SearchQuery,
    SortOrder,
)

MILES_PER_DEGREE_LATITUDE = 69.0
ZONE_CACHE_SECONDS = 300


def bounding_box(latitude: float, longitude: float, miles: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a box that holds the circle of `miles` around the point."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(latitude)), 0.01)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


@dataclass(frozen=True)
class Sql:
    """A WHERE fragment with its bound parameters."""

    text: str
    params: tuple[object, ...]


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


def _zone_groups(moment: datetime, zones: Iterable[str]) -> dict[datetime, list[str]]:
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
    for local, group in _zone_groups(moment, zones).items():
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
        entries = SearchEntry.objects.all()
        ordering: list[str] = []
        if query.origin is not None:
            entries = self.near(entries, query.origin, query.radius_miles, box=box)
        hours = self.hours_filters(query, correlated=correlated)
        if hours:
            entries = entries.extra(  # noqa: S610 - parameters are bound, the SQL is fixed
                where=[sql.text for sql in hours], params=[param for sql in hours for param in sql.params]
            )
        if query.words or query.tag_groups:
            entries = self.text_filter(entries, query, words_in_title=words_in_title)
        if query.sort is SortOrder.RELEVANCE and query.words:
            ordering.append("rank")
        if query.origin is not None:
            ordering.append("nearness")
        ordering += ["name", "id"]
        return entries, ordering


# bm25 weights of the FTS5 columns: name, categories, organization, description, tags.
BM25_WEIGHTS = "10.0, 8.0, 3.0, 1.0, 0.0"


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


class SqliteSearchBackend(SearchBackend):
    vendor = "sqlite"
    plus = "+"
    table = "directory_searchentry_fts"

    def index_write(self, entries: Sequence[SearchEntry]) -> None:
        if not entries:
            return
        with connection.cursor() as cursor:
            self.index_delete([entry.pk for entry in entries])
            cursor.executemany(
                f"INSERT INTO {self.table} (rowid, name, categories, organization, description, tags) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (
                        entry.pk,
                        entry.name,
                        f"{entry.categories_en} {entry.categories_es}",
                        entry.organization_name,
                        entry.description,
                        entry.tags,
                    )
                    for entry in entries
                ],
            )

    def index_delete(self, entry_ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            for start in range(0, len(entry_ids), 500):
                chunk = list(entry_ids[start : start + 500])
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {self.table} WHERE rowid IN ({marks})", chunk)  # noqa: S608

    def index_clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {self.table}")  # noqa: S608

    def matches(self, query: SearchQuery) -> list[tuple[Any, ...]]:
        elsewhere = query.origin is not None or query.open_at is not None or query.open_on is not None
        if elsewhere or not query.words or query.sort is not SortOrder.RELEVANCE:
            return super().matches(query)
        # Words (and tags) alone, best match first: the full-text table answers by itself, without
        # reading each match's entry (half the cost with thousands of matches). Equal ranks fall back
        # on the id.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {self.table} WHERE {self.table} MATCH %s"  # noqa: S608 - fixed SQL
                f" ORDER BY bm25({self.table}, {BM25_WEIGHTS}), rowid LIMIT %s",
                [self.match_expression(query), COUNT_CAP + 1],
            )
            return [tuple(row) for row in cursor.fetchall()]

    def near(
        self, entries: QuerySet[SearchEntry], origin: Origin, radius_miles: float | None, *, box: bool = True
    ) -> QuerySet[SearchEntry]:
        # The (latitude, longitude) box is kept whatever `box` says: nothing else narrows the place.
        # The squared chord to the origin's unit vector: arithmetic the SQLite engine runs itself,
        # where trigonometry would call back into Python for every row. The bounding box uses the
        # (latitude, longitude) index.
        x, y, z = unit_vector(origin.latitude, origin.longitude)
        entries = entries.annotate(
            nearness=RawSQL(
                "((directory_searchentry.x - %s) * (directory_searchentry.x - %s)"
                " + (directory_searchentry.y - %s) * (directory_searchentry.y - %s)"
                " + (directory_searchentry.z - %s) * (directory_searchentry.z - %s))",
                (x, x, y, y, z, z),
                output_field=FloatField(),
            )
        )
        if radius_miles is None:
            return entries.filter(x__isnull=False)
        south, north, west, east = bounding_box(origin.latitude, origin.longitude, radius_miles)
        return entries.filter(
            latitude__range=(south, north),
            longitude__range=(west, east),
            nearness__lte=chord_for_miles(radius_miles) ** 2,
        )

    def miles(self, nearness: float) -> float:
        return miles_for_chord(math.sqrt(max(nearness, 0.0)))

    def match_expression(self, query: SearchQuery) -> str:
        parts = []
        if query.words:
            words = " AND ".join(_fts_phrase(word) for word in query.words)
            parts.append(f"{{name categories organization description}} : ({words})")
        for group in query.tag_groups:
            parts.append("tags : (" + " OR ".join(_fts_phrase(tag) for tag in group) + ")")
        return " AND ".join(parts)

    def text_filter(
        self, entries: QuerySet[SearchEntry], query: SearchQuery, *, words_in_title: bool = False
    ) -> QuerySet[SearchEntry]:
        return entries.extra(  # noqa: S610 - parameters are bound, the SQL is fixed
            tables=[self.table],
            where=[f"{self.table} MATCH %s", f"{self.table}.rowid = directory_searchentry.id"],
            params=[self.match_expression(query)],
            select={"rank": f"bm25({self.table}, {BM25_WEIGHTS})"},
        )


@contextmanager
def index_walk() -> Iterator[None]:
    """Within this block, PostgreSQL plans without bitmap scans or sorts (restored after).

    The settings are local to the transaction. When this block is the transaction, its end restores
    them; inside someone else's transaction, they are put back by hand."""
    outermost = connection.get_autocommit() and not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_bitmapscan'), current_setting('enable_sort'),"
            " set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
        )
        bitmaps, sorts = cursor.fetchone()[:2]
        try:
            yield
        finally:
            if not outermost:
                cursor.execute(
                    "SELECT set_config('enable_bitmapscan', %s, true), set_config('enable_sort', %s, true)",
                    [bitmaps, sorts],
                )


# Nearest-first searches on PostgreSQL fetch this many entries beyond a full count, so that entries at
# the same place (the same distance) around the cut are all seen.
KNN_SLACK = 50
# Best-match searches on PostgreSQL rank at most this many entries per tier.
RANK_CANDIDATES = 2000


class PostgresSearchBackend(SearchBackend):
    vendor = "postgresql"
    hours_correlated = True
    words_query = (
        "(websearch_to_tsquery('english'::regconfig, %s) || websearch_to_tsquery('spanish'::regconfig, %s))"
    )

    def index_analyze(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE directory_searchentry")

    def near(
        self, entries: QuerySet[SearchEntry], origin: Origin, radius_miles: float | None, *, box: bool = True
    ) -> QuerySet[SearchEntry]:
        # The chord to the origin, by the cube extension's Euclidean distance on the generated
        # `geo_point` column. Its GiST index answers the bounding cube and, when the nearest come
        # first, walks the entries in that order and stops at the page's end. Without `box`, only
        # the chord is tested, on the rows other indexes found (the place cells of `text_filter`).
        point = unit_vector(origin.latitude, origin.longitude)
        entries = entries.annotate(
            nearness=RawSQL(
                "(directory_searchentry.geo_point <-> cube(ARRAY[%s, %s, %s]::float8[]))",
                point,
                output_field=FloatField(),
            )
        )
        if radius_miles is None:
            return entries.filter(x__isnull=False)
        chord = chord_for_miles(radius_miles)
        if not box:
            return entries.filter(nearness__lte=chord)
        return entries.extra(
            where=[
                "directory_searchentry.geo_point"
                " <@ cube(ARRAY[%s, %s, %s]::float8[], ARRAY[%s, %s, %s]::float8[])"
            ],
            params=[*(value - chord for value in point), *(value + chord for value in point)],
        ).filter(nearness__lte=chord)

    def miles(self, nearness: float) -> float:
        return miles_for_chord(nearness)

    def hours_filters(self, query: SearchQuery, *, correlated: bool | None = None) -> list[Sql]:
        """The exact hours, each after its prefilter: the hours of the week the entry must open in
        (`open_slots`, a superset of its real hours, ADR 0019). In a walk of the place index the
        prefilter is tested inside the index, and the exact hours are probed only for what passes."""
        exact = super().hours_filters(query, correlated=correlated)
        slots: list[list[int]] = []
        if query.open_at is not None:
            # The hour of the week in each time zone; an entry matching either is a candidate.
            groups = _zone_groups(query.open_at, entry_time_zones())
            slots.append(sorted({moment_slot(local) for local in groups}))
        if query.open_on is not None:
            first = query.open_on.weekday() * 24
            slots.append(list(range(first, first + 24)))
        prefilters = [
            Sql("directory_searchentry.open_slots && CAST(%s AS integer[])", (hours,)) for hours in slots
        ]
        return [*prefilters, *exact]

    def matches(self, query: SearchQuery) -> list[tuple[Any, ...]]:
        if query.sort is SortOrder.RELEVANCE and query.words:
            return self.best_matches(query)
        if query.origin is None:
            return super().matches(query)
        # Nearest first. Ordered by the distance alone, the GiST index walks the entries nearest
        # first and the scan stops once enough match; ordered by (distance, name, id), the planner
        # sorts every match in the radius instead, tens of thousands in a dense county. So the
        # nearest matches come from the index, a few more than a page needs, and are put in order
        # here; if entries at the same distance straddle the last one fetched, the exact query runs.
        wanted = COUNT_CAP + 1 + KNN_SLACK
        entries, _ordering = self.filtered(query)
        nearest = entries.order_by("nearness").values_list("nearness", "name", "id")[:wanted]  # type: ignore[misc]
        if query.words or query.tag_groups:
            rows = list(nearest)
        else:
            # Only the place and the hours: walk the (place, open slots) index nearest first, which
            # skips what is closed at that hour without reading it, and probe the exact hours of
            # the rest. The planner misjudges how many entries a box holds (a fixed guess for the
            # cube operators) and would rather fetch them all and sort; for this one statement, it
            # may not.
            with index_walk():
                rows = list(nearest)
        return self.in_order(query, rows, wanted)

    def in_order(self, query: SearchQuery, rows: list[tuple[Any, ...]], wanted: int) -> list[tuple[Any, ...]]:
        """(nearness, name, id) rows, nearest first, put in the page's order; the exact query when
        entries at the same distance straddle the last row fetched."""
        if len(rows) == wanted and rows[-1][0] <= rows[COUNT_CAP][0]:
            return super().matches(query)
        rows.sort()
        return [(entry_id, nearness) for nearness, _name, entry_id in rows[: COUNT_CAP + 1]]

    def best_matches(self, query: SearchQuery) -> list[tuple[Any, ...]]:
        """Best match first, in two tiers: entries whose service or category names hold every word,
        then the others (words found in the organization or description). Each tier is ranked by
        ts_rank over at most RANK_CANDIDATES of its entries: a word as common as "food" matches a
        tenth of a large directory, and ranking every match costs far more than the page's time. A
        tier that large is ranked on an arbitrary RANK_CANDIDATES of its matches (ADR 0015)."""
        # Near a place, the place cells in `tag_vector` narrow the place inside the GIN index, and
        # the cube box is left out: with it, the planner intersected a bitmap of every entry in the
        # box, up to half the state's, with the text's (ADR 0020).
        # The first tier asks for the words in the names only: the names are part of the whole
        # document, so asking both made the planner build a second bitmap as large as the first.
        fields = ["rank", "nearness", "name", "id"] if query.origin is not None else ["rank", "name", "id"]
        in_title, _ordering = self.filtered(query, box=False, words_in_title=True)
        named = list(in_title.values_list(*fields)[:RANK_CANDIDATES])
        named.sort()
        rows = named
        if len(named) <= COUNT_CAP:
            entries, _ordering = self.filtered(query, box=False)
            text = " ".join(query.words)
            title = f"directory_searchentry.title_vector @@ {self.words_query}"
            others = list(
                entries.extra(where=[f"NOT ({title})"], params=[text, text]).values_list(*fields)[  # noqa: S610
                    :RANK_CANDIDATES
                ]
            )
            others.sort()
            rows = named + others
        if query.origin is not None:
            return [(row[3], row[1]) for row in rows[: COUNT_CAP + 1]]
        return [(row[2],) for row in rows[: COUNT_CAP + 1]]

    def tags_query(self, query: SearchQuery) -> str:
        """The tag groups, and near a place within a radius the cells that cover its box."""
        groups = [list(group) for group in query.tag_groups]
        if query.origin is not None and query.radius_miles is not None:
            groups.append(
                box_cells(*bounding_box(query.origin.latitude, query.origin.longitude, query.radius_miles))
            )
        return " & ".join("(" + " | ".join(group) + ")" for group in groups)

    def text_filter(
        self, entries: QuerySet[SearchEntry], query: SearchQuery, *, words_in_title: bool = False
    ) -> QuerySet[SearchEntry]:
        where: list[str] = []
        params: list[str] = []
        select: dict[str, str] = {}
        select_params: list[str] = []
        if query.words:
            text = " ".join(query.words)
            # Words are plain terms ANDed (`keyword_words`), and the names are in the document, so a
            # match in the names is a match in the document.
            column = "title_vector" if words_in_title else "document"
            where.append(f"directory_searchentry.{column} @@ {self.words_query}")
            params += [text, text]
            # ts_rank grows with relevance; negate it so that, as on SQLite, smaller ranks first.
            select["rank"] = f"-ts_rank(directory_searchentry.document, {self.words_query})"
            select_params += [text, text]
        tags = self.tags_query(query)
        if tags:
            where.append("directory_searchentry.tag_vector @@ to_tsquery('simple'::regconfig, %s)")
            params.append(tags)
        return entries.extra(  # noqa: S610 - parameters are bound, the SQL is fixed
            where=where, params=params, select=select, select_params=select_params
        )


@cache
def _backend_for(vendor: str) -> SearchBackend:
    backends: dict[str, type[SearchBackend]] = {
        "sqlite": SqliteSearchBackend,
        "postgresql": PostgresSearchBackend,
    }
    if vendor not in backends:
        raise LookupError(f"no search backend for the {vendor} database")
    return backends[vendor]()


def search_backend() -> SearchBackend:
    """The backend for the default database."""
    return _backend_for(connection.vendor)
