"""The search backend of the default database: one `SearchBackend` per database vendor."""

from __future__ import annotations

from functools import cache

from django.db import connection

from kynect.directory.search.base import SearchBackend, entry_time_zones_forget
from kynect.directory.search.postgresql import PostgresSearchBackend
from kynect.directory.search.sqlite import SqliteSearchBackend

__all__ = ["SearchBackend", "entry_time_zones_forget", "search_backend"]


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
