"""Lifecycles: a declarative table of each stateful model's states and allowed transitions (DESIGN §5.6a,
ADR 0021).

A transition is applied as ONE conditional UPDATE: `WHERE pk = … AND status IN (its sources)` plus the
caller's guards (a deadline not passed, a helper still the one accepted), setting the new status, the
transition's side fields and `updated_at` together. The row count says whether it won: a second request,
worker or sweeper racing for the same row finds the status already moved and changes nothing. The
timeline event, when the model keeps one, is written in the same transaction, only for rows that moved.

`apply` moves one row and copies the written values onto the caller's instance, so callers need no
`refresh_from_db`; `apply_all` moves every row of a queryset (rows locked first where the database can,
so the events match the rows that moved). Nothing outside this module writes a status: a test reads
`LIFECYCLES` and scans the code for any other write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.db.models.expressions import Combinable

# Builds the timeline rows of a transition: (the transition, the ids of the rows that moved, when, the
# caller's event details, with `instance` when one row moved by `apply`). Returns unsaved model
# instances, written with one bulk insert.
EventWriter = Callable[["Transition", Sequence[Any], datetime, Mapping[str, Any]], list[models.Model]]


class _Now:
    def __repr__(self) -> str:
        return "NOW"


# In a transition's `sets`: the time the transition is applied.
NOW: Any = _Now()


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    # Side fields every application of this transition sets, besides any the caller passes.
    sets: Mapping[str, Any] = field(default_factory=dict)


class TransitionNotAllowedError(ValueError):
    """A transition name the lifecycle does not have."""


class Lifecycle:
    """The states and transitions of one model's `field` (by default `status`)."""

    def __init__(
        self,
        *,
        model: type[models.Model],
        states: Iterable[str],
        initial: str,
        transitions: Iterable[Transition],
        field: str = "status",
        event: EventWriter | None = None,
    ) -> None:
        self.model = model
        self.states = frozenset(states)
        self.initial = initial
        self.field = field
        self.event = event
        self.transitions = {transition.name: transition for transition in transitions}
        for transition in self.transitions.values():
            unknown = {*transition.sources, transition.target} - self.states
            if unknown:
                raise ValueError(f"{model.__name__}.{transition.name}: unknown states {sorted(unknown)}")
        if initial not in self.states:
            raise ValueError(f"{model.__name__}: unknown initial state {initial!r}")
        self._timestamped = any(f.name == "updated_at" for f in model._meta.concrete_fields)
        LIFECYCLES.append(self)

    def __getitem__(self, name: str) -> Transition:
        try:
            return self.transitions[name]
        except KeyError:
            raise TransitionNotAllowedError(f"{self.model.__name__} has no transition {name!r}") from None

    def _values(self, transition: Transition, now: datetime, values: Mapping[str, Any]) -> dict[str, Any]:
        written: dict[str, Any] = {
            name: now if value is NOW else value for name, value in {**transition.sets, **values}.items()
        }
        written[self.field] = transition.target
        if self._timestamped:
            written.setdefault("updated_at", now)
        return written

    def apply(
        self,
        name: str,
        *,
        instance: models.Model,
        now: datetime,
        where: Q | None = None,
        values: Mapping[str, Any] | None = None,
        event: Mapping[str, Any] | None = None,
    ) -> bool:
        """Move `instance`'s row by transition `name` if it is in one of the sources and meets `where`.

        On success the written values are set on `instance` (not expressions such as `F("attempts") + 1`:
        read those back if needed) and the event is recorded; returns whether the row moved.
        """
        transition = self[name]
        written = self._values(transition, now, values or {})
        rows = self.model._default_manager.filter(
            Q(pk=instance.pk, **{f"{self.field}__in": transition.sources}) & (where or Q())
        )
        if self.event is None:
            moved = rows.update(**written)  # one statement: no transaction of its own needed
        else:
            with transaction.atomic(savepoint=False):
                moved = rows.update(**written)
                if moved:
                    self._record(transition, [instance.pk], now, {"instance": instance, **(event or {})})
        if moved:
            for attribute, value in written.items():
                if not isinstance(value, Combinable):
                    setattr(instance, attribute, value)
        return bool(moved)

    def apply_all(
        self,
        name: str,
        *,
        queryset: models.QuerySet[Any],
        now: datetime,
        values: Mapping[str, Any] | None = None,
        event: Mapping[str, Any] | None = None,
    ) -> int:
        """Move every row of `queryset` that is in one of the sources; returns how many moved.

        Call it inside a transaction. The rows are locked first where the database can lock rows (SQLite
        has one writer), so the events written are those of exactly the rows that moved.
        """
        transition = self[name]
        written = self._values(transition, now, values or {})
        candidates = queryset.filter(**{f"{self.field}__in": transition.sources})
        if transaction.get_connection().features.has_select_for_update:
            candidates = candidates.select_for_update()
        ids = list(candidates.values_list("pk", flat=True))
        if not ids:
            return 0
        moved = self.model._default_manager.filter(
            pk__in=ids, **{f"{self.field}__in": transition.sources}
        ).update(**written)
        self._record(transition, ids, now, event or {})
        return int(moved)

    def _record(
        self, transition: Transition, ids: Sequence[Any], now: datetime, details: Mapping[str, Any]
    ) -> None:
        if self.event is None:
            return
        rows = self.event(transition, ids, now, details)
        if rows:
            type(rows[0])._default_manager.bulk_create(rows)


LIFECYCLES: list[Lifecycle] = []
