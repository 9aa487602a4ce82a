"""Routing's hard filters and the score's inputs as one SQL statement (ADR 0018): the one statement of who
may take a help request now.

The hard filters: registered (and, for kynectors and agency admins, marked active), available now by the
switch, the weekly schedule and its breaks in the helper's own time zone, and time off; no pending offer
(unless `busy_ok`); serves the request's county and program ("not sure" matches any); speaks its language
when `language_required`; not yet offered this request. The test's ORM queryset states the same filters
and checks that this statement finds exactly the same helpers.

Raw SQL because the ORM's form of it costs more CPU to build and compile than to run (nested `Exists`
for windows, breaks, offers and time off, one group per wall clock), and a routing decision runs it once
or twice: the text is cached per shape (program filter or not, language filter or not, number of wall
clocks), and everything that varies goes in as parameters. It reads, for each eligible helper, what the
score needs: home, misses in a row, open or recent accepted requests, when they were last offered a
request, whether they speak the request's language and their responsiveness; and, when routing's levers
ask for them (ADR 0044), whether they hold a request not yet called, are on a call, and are still on their
schedule a little later.

The statement differs between the two databases only where noted below. Two spellings steer SQLite's planner
when the database has no statistics (no ANALYZE yet), where it otherwise scanned every window of the
weekday for each helper: `CROSS JOIN` makes the county's few hundred helpers the outer loop (SQLite keeps
the written order of a CROSS JOIN; PostgreSQL treats it as an ordinary join), and the unary `+` on
`w.weekday` keeps the weekday index out of the window test, so it goes by the helper's windows.

On PostgreSQL the statement works out each helper's wall clock itself (`AT TIME ZONE` the helper's zone),
so it needs no query for the zones, and its window test carries `OFFSET 0`: without it PostgreSQL hashed
every window working at that moment (thousands) for a county of a few hundred helpers. On SQLite the
zones of the county's helpers are read first and the statement has one group of conditions per wall
clock.

On PostgreSQL the statement is prepared on the server (a server-binding cursor for it only, which
prepares what it runs): planning it took about as long as running it.
"""

# The statement interpolates only quoted table names and placeholder marks; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.db import connection

from kynect.ondemand.models import (
    CallAttempt,
    Helper,
    HelperCounty,
    HelperLanguage,
    HelperProgram,
    HelpRequest,
    Offer,
    RequestedProgram,
    ScheduleBreak,
    ScheduleWindow,
    TimeOff,
)


@dataclass(frozen=True)
class EligibleRow:
    helper_id: uuid.UUID
    home_latitude: float | None
    home_longitude: float | None
    consecutive_misses: int
    recent_load: int
    last_offered_at: datetime | None
    speaks: bool
    # Responsiveness (ADR 0044): the helper's recent offers counted and answered, median minutes to answer.
    offers_counted: int = 0
    offers_answered: int = 0
    answer_minutes: float | None = None
    # Capacity (ADR 0044), read only when asked for: holding an accepted request not yet called, on a
    # call, and still on their schedule when the capacity margin is over.
    holding: bool = False
    on_call: bool = False
    works_on: bool = True


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _window_test(*, postgres: bool, alias: str, clocks: tuple[int, ...]) -> str:
    """The test that a schedule window `w` of helper `h` covers the instant whose wall clock is `alias`
    (PostgreSQL) or, on SQLite, one of the given wall clocks (each with how many zones share it)."""
    pause = _table(ScheduleBreak)
    if postgres:
        # OFFSET 0 keeps the window test per helper instead of one hash of every window working now.
        return (
            f"w.weekday = {alias}.weekday AND w.start_minute <= {alias}.minute"
            f" AND w.end_minute > {alias}.minute"
            f" AND NOT EXISTS (SELECT 1 FROM {pause} b WHERE b.window_id = w.id"
            f" AND b.start_minute <= {alias}.minute AND b.end_minute > {alias}.minute) OFFSET 0"
        )
    # See the module's docstring: SQLite must not test windows by the weekday index. One group of
    # conditions per wall clock, with the zones that share it.
    groups = []
    for zones in clocks:
        marks = ", ".join(["%s"] * zones)
        groups.append(
            f"(h.time_zone IN ({marks}) AND +w.weekday = %s AND w.start_minute <= %s"
            f" AND w.end_minute > %s AND NOT EXISTS (SELECT 1 FROM {pause} b WHERE b.window_id = w.id"
            " AND b.start_minute <= %s AND b.end_minute > %s))"
        )
    return f"({' OR '.join(groups)})"


def _local_clock(alias: str) -> str:
    """PostgreSQL: the helper's wall clock at an instant (a parameter), one row per helper."""
    return (
        " CROSS JOIN LATERAL (SELECT (EXTRACT(ISODOW FROM x.t)::int - 1) AS weekday,"
        " (EXTRACT(HOUR FROM x.t)::int * 60 + EXTRACT(MINUTE FROM x.t)::int) AS minute"
        f" FROM (SELECT (%s::timestamptz AT TIME ZONE h.time_zone) AS t) x) {alias}"
    )


