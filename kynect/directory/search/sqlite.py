"""The SQLite backend: the FTS5 table `directory_searchentry_fts` (model `SearchEntryText`) ranked with
bm25, and the place as the squared chord between unit vectors inside a (latitude, longitude) box."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, FloatField, Func, QuerySet

from kynect.core.geo import SquaredChord, bounding_box, chord_for_miles, miles_for_chord
from kynect.directory.models import SearchEntry, SearchEntryText
from kynect.directory.search.base import SearchBackend
from kynect.directory.search.query import COUNT_CAP, Origin, SearchQuery, SortOrder

# bm25 weights of the FTS5 columns: name, categories, organization, description, tags.
BM25_WEIGHTS = "10.0, 8.0, 3.0, 1.0, 0.0"
# In the tags of an entry the search page does not show, so that the full-text table alone can leave
# it out (it ends in a digit, like every tag, so that no stemmer changes it).
UNLISTED_TAG = "unlisted0"


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


class Bm25(Func):
    """FTS5's bm25 rank of the matched row (smaller is better), with kynect's column weights."""

    function = "bm25"
    template = f"%(function)s(%(expressions)s, {BM25_WEIGHTS})"
    output_field = FloatField()


class SqliteSearchBackend(SearchBackend):
    vendor = "sqlite"
    plus = "+"
    table = SearchEntryText._meta.db_table

    def index_write(self, entries: Sequence[SearchEntry]) -> None:
        if not entries:
            return
        # Raw statements: the model declares only what searches read, not the table's columns.
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
                        entry.tags if entry.listed else f"{entry.tags} {UNLISTED_TAG}",
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
        elsewhere = (
            query.origin is not None
            or query.open_at is not None
            or query.open_on is not None
            or query.modified_after is not None
            or query.organization_id is not None
        )
        if elsewhere or not query.words or query.sort is not SortOrder.RELEVANCE:
            return super().matches(query)
        # Words (and tags) alone, best match first: the full-text table finds and ranks the matches,
        # and only equal ranks read the entry's name (then its id), as on PostgreSQL.
        expression = self.match_expression(query)
        if not query.unlisted:
            expression = f"({expression}) NOT (tags : {UNLISTED_TAG})"
        rows = (
            SearchEntryText.objects.filter(document__match=expression)
            .order_by(Bm25(F("document")), "entry__name", "entry_id")
            .values_list("entry_id")[: COUNT_CAP + 1]
        )
        return [tuple(row) for row in rows]

    def near(
        self, entries: QuerySet[SearchEntry], origin: Origin, radius_miles: float | None, *, box: bool = True
    ) -> QuerySet[SearchEntry]:
        # The (latitude, longitude) box is kept whatever `box` says: nothing else narrows the place.
        # The squared chord is arithmetic the SQLite engine runs itself, where trigonometry would call
        # back into Python for every row. The bounding box uses the (latitude, longitude) index.
        entries = entries.annotate(nearness=SquaredChord(origin.latitude, origin.longitude))
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
        for group in query.every_tag_group:
            parts.append("tags : (" + " OR ".join(_fts_phrase(tag) for tag in group) + ")")
        return " AND ".join(parts)

    def text_filter(
        self, entries: QuerySet[SearchEntry], query: SearchQuery, *, words_in_title: bool = False
    ) -> QuerySet[SearchEntry]:
        return entries.filter(
            text__document__match=self.match_expression(query), text__rank__match=f"bm25({BM25_WEIGHTS})"
        ).annotate(rank=F("text__rank"))
