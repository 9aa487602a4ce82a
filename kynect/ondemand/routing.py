"""Routing's decision (DESIGN §5.4, ADR 0017): which helpers may take a help request now (the hard
filters, stated once, in `eligibility_sql`) and in which order (the soft score). It writes nothing: the
offers it leads to are made by `services.offers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import connection

from kynect.core.geo import haversine_miles
from kynect.ondemand import eligibility_sql
from kynect.ondemand.models import Helper, HelpRequest, Offer

# The soft score (lower is better): a mile of distance, an open or recently accepted request, and a
# missed referral in a row weigh this much. Ties go to whoever was offered a request longest ago.
SCORE_PER_MILE = 0.1
SCORE_PER_RECENT_REQUEST = 2.0
SCORE_PER_MISS = 5.0
RECENT_LOAD_HOURS = 24
LANGUAGE_HARD_ROUNDS = 2  # the General offer and the first Mass round (DESIGN §5.4)
# Responsiveness (ADR 0044): what a helper with no history is taken to do, weighing as much as this many
# offers, so that a new helper is neither first nor last and one answer moves them only a little.
PRIOR_OFFERS = 5
PRIOR_ANSWER_SHARE = 0.7
PRIOR_ANSWER_MINUTES = 5.0
# Capacity (ADR 0044): a helper is on a call from a call logged as reached (or dialled from kynect) until
# the request is completed, for at most this long.
ON_CALL_MINUTES = 60


@dataclass(frozen=True)
class Candidate:
    row: eligibility_sql.EligibleRow
    score: float
    parts: dict[str, Any]
    # The whole row with its user, read for the few helpers a round is likely to go to.
    loaded: Helper | None = None

    @cached_property
    def helper(self) -> Helper:
        """The helper: the whole row when loaded, otherwise a deferred row, built when first asked for
        (a decision ranks a county's hundred or so helpers and offers to one to five of them), that
        loads its other columns when used."""
        if self.loaded is not None:
            return self.loaded
        row = self.row
        return Helper.from_db(
            connection.alias,
            ["id", "home_latitude", "home_longitude", "consecutive_misses"],
            [row.helper_id, row.home_latitude, row.home_longitude, row.consecutive_misses],
        )

    @property
    def needs_interpreter(self) -> bool:
        return not self.row.speaks


def expected_answer_minutes(*, counted: int, answered: int, median_minutes: float | None) -> float:
    """The minutes a helper is expected to take to answer an offer (ADR 0044): answered with probability
    p after their median time t, else not before the offer expires; p and t are their recent figures
    pulled towards the prior (PRIOR_ANSWER_SHARE, PRIOR_ANSWER_MINUTES) as if from PRIOR_OFFERS more
    offers."""
    share = (answered + PRIOR_OFFERS * PRIOR_ANSWER_SHARE) / (counted + PRIOR_OFFERS)
    minutes = PRIOR_ANSWER_MINUTES
    if median_minutes is not None and answered:
        minutes = (answered * median_minutes + PRIOR_OFFERS * PRIOR_ANSWER_MINUTES) / (
            answered + PRIOR_OFFERS
        )
    return share * minutes + (1 - share) * settings.ONDEMAND_OFFER_MINUTES


def candidates_ranked(
    *,
    help_request: HelpRequest,
    at: datetime,
    language_required: bool,
    read_whole: int | None = None,
    general: bool = False,
) -> list[Candidate]:
    """The eligible helpers (the hard filters of `eligibility_sql`), best first, each with its score and
    the score's parts. The best `read_whole` (the round's size; by default a Mass round's) are read whole,
    with their users, for the offer messages.

    The levers of ADR 0044, each off when its setting is 0: the score adds the helper's expected minutes
    to answer (ONDEMAND_RESPONSIVENESS_WEIGHT points a minute); for the `general` offer, helpers holding
    an accepted request not yet called (ONDEMAND_DIAL_REMINDER_MINUTES), on a call or whose schedule ends
    within ONDEMAND_CAPACITY_MINUTES are skipped; a Mass round goes to those on a call or holding a
    request not yet called only when no free helper is eligible."""
    since = at - timedelta(hours=RECENT_LOAD_HOURS)
    holding = settings.ONDEMAND_DIAL_REMINDER_MINUTES > 0
    margin = settings.ONDEMAND_CAPACITY_MINUTES
    # Whether a helper's schedule ends soon matters to the General offer only (a Mass round takes them).
    works_until = at + timedelta(minutes=margin) if general else None
    capacity = (at - timedelta(minutes=ON_CALL_MINUTES), works_until) if margin else None
    rows = eligibility_sql.eligible_rows(
        help_request=help_request,
        at=at,
        since=since,
        language_required=language_required,
        holding=holding,
        capacity=capacity,
    )
    if general:
        rows = [row for row in rows if not (row.holding or row.on_call or not row.works_on)]
    else:  # a Mass round goes to helpers free to call at once, if there are any
        rows = [row for row in rows if not (row.holding or row.on_call)] or rows
    if not rows:
        return []
    weight = settings.ONDEMAND_RESPONSIVENESS_WEIGHT
    ranked: list[tuple[float, datetime, str, eligibility_sql.EligibleRow, dict[str, Any]]] = []
    epoch = datetime.min.replace(tzinfo=at.tzinfo)
    for row in rows:
        if row.home_latitude is not None and row.home_longitude is not None:
            miles = haversine_miles(
                row.home_latitude, row.home_longitude, help_request.latitude, help_request.longitude
            )
        else:
            miles = 0.0
        load, misses = row.recent_load, row.consecutive_misses
        score = miles * SCORE_PER_MILE + load * SCORE_PER_RECENT_REQUEST + misses * SCORE_PER_MISS
        parts: dict[str, Any] = {"miles": round(miles, 1), "recent_load": load, "misses": misses}
        if weight:
            expected = expected_answer_minutes(
                counted=row.offers_counted, answered=row.offers_answered, median_minutes=row.answer_minutes
            )
            score += weight * expected
            parts["answer_minutes"] = round(expected, 1)
        if row.holding or row.on_call:
            parts["busy"] = True
        score = round(score, 3)
        ranked.append((score, row.last_offered_at or epoch, str(row.helper_id), row, parts))
    ranked.sort(key=lambda item: item[:3])
    # A helper further down (a round whose first choices were taken meanwhile) is a deferred row that
    # loads its columns when used.
    first = [item[3].helper_id for item in ranked[: max(read_whole or settings.ONDEMAND_MASS_SIZE, 1)]]
    whole = Helper.objects.select_related("user").in_bulk(first)
    return [
        Candidate(row=row, score=score, parts=parts, loaded=whole.get(row.helper_id))
        for score, _last, _key, row, parts in ranked
    ]


def anyone_speaks(*, help_request: HelpRequest, at: datetime) -> bool:
    """Whether any helper available now for this request speaks its language, busy or not."""
    return bool(
        eligibility_sql.eligible_rows(
            help_request=help_request, at=at, since=at, language_required=True, busy_ok=True
        )
    )


def language_required(*, help_request: HelpRequest, round_number: int) -> bool:
    """Language is a hard filter for the General offer and the first Mass round, unless relaxed."""
    return not help_request.language_relaxed and round_number <= LANGUAGE_HARD_ROUNDS


def language_wait_over(*, help_request: HelpRequest, at: datetime) -> bool:
    """Whether to offer with an interpreter: nobody available now speaks the language, or the one who
    does has been busy for an offer's whole time."""
    if not anyone_speaks(help_request=help_request, at=at):
        return True
    waited = at - (help_request.waiting_since or at)
    return waited >= timedelta(minutes=settings.ONDEMAND_OFFER_MINUTES)


def round_kind(*, round_number: int) -> str:
    """General for round 1 then Mass (the design). ONDEMAND_ROUTING_STRATEGY exists for the simulation's
    comparisons only: "general_only" makes every round a General offer, "mass_first" starts with Mass
    (which bypasses the On Demand FAQ's miss rule, so it is never a default)."""
    strategy = settings.ONDEMAND_ROUTING_STRATEGY
    if strategy == "general_only":
        return Offer.Kind.GENERAL
    if strategy == "mass_first":
        return Offer.Kind.MASS
    return Offer.Kind.GENERAL if round_number == 1 else Offer.Kind.MASS