@lru_cache(maxsize=64)
def _statement(
    vendor: str,
    *,
    program: bool,
    language: bool,
    busy_ok: bool,
    clocks: tuple[int, ...],
    holding: bool = False,
    on_call: bool = False,
    later_clocks: tuple[int, ...] | None = None,
) -> str:
    """The statement's text for one shape. `clocks` holds, per wall clock, how many zones share it
    (SQLite only: PostgreSQL works out each helper's wall clock itself). `holding` adds whether the
    helper holds an accepted request not yet called, `on_call` whether they are on a call, and
    `later_clocks` (not None) whether they are still on their schedule at a later instant (its wall clocks,
    as `clocks`)."""
    postgres = vendor == "postgresql"
    helper, county = _table(Helper), _table(HelperCounty)
    language_table, program_table = _table(HelperLanguage), _table(HelperProgram)
    offer, help_request, time_off = _table(Offer), _table(HelpRequest), _table(TimeOff)
    window, call = _table(ScheduleWindow), _table(CallAttempt)
    window_test = _window_test(postgres=postgres, alias="lt", clocks=clocks)
    local_clock = _local_clock("lt") if postgres else ""
    capacity = ""
    if holding:
        capacity += (
            f", EXISTS (SELECT 1 FROM {help_request} r WHERE r.accepted_helper_id = h.id AND r.status = %s"
            " AND r.first_contact_at IS NULL)"
        )
    if on_call:
        capacity += (
            f", EXISTS (SELECT 1 FROM {call} a JOIN {help_request} r ON r.id = a.help_request_id"
            " WHERE a.helper_id = h.id AND a.result IN (%s, %s) AND a.at >= %s AND r.status = %s"
            " AND r.accepted_helper_id = h.id)"
        )
    if later_clocks is not None:
        capacity += (
            f", EXISTS (SELECT 1 FROM {window} w WHERE w.helper_id = h.id AND"
            f" {_window_test(postgres=postgres, alias='lt2', clocks=later_clocks)})"
        )
        if postgres:
            local_clock += _local_clock("lt2")
    filters = [
        "h.id = c.helper_id",
        "c.county_fips = %s",
        "h.status = %s",
        "h.is_available = %s",
        "(h.role = %s OR h.agency_active = %s)",
    ]
    # On PostgreSQL, OFFSET 0 keeps a subquery a probe of the helper's own rows (an index lookup per
    # helper) rather than a join over the whole table. As an anti-join, the pending-offer test compared
    # every helper with every pending offer, the planner counting on the few its statistics last saw:
    # 200,000 comparisons (17 ms) a decision once a burst had left 3,000 offers pending. The language
    # tests read all 6,000 helper languages twice a decision as joins, and the program test all 8,000
    # helper programs (1.4 ms of a decision's 4.8).
    per_helper = " OFFSET 0" if postgres else ""
    if program:
        filters.append(
            f"EXISTS (SELECT 1 FROM {program_table} p WHERE p.helper_id = h.id AND p.program = %s"
            f"{per_helper})"
        )
    if language:
        filters.append(
            f"EXISTS (SELECT 1 FROM {language_table} l WHERE l.helper_id = h.id AND l.language = %s"
            f"{per_helper})"
        )
    if not busy_ok:
        filters.append(
            f"NOT EXISTS (SELECT 1 FROM {offer} o WHERE o.helper_id = h.id AND o.status = %s{per_helper})"
        )
    filters += [
        f"NOT EXISTS (SELECT 1 FROM {offer} o WHERE o.helper_id = h.id AND o.help_request_id = %s)",
        f"NOT EXISTS (SELECT 1 FROM {time_off} t WHERE t.helper_id = h.id AND t.ends_at > %s"
        " AND t.starts_at <= %s)",
        f"EXISTS (SELECT 1 FROM {window} w WHERE w.helper_id = h.id AND {window_test})",
    ]
    return (
        "SELECT h.id, h.home_latitude, h.home_longitude, h.consecutive_misses,"
        f" (SELECT COUNT(*) FROM {help_request} r WHERE r.accepted_helper_id = h.id"
        "   AND (r.status = %s OR r.accepted_at >= %s)),"
        f" (SELECT MAX(o.offered_at) FROM {offer} o WHERE o.helper_id = h.id AND o.offered_at >= %s),"
        f" EXISTS (SELECT 1 FROM {language_table} l WHERE l.helper_id = h.id"
        f" AND l.language = %s{per_helper}),"
        f" h.offers_counted, h.offers_answered, h.answer_minutes{capacity}"
        f" FROM {county} c CROSS JOIN {helper} h{local_clock}"
        f" WHERE {' AND '.join(filters)}"
    )


