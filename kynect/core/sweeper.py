"""The deadline sweeper's registry.

Deadlines live as columns on domain rows. Each app registers a handler that finds its due rows,
claims them (`select_for_update(skip_locked=True)` where the database supports it) and applies the
transition with a conditional update, so running it twice, or in two workers at once, changes
nothing the second time. The worker calls `sweep_once` in a loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from kynect.core import clock
from kynect.core.logging import log_context

logger = logging.getLogger(__name__)


class SweepHandler(Protocol):
    def __call__(self, *, now: datetime) -> int: ...


_handlers: dict[str, SweepHandler] = {}


def register(name: str) -> Callable[[SweepHandler], SweepHandler]:
    """Register `handler(now=...) -> rows handled` under a unique name."""

    def decorator(handler: SweepHandler) -> SweepHandler:
        existing = _handlers.get(name)
        if existing is not None and existing is not handler:
            raise ValueError(f"A sweep handler named {name!r} is already registered.")
        _handlers[name] = handler
        return handler

    return decorator


def handlers() -> dict[str, SweepHandler]:
    return dict(_handlers)


def sweep_once(*, now: datetime | None = None) -> dict[str, int]:
    """Run every handler once. A failing handler is logged and does not stop the others."""
    results: dict[str, int] = {}
    for name, handler in sorted(_handlers.items()):
        with log_context(sweep=name):
            try:
                results[name] = handler(now=now or clock.now())
            except Exception:
                logger.exception("Sweep handler %s failed", name)
                results[name] = -1
    return results
