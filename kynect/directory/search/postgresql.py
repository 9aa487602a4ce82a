"""The PostgreSQL backend: generated tsvector columns (`document`, `title_vector`, `tag_vector`) with
GIN indexes ranked with ts_rank, and the place as the cube extension's distance on the generated
`geo_point` column with a GiST index. The columns and indexes are created by migrations, not declared
on the model, so conditions on them are `RawSQL` booleans. The nearest-first and best-match paths are
tuned for 500,000 services (ADR 0015, ADR 0020).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import FloatField, QuerySet
from django.db.models.expressions import RawSQL

from kynect.core.geo import bounding_box, box_cells, chord_for_miles, miles_for_chord, unit_vector
from kynect.directory.models import SearchEntry
from kynect.directory.search.base import SearchBackend, Sql, entry_time_zones, zone_groups
from kynect.directory.search.query import COUNT_CAP, Origin, SearchQuery, SortOrder
from kynect.directory.search.slots import moment_slot


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
# Nearest-first searches with words or categories read their matches at once when at most this many.
NEAREST_CANDIDATES = 2000


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
        inside = Sql(
            "directory_searchentry.geo_point"
            " <@ cube(ARRAY[%s, %s, %s]::float8[], ARRAY[%s, %s, %s]::float8[])",
            (*(value - chord for value in point), *(value + chord for value in point)),
        )
        return entries.filter(inside.condition()).filter(nearness__lte=chord)

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
            groups = zone_groups(query.open_at, entry_time_zones())
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
        entries, ordering = self.filtered(query)
        # The columns of the page's order, nearest first (with words, the best match breaks ties).
        nearest = entries.order_by("nearness").values_list(*ordering)[:wanted]
        if query.words or query.tag_groups:
            # Words or categories: when they match few entries in the circle, their indexes find them
            # all at once; otherwise many match, and the walk below stops early.
            few = self.all_if_few(query, ordering)
            if few is not None:
                return self.in_order(query, few, wanted)
        # Walk the (place, open slots) index nearest first, which skips what is closed at that hour
        # without reading it, and test the other conditions on each entry as the walk goes outwards.
        # The planner misjudges how many entries a box holds (a fixed guess for the cube operators) and
        # would rather fetch them all and sort (at 500,000 services, 80,000 entries for a 25-mile
        # circle in Louisville); for this one statement, it may not.
        with index_walk():
            rows = list(nearest)
        return self.in_order(query, rows, wanted)

    def all_if_few(self, query: SearchQuery, fields: list[str]) -> list[tuple[Any, ...]] | None:
        """Every match of a nearest-first search, as rows of `fields`, when there are at most
        NEAREST_CANDIDATES; None when there are more. The place cells in `tag_vector` narrow the place
        inside the GIN index, with the words or categories (ADR 0020)."""
        entries, _ordering = self.filtered(query, box=False)
        rows = list(entries.values_list(*fields)[: NEAREST_CANDIDATES + 1])
        return rows if len(rows) <= NEAREST_CANDIDATES else None

    def in_order(self, query: SearchQuery, rows: list[tuple[Any, ...]], wanted: int) -> list[tuple[Any, ...]]:
        """Rows of the page's order columns (nearness first, id last), nearest first, put in the
        page's order; the exact query when entries at the same distance straddle the last row fetched."""
        if len(rows) == wanted and rows[-1][0] <= rows[COUNT_CAP][0]:
            return super().matches(query)
        rows.sort()
        return [(row[-1], row[0]) for row in rows[: COUNT_CAP + 1]]

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
            not_in_title = Sql(f"NOT ({title})", (text, text))
            others = list(entries.filter(not_in_title.condition()).values_list(*fields)[:RANK_CANDIDATES])
            others.sort()
            rows = named + others
        if query.origin is not None:
            return [(row[3], row[1]) for row in rows[: COUNT_CAP + 1]]
        return [(row[2],) for row in rows[: COUNT_CAP + 1]]

    def tags_query(self, query: SearchQuery) -> str:
        """The tag groups, and near a place within a radius the cells that cover its box."""
        groups = [list(group) for group in query.every_tag_group]
        if query.origin is not None and query.radius_miles is not None:
            groups.append(
                box_cells(*bounding_box(query.origin.latitude, query.origin.longitude, query.radius_miles))
            )
        return " & ".join("(" + " | ".join(group) + ")" for group in groups)

    def text_filter(
        self, entries: QuerySet[SearchEntry], query: SearchQuery, *, words_in_title: bool = False
    ) -> QuerySet[SearchEntry]:
        conditions: list[Sql] = []
        if query.words:
            text = " ".join(query.words)
            # Words are plain terms ANDed (`keyword_words`), and the names are in the document, so a
            # match in the names is a match in the document.
            column = "title_vector" if words_in_title else "document"
            conditions.append(Sql(f"directory_searchentry.{column} @@ {self.words_query}", (text, text)))
            # ts_rank grows with relevance; negate it so that, as on SQLite, smaller ranks first.
            rank = f"-ts_rank(directory_searchentry.document, {self.words_query})"
            entries = entries.annotate(rank=RawSQL(rank, (text, text), output_field=FloatField()))  # noqa: S611
        tags = self.tags_query(query)
        if tags:
            conditions.append(
                Sql("directory_searchentry.tag_vector @@ to_tsquery('simple'::regconfig, %s)", (tags,))
            )
        return entries.filter(*(condition.condition() for condition in conditions))