@lru_cache(maxsize=1)
def _preparing_cursor_class() -> type[Any]:
    import psycopg

    class PreparingCursor(psycopg.Cursor):
        """Binds on the server and prepares every statement it runs (Django turns psycopg's automatic
        preparation off, for connection poolers)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True)

    return PreparingCursor


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run a statement in the current transaction; prepared on PostgreSQL. Execute wrappers see it on
    both databases (Django's debug log of queries does not on PostgreSQL)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    # Django's cursors bind on the client, which cannot prepare; a server-binding cursor on the same
    # connection (so in the same transaction) can. `make_cursor` wraps it like any Django cursor.
    connection.ensure_connection()
    with connection.make_cursor(_preparing_cursor_class()(connection.connection)) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def zones_in_county(county_fips: str) -> list[str]:
    """The time zones of the helpers serving a county (a few hundred rows by the county index)."""
    rows = _fetch(
        f"SELECT DISTINCT h.time_zone FROM {_table(HelperCounty)} c"
        f" JOIN {_table(Helper)} h ON h.id = c.helper_id WHERE c.county_fips = %s",
        [county_fips],
    )
    return sorted(row[0] for row in rows)


def eligible_rows(
    *,
    help_request: HelpRequest,
    at: datetime,
    since: datetime,
    language_required: bool,
    busy_ok: bool = False,
    holding: bool = False,
    capacity: tuple[datetime, datetime | None] | None = None,
) -> list[EligibleRow]:
    """The helpers that pass the hard filters (the module's docstring), with the score's inputs (accepted
    requests and offers since `since`, responsiveness). With `holding`, also whether each holds an
    accepted request not yet called; with `capacity` = (on a call since, works until), whether each has
    logged a call reaching someone (or dialled) since then on a request still open, and (unless the second
    is None) whether their schedule still has them working at the second instant."""
    from kynect.ondemand.selectors import local_weekday_minute

    postgres = connection.vendor == "postgresql"
    works_until = capacity[1] if capacity is not None else None
    clocks: dict[tuple[int, int], list[str]] = {}
    later: dict[tuple[int, int], list[str]] = {}
    if not postgres:
        zones = zones_in_county(help_request.county_fips)
        if not zones:
            return []
        for zone in zones:
            clocks.setdefault(local_weekday_minute(at=at, time_zone=zone), []).append(zone)
            if works_until is not None:
                later.setdefault(local_weekday_minute(at=works_until, time_zone=zone), []).append(zone)
    ops = connection.ops
    moment = ops.adapt_datetimefield_value(at)
    program = help_request.program != RequestedProgram.NOT_SURE
    params: list[Any] = [
        HelpRequest.Status.IN_PROGRESS,
        ops.adapt_datetimefield_value(since),
        ops.adapt_datetimefield_value(since),
        help_request.language,
    ]
    if holding:
        params.append(HelpRequest.Status.IN_PROGRESS)
    if capacity is not None:
        params += [
            CallAttempt.Result.REACHED,
            CallAttempt.Result.DIALLED,
            ops.adapt_datetimefield_value(capacity[0]),
            HelpRequest.Status.IN_PROGRESS,
        ]
    if works_until is not None:
        for (weekday, minute), same_clock in later.items():
            params += [*same_clock, weekday, minute, minute, minute, minute]
    if postgres:  # for the helpers' wall clocks, now and (capacity) later
        params += [moment, *([ops.adapt_datetimefield_value(works_until)] if works_until is not None else [])]
    params += [
        help_request.county_fips,
        Helper.Status.REGISTERED,
        True,
        Helper.Role.AGENT,
        True,
    ]
    if program:
        params.append(help_request.program)
    if language_required:
        params.append(help_request.language)
    if not busy_ok:
        params.append(Offer.Status.PENDING)
    params += [HelpRequest._meta.pk.get_db_prep_value(help_request.pk, connection), moment, moment]
    for (weekday, minute), same_clock in clocks.items():
        params += [*same_clock, weekday, minute, minute, minute, minute]
    sql = _statement(
        connection.vendor,
        program=program,
        language=language_required,
        busy_ok=busy_ok,
        clocks=tuple(len(same_clock) for same_clock in clocks.values()),
        holding=holding,
        on_call=capacity is not None,
        later_clocks=(
            None if works_until is None else tuple(len(same_clock) for same_clock in later.values())
        ),
    )
    found = []
    for row in _fetch(sql, params):
        value, latitude, longitude, misses, load, last, speaks, counted, answered, minutes = row[:10]
        extra = list(row[10:])
        holds = bool(extra.pop(0)) if holding else False
        on_call = bool(extra.pop(0)) if capacity is not None else False
        works_on = bool(extra.pop(0)) if works_until is not None else True
        found.append(
            EligibleRow(
                helper_id=value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)),
                home_latitude=latitude,
                home_longitude=longitude,
                consecutive_misses=int(misses),
                recent_load=int(load),
                last_offered_at=_aware(last),
                speaks=bool(speaks),
                offers_counted=int(counted),
                offers_answered=int(answered),
                answer_minutes=minutes,
                holding=holds,
                on_call=on_call,
                works_on=works_on,
            )
        )
    return found


def _aware(value: Any) -> datetime | None:
    """A MAX() of a timestamp: an aware datetime on PostgreSQL, text in UTC on SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
