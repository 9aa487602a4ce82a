"""What the tests of real concurrency share: they need PostgreSQL's row locks and its connections, and
run work in threads that start together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real row locks and concurrent connections need PostgreSQL"
)


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Runs work(i) in `count` threads that start together, each on its own database connection; the
    result of each, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
