"""Directory search: a `SearchBackend` per database over the `SearchEntry` index."""

from kynect.directory.search.backends import SearchBackend, search_backend
from kynect.directory.search.index import search_index_update
from kynect.directory.search.query import (
    COUNT_CAP,
    Origin,
    SearchHit,
    SearchPage,
    SearchQuery,
    SortOrder,
    keyword_words,
)

__all__ = [
    "COUNT_CAP",
    "Origin",
    "SearchBackend",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "SortOrder",
    "keyword_words",
    "search_backend",
    "search_index_update",
]
