"""Search backends: one interface, one implementation per database.

The filters every backend shares (distance, opening hours) are ORM expressions over `SearchEntry`;
only the full-text part differs: SQLite's FTS5 table ranked with bm25, PostgreSQL's generated
tsvector columns with GIN indexes ranked with ts_rank. Distance is a bounding-box prefilter on the
(latitude, longitude) index, then the haversine formula in SQL.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import FloatField, QuerySet
from django.db.models.expressions import RawSQL

from kynect.core.geo import EARTH_RADIUS_MILES
from kynect.directory.hours import END_OF_DAY
from kynect.directory.models import SearchEntry
from kynect.directory.search.query import COUNT_CAP, SearchHit, SearchPage, SearchQuery, SortOrder

MILES_PER_DEGREE_LATITUDE = 69.0
ZONE_CACHE_SECONDS = 300


def bounding_box(latitude: float, longitude: float, miles: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a box that holds the circle of `miles` around the point."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(latitude)), 0.01)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


_HAVERSINE = (
    "(%s * ASIN(SQRT(POWER(SIN((RADIANS(directory_searchentry.latitude) - %s) / 2), 2)"
    " + %s * COS(RADIANS(directory_searchentry.latitude))"
    " * POWER(SIN((RADIANS(directory_searchentry.longitude) - %s) / 2), 2))))"
)


def distance_expression(latitude: float, longitude: float) -> RawSQL:
    """Great-circle miles from the point to the entry's coordinates (haversine). Fixed SQL with bound
    parameters: the same formula as ORM functions cost more to build and compile than to run."""
    return RawSQL(  # noqa: S611 - fixed SQL, bound parameters
        _HAVERSINE,
        (
            2 * EARTH_RADIUS_MILES,
            math.radians(latitude),
            math.cos(math.radians(latitude)),
            math.radians(longitude),
        ),
        output_field=FloatField(),
    )


@dataclass(frozen=True)
class Sql:
    """A WHERE fragment with its bound parameters."""

    text: str
    params: tuple[object, ...]


def _day(value: date) -> str:
    return value.isoformat()


def _clock(value: time) -> str:
    return value.replace(microsecond=0).isoformat()


# A window that is valid on a date and whose location is not closed that date. `{service}` restricts
# the closed days: shared hours honour location-wide closures, a service's own hours its own too.
_VALID_AND_NOT_CLOSED = (
    "(w.valid_from IS NULL OR w.valid_from <= %s) AND (w.valid_to IS NULL OR w.valid_to >= %s)"
    " AND w.location_id NOT IN (SELECT c.location_id FROM directory_closedday c"
    " WHERE c.date = %s AND {service})"
)
_SHARED_CLOSURE = "c.service_id IS NULL"
_OWN_CLOSURE = "(c.service_id IS NULL OR c.service_id = directory_searchentry.service_id)"


def _window_part(condition: Sql, day: date, closure: str) -> Sql:
    return Sql(
        f"({condition.text} AND {_VALID_AND_NOT_CLOSED.format(service=closure)})",
        (*condition.params, _day(day), _day(day), _day(day)),
    )


def _hours_match(conditions: Sequence[tuple[Sql, date]]) -> Sql:
    """Entries with an opening window meeting one of `conditions`, each a (window condition, the local
    date it applies to) pair: the service's own windows when it keeps its own hours there, else its
    location's. One correlated EXISTS per entry, probing the (location, weekday) index; the locations
    closed on a date (a short list, except on holidays) are an uncorrelated subquery run once.

    Hand-written rather than built with the ORM: compiling the equivalent Q tree cost several times
    more than running it."""
    texts, params = [], []
    for label, owner, closure in (
        ("NOT directory_searchentry.own_hours", "w.service_id IS NULL", _SHARED_CLOSURE),
        ("directory_searchentry.own_hours", "w.service_id = directory_searchentry.service_id", _OWN_CLOSURE),
    ):
        parts = [_window_part(condition, day, closure) for condition, day in conditions]
        texts.append(
            f"({label} AND EXISTS (SELECT 1 FROM directory_openingwindow w"  # noqa: S608 - fixed SQL
            f" WHERE w.location_id = directory_searchentry.location_id AND {owner}"
            f" AND ({' OR '.join(part.text for part in parts)})))"
        )
        params += [param for part in parts for param in part.params]
    return Sql(f"({' OR '.join(texts)})", tuple(params))


def _zone_groups(moment: datetime, zones: Iterable[str]) -> dict[datetime, list[str]]:
    """Time zones grouped by their wall-clock time at `moment` (Kentucky's zones are really two)."""
    groups: dict[datetime, list[str]] = {}
    for zone in zones:
        local = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        groups.setdefault(local, []).append(zone)
    return groups


def open_at_filter(moment: datetime, zones: Iterable[str]) -> Sql:
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
        match = _hours_match([(opened_today, today), (opened_yesterday, yesterday)])
        marks = ", ".join(["%s"] * len(group))
        texts.append(f"(directory_searchentry.time_zone IN ({marks}) AND {match.text})")
        params += [*group, *match.params]
    return Sql(f"({' OR '.join(texts) or '1 = 0'})", tuple(params))


def open_on_filter(day: date) -> Sql:
    """Entries with opening hours on `day` (a local date) that are not closed that day."""
    return _hours_match([(Sql("w.weekday = %s", (day.weekday(),)), day)])


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

    def index_write(self, entries: Sequence[SearchEntry]) -> None:
        """Index these freshly saved entries (their ids are set)."""

    def index_delete(self, entry_ids: Sequence[int]) -> None:
        """Forget these entries."""

    def index_clear(self) -> None:
        """Forget every entry."""

    def index_analyze(self) -> None:
        """Refresh the query planner's statistics after many writes."""

    def text_filter(self, entries: QuerySet[SearchEntry], query: SearchQuery) -> QuerySet[SearchEntry]:
        """Keep the entries matching the words and tags, with a `rank` where smaller is better."""
        raise NotImplementedError

    def search(self, query: SearchQuery) -> SearchPage:
        entries = SearchEntry.objects.all()
        ordering: list[str] = []
        if query.origin is not None:
            latitude, longitude = query.origin.latitude, query.origin.longitude
            entries = entries.annotate(distance=distance_expression(latitude, longitude))
            if query.radius_miles is not None:
                south, north, west, east = bounding_box(latitude, longitude, query.radius_miles)
                entries = entries.filter(
                    latitude__range=(south, north),
                    longitude__range=(west, east),
                    distance__lte=query.radius_miles,
                )
            else:
                entries = entries.filter(latitude__isnull=False)
        hours = []
        if query.open_at is not None:
            hours.append(open_at_filter(query.open_at, entry_time_zones()))
        if query.open_on is not None:
            hours.append(open_on_filter(query.open_on))
        if hours:
            entries = entries.extra(  # noqa: S610 - parameters are bound, the SQL is fixed
                where=[sql.text for sql in hours], params=[param for sql in hours for param in sql.params]
            )
        if query.words or query.tag_groups:
            entries = self.text_filter(entries, query)
        if query.sort is SortOrder.RELEVANCE and query.words:
            ordering.append("rank")
        if query.origin is not None:
            ordering.append("distance")
        ordering += ["name", "id"]
        # One query: the ids of the first COUNT_CAP + 1 matches, in order. It gives both the count and
        # the page (the last page offered ends at COUNT_CAP), and costs the database about what the
        # page alone would, since it must order every match either way.
        fields = ["id", "distance"] if query.origin is not None else ["id"]
        rows = list(entries.order_by(*ordering).values_list(*fields)[: COUNT_CAP + 1])
        hits = [
            SearchHit(entry_id=row[0], distance_miles=row[1] if len(row) > 1 else None)
            for row in rows[:COUNT_CAP][query.offset : query.offset + query.limit]
        ]
        return SearchPage(total=min(len(rows), COUNT_CAP), total_is_capped=len(rows) > COUNT_CAP, hits=hits)


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


class SqliteSearchBackend(SearchBackend):
    vendor = "sqlite"
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

    def match_expression(self, query: SearchQuery) -> str:
        parts = []
        if query.words:
            words = " AND ".join(_fts_phrase(word) for word in query.words)
            parts.append(f"{{name categories organization description}} : ({words})")
        for group in query.tag_groups:
            parts.append("tags : (" + " OR ".join(_fts_phrase(tag) for tag in group) + ")")
        return " AND ".join(parts)

    def text_filter(self, entries: QuerySet[SearchEntry], query: SearchQuery) -> QuerySet[SearchEntry]:
        return entries.extra(  # noqa: S610 - parameters are bound, the SQL is fixed
            tables=[self.table],
            where=[f"{self.table} MATCH %s", f"{self.table}.rowid = directory_searchentry.id"],
            params=[self.match_expression(query)],
            select={"rank": f"bm25({self.table}, 10.0, 8.0, 3.0, 1.0, 0.0)"},
        )


class PostgresSearchBackend(SearchBackend):
    vendor = "postgresql"
    words_query = (
        "(websearch_to_tsquery('english'::regconfig, %s) || websearch_to_tsquery('spanish'::regconfig, %s))"
    )

    def index_analyze(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE directory_searchentry")

    def tags_query(self, query: SearchQuery) -> str:
        return " & ".join("(" + " | ".join(group) + ")" for group in query.tag_groups)

    def text_filter(self, entries: QuerySet[SearchEntry], query: SearchQuery) -> QuerySet[SearchEntry]:
        where: list[str] = []
        params: list[str] = []
        select: dict[str, str] = {}
        select_params: list[str] = []
        if query.words:
            text = " ".join(query.words)
            where.append(f"directory_searchentry.document @@ {self.words_query}")
            params += [text, text]
            # ts_rank grows with relevance; negate it so that, as on SQLite, smaller ranks first.
            select["rank"] = f"-ts_rank(directory_searchentry.document, {self.words_query})"
            select_params += [text, text]
        if query.tag_groups:
            where.append("directory_searchentry.tag_vector @@ to_tsquery('simple'::regconfig, %s)")
            params.append(self.tags_query(query))
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
