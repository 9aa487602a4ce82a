"""The deadline sweeper's registry and its run-every-handler loop."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from kynect.core import sweeper

# sweep_once also runs the apps' own handlers, which read the database.
pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def register() -> Iterator[Callable[[str], Callable[[sweeper.SweepHandler], sweeper.SweepHandler]]]:
    """Register handlers under unique names, and remove them after the test."""
    added: list[str] = []

    def _register(label: str) -> Callable[[sweeper.SweepHandler], sweeper.SweepHandler]:
        name = f"tests.{label}.{uuid.uuid4().hex[:8]}"
        added.append(name)
        return sweeper.register(name)

    yield _register
    for name in added:
        sweeper._handlers.pop(name, None)


def _name_of(handler: sweeper.SweepHandler) -> str:
    return next(name for name, registered in sweeper.handlers().items() if registered is handler)


def test_register_adds_the_handler_under_its_name(register) -> None:
    def handler(*, now: datetime) -> int:
        return 0

    returned = register("added")(handler)

    assert returned is handler
    assert sweeper.handlers()[_name_of(handler)] is handler


def test_handlers_returns_a_copy(register) -> None:
    @register("copy")
    def handler(*, now: datetime) -> int:
        return 0

    listed = sweeper.handlers()
    listed.clear()

    assert handler in sweeper.handlers().values()


def test_duplicate_name_is_refused() -> None:
    name = f"tests.duplicate.{uuid.uuid4().hex[:8]}"

    def first(*, now: datetime) -> int:
        return 1

    def second(*, now: datetime) -> int:
        return 2

    try:
        sweeper.register(name)(first)
        with pytest.raises(ValueError, match=rf"A sweep handler named '{name}' is already registered\."):
            sweeper.register(name)(second)
        assert sweeper.handlers()[name] is first

        # Registering the same function again (a module imported twice) is harmless.
        assert sweeper.register(name)(first) is first
    finally:
        sweeper._handlers.pop(name, None)


def test_sweep_once_runs_every_handler_with_the_given_time(register) -> None:
    calls: list[tuple[str, datetime]] = []

    @register("a")
    def handler_a(*, now: datetime) -> int:
        calls.append(("a", now))
        return 3

    @register("b")
    def handler_b(*, now: datetime) -> int:
        calls.append(("b", now))
        return 0

    results = sweeper.sweep_once(now=NOW)

    assert results[_name_of(handler_a)] == 3
    assert results[_name_of(handler_b)] == 0
    assert sorted(calls) == [("a", NOW), ("b", NOW)]
    assert set(results) == set(sweeper.handlers())


def test_sweep_once_defaults_to_the_clock(register) -> None:
    seen: list[datetime] = []

    @register("clock")
    def handler(*, now: datetime) -> int:
        seen.append(now)
        return 0

    with time_machine.travel(NOW, tick=False):
        sweeper.sweep_once()

    assert seen == [NOW]


def test_a_failing_handler_is_logged_and_does_not_stop_the_others(
    register, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    # Names sort so that the failing handler runs between the other two.
    name = uuid.uuid4().hex[:8]
    before = sweeper.register(f"tests.{name}.1-before")
    failing = sweeper.register(f"tests.{name}.2-failing")
    after = sweeper.register(f"tests.{name}.3-after")

    @before
    def handler_before(*, now: datetime) -> int:
        ran.append("before")
        return 1

    @failing
    def handler_failing(*, now: datetime) -> int:
        ran.append("failing")
        raise RuntimeError("deadline table is missing")

    @after
    def handler_after(*, now: datetime) -> int:
        ran.append("after")
        return 2

    try:
        with caplog.at_level(logging.ERROR, logger="kynect.core.sweeper"):
            results = sweeper.sweep_once(now=NOW)
    finally:
        for suffix in ("1-before", "2-failing", "3-after"):
            sweeper._handlers.pop(f"tests.{name}.{suffix}", None)

    assert ran == ["before", "failing", "after"]
    assert results[f"tests.{name}.1-before"] == 1
    assert results[f"tests.{name}.2-failing"] == -1
    assert results[f"tests.{name}.3-after"] == 2

    failures = [record for record in caplog.records if record.name == "kynect.core.sweeper"]
    assert len(failures) == 1
    assert f"tests.{name}.2-failing" in failures[0].getMessage()
    assert failures[0].levelno == logging.ERROR
    assert "deadline table is missing" in caplog.text


def test_fixture_leaves_the_registry_as_it_found_it(register) -> None:
    before = set(sweeper.handlers())

    @register("temporary")
    def handler(*, now: datetime) -> int:
        return 0

    assert set(sweeper.handlers()) - before == {_name_of(handler)}


def test_core_registers_the_rate_limit_sweep() -> None:
    assert "core.expired_rate_limits" in sweeper.handlers()
    assert not any(name.startswith("tests.") for name in sweeper.handlers())
