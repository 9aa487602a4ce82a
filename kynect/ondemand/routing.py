"""Writes for routing help requests to helpers (DESIGN §5.4, the On Demand FAQ): offers, accepting and
rejecting, misses, passcodes after a link accept, working the request, and the sweeper's deadlines.

The order of a request's life:

1. `help_request_route` finds the eligible helpers (hard filters) and scores them (soft). Round 1 is the
   General offer to the best one, for ONDEMAND_OFFER_MINUTES with a reminder before it expires.
2. On reject or timeout the request becomes a Mass referral: round 2 offers it at once to the next K best
   (ONDEMAND_MASS_SIZE); a round with no accept moves on to the next K. The first accept wins.
3. Nobody eligible: the request waits (`route_at`), and is routed again as soon as a helper becomes
   available, or every ONDEMAND_ROUTE_RETRY_SECONDS.

Locking: every transition locks the help request's row first, then its offers, so accepts, rejects and
the sweeper never deadlock and never both apply. Each transition is also a conditional update on the old
status, and reads check deadlines (an offer past `expires_at` cannot be accepted even before the sweeper
gets to it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from kynect.accounts.models import Membership, Role, User
from kynect.core import clock
from kynect.core.geo import haversine_miles
from kynect.ondemand import credentials, eligibility_sql, messages
from kynect.ondemand import verification as codes
from kynect.ondemand.models import (
    CallAttempt,
    Helper,
    HelperCounty,
    HelperLanguage,
    HelperProgram,
    HelpRequest,
    Offer,
    OfferPasscode,
    RequestedProgram,
)
from kynect.ondemand.selectors import helpers_available_at

logger = logging.getLogger(__name__)

# The soft score (lower is better): a mile of distance, an open or recently accepted request, and a
# missed referral in a row weigh this much. Ties go to whoever was offered a request longest ago.
SCORE_PER_MILE = 0.1
SCORE_PER_RECENT_REQUEST = 2.0
SCORE_PER_MISS = 5.0
RECENT_LOAD_HOURS = 24
MISSES_WARNING = 2
MISSES_DEREGISTER = 3  # the On Demand FAQ: three consecutive misses de-register a helper
LANGUAGE_HARD_ROUNDS = 2  # the General offer and the first Mass round (DESIGN §5.4)


class OfferClosedError(Exception):
    """The offer can no longer be answered: another helper took the request, it expired, or it closed."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _closed_message(offer: Offer, help_request: HelpRequest, now: datetime) -> OfferClosedError:
    if offer.status == Offer.Status.RESCINDED or (
        help_request.status != HelpRequest.Status.PENDING
        and help_request.accepted_helper_id != offer.helper_id
    ):
        if help_request.status in (HelpRequest.Status.IN_PROGRESS, HelpRequest.Status.COMPLETE):
            return OfferClosedError(_("This referral was already taken by another helper."), code="taken")
        return OfferClosedError(
            _("This referral is closed: the resident no longer needs a call."), code="closed"
        )
    if offer.status == Offer.Status.EXPIRED or (
        offer.status == Offer.Status.PENDING and offer.expires_at <= now
    ):
        return OfferClosedError(_("This referral offer expired."), code="expired")
    if offer.status == Offer.Status.REJECTED:
        return OfferClosedError(_("You already rejected this referral."), code="rejected")
    if offer.status == Offer.Status.ACCEPTED:
        return OfferClosedError(_("You already accepted this referral."), code="accepted")
    return OfferClosedError(_("This referral can no longer be answered."), code="closed")


# --- Eligibility and score -------------------------------------------------------------------------


def eligible_helpers(
    *, help_request: HelpRequest, at: datetime, language_required: bool, busy_ok: bool = False
) -> QuerySet[Helper]:
    """The hard filters: registered (and still active or licensed), available now by switch and
    schedule, no pending offer (unless `busy_ok`), serves the program and the county, speaks the
    language when `language_required`, and not yet offered this request."""
    # The county drives the query: a county's helpers are a few hundred of the thousands registered, and
    # `pk IN (…)` lets SQLite start from the county index (an EXISTS would be checked for every helper).
    # The conditions go in one `filter`: each call copies the whole query.
    conditions: list[Any] = [
        Q(pk__in=HelperCounty.objects.filter(county_fips=help_request.county_fips).values("helper_id")),
        Q(status=Helper.Status.REGISTERED),
        Q(role=Helper.Role.AGENT) | Q(agency_active=True),
    ]
    if help_request.program != RequestedProgram.NOT_SURE:
        conditions.append(
            Exists(HelperProgram.objects.filter(helper=OuterRef("pk"), program=help_request.program))
        )
    if language_required:
        conditions.append(
            Exists(HelperLanguage.objects.filter(helper=OuterRef("pk"), language=help_request.language))
        )
    if not busy_ok:
        conditions.append(~Exists(Offer.objects.filter(helper=OuterRef("pk"), status=Offer.Status.PENDING)))
    conditions.append(~Exists(Offer.objects.filter(helper=OuterRef("pk"), help_request=help_request)))
    helpers = Helper.objects.filter(*conditions)
    return helpers_available_at(at=at, helpers=helpers)


@dataclass(frozen=True)
class Candidate:
    helper: Helper
    score: float
    parts: dict[str, Any]
    needs_interpreter: bool


def candidates_ranked(*, help_request: HelpRequest, at: datetime, language_required: bool) -> list[Candidate]:
    """The eligible helpers (`eligible_helpers`' filters, by the statement of `eligibility_sql`), best
    first, each with its score and the score's parts."""
    since = at - timedelta(hours=RECENT_LOAD_HOURS)
    rows = eligibility_sql.eligible_rows(
        help_request=help_request, at=at, since=since, language_required=language_required
    )
    if not rows:
        return []
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
        score = round(miles * SCORE_PER_MILE + load * SCORE_PER_RECENT_REQUEST + misses * SCORE_PER_MISS, 3)
        parts = {"miles": round(miles, 1), "recent_load": load, "misses": misses}
        ranked.append((score, row.last_offered_at or epoch, str(row.helper_id), row, parts))
    ranked.sort(key=lambda item: item[:3])
    # Whole rows, with the user the offer messages read, for the helpers a round is likely to go to; a
    # helper further down (a round whose first choices were taken meanwhile) is a deferred row that
    # loads its columns when used.
    first = [item[3].helper_id for item in ranked[: max(settings.ONDEMAND_MASS_SIZE, 1)]]
    whole = Helper.objects.select_related("user").in_bulk(first)
    candidates = []
    for score, _last, _key, row, parts in ranked:
        helper = whole.get(row.helper_id) or Helper.from_db(
            connection.alias,
            ["id", "home_latitude", "home_longitude", "consecutive_misses"],
            [row.helper_id, row.home_latitude, row.home_longitude, row.consecutive_misses],
        )
        candidates.append(
            Candidate(helper=helper, score=score, parts=parts, needs_interpreter=not row.speaks)
        )
    return candidates


# --- Routing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteResult:
    offers: list[Offer]
    waiting: bool
    reason: str = ""


def help_request_route(*, help_request_id: Any, now: datetime | None = None) -> RouteResult:
    """Offer the request to its next round of helpers, or leave it waiting. Safe to call at any time:
    a request that is not Pending, has a round in flight, or is not due yet is left as it is."""
    with transaction.atomic():
        help_request = _locked(help_request_id)
        if help_request is None:
            return RouteResult(offers=[], waiting=False, reason="missing")
        return _route_locked(help_request, now or clock.now())


def _locked(help_request_id: Any, *, skip_locked: bool = False) -> HelpRequest | None:
    query = HelpRequest.objects.filter(pk=help_request_id)
    if transaction.get_connection().features.has_select_for_update:
        query = query.select_for_update(skip_locked=skip_locked)
    return query.first()


def _route_locked(help_request: HelpRequest, now: datetime) -> RouteResult:
    if help_request.status != HelpRequest.Status.PENDING:
        return RouteResult(offers=[], waiting=False, reason="not pending")
    if help_request.offers.filter(status=Offer.Status.PENDING).exists():
        return RouteResult(offers=[], waiting=False, reason="round in flight")
    if help_request.clock_starts_at > now:
        _wait(help_request, until=help_request.clock_starts_at, now=now)
        return RouteResult(offers=[], waiting=True, reason="outside service hours")
    next_round = help_request.rounds + 1
    language_required = not help_request.language_relaxed and next_round <= LANGUAGE_HARD_ROUNDS
    candidates = candidates_ranked(help_request=help_request, at=now, language_required=language_required)
    if not candidates and language_required and _language_wait_over(help_request, now):
        # Nobody available now speaks the language, or the one who does has been busy for an offer's
        # whole time: offer with an interpreter rather than wait on.
        help_request.language_relaxed = True
        HelpRequest.objects.filter(pk=help_request.pk).update(language_relaxed=True)
        candidates = candidates_ranked(help_request=help_request, at=now, language_required=False)
    if not candidates:
        _wait(help_request, until=now + timedelta(seconds=settings.ONDEMAND_ROUTE_RETRY_SECONDS), now=now)
        return RouteResult(offers=[], waiting=True, reason="nobody eligible")
    kind = _round_kind(next_round)
    size = 1 if kind == Offer.Kind.GENERAL else settings.ONDEMAND_MASS_SIZE
    offers: list[Offer] = []
    for candidate in candidates:
        if len(offers) >= size:
            break
        offer = _offer_create(help_request, candidate, kind=kind, round_number=next_round, now=now)
        if offer is not None:
            offers.append(offer)
    if not offers:
        _wait(help_request, until=now + timedelta(seconds=settings.ONDEMAND_ROUTE_RETRY_SECONDS), now=now)
        return RouteResult(offers=[], waiting=True, reason="helpers taken by other requests")
    messages.offers_notify(offers=offers, help_request=help_request, reminder=False)
    HelpRequest.objects.filter(pk=help_request.pk).update(
        rounds=next_round, route_at=None, waiting_since=None, updated_at=now
    )
    help_request.rounds, help_request.route_at, help_request.waiting_since = next_round, None, None
    logger.info("Help request %s round %s offered to %s helper(s)", help_request.pk, next_round, len(offers))
    return RouteResult(offers=offers, waiting=False)


def _round_kind(round_number: int) -> str:
    """General for round 1 then Mass (the design). ONDEMAND_ROUTING_STRATEGY exists for the simulation's
    comparisons only: "general_only" makes every round a General offer, "mass_first" starts with Mass
    (which bypasses the On Demand FAQ's miss rule, so it is never a default)."""
    strategy = settings.ONDEMAND_ROUTING_STRATEGY
    if strategy == "general_only":
        return Offer.Kind.GENERAL
    if strategy == "mass_first":
        return Offer.Kind.MASS
    return Offer.Kind.GENERAL if round_number == 1 else Offer.Kind.MASS


def _language_wait_over(help_request: HelpRequest, now: datetime) -> bool:
    if not _anyone_speaks(help_request, now):
        return True
    waited = now - (help_request.waiting_since or now)
    return waited >= timedelta(minutes=settings.ONDEMAND_OFFER_MINUTES)


def _anyone_speaks(help_request: HelpRequest, now: datetime) -> bool:
    """Whether any helper available now for this request speaks its language, busy or not."""
    return eligible_helpers(help_request=help_request, at=now, language_required=True, busy_ok=True).exists()


def _wait(help_request: HelpRequest, *, until: datetime, now: datetime) -> None:
    HelpRequest.objects.filter(pk=help_request.pk).update(
        route_at=until, waiting_since=help_request.waiting_since or now, updated_at=now
    )
    help_request.route_at = until
    help_request.waiting_since = help_request.waiting_since or now


def _offer_create(
    help_request: HelpRequest, candidate: Candidate, *, kind: str, round_number: int, now: datetime
) -> Offer | None:
    """One offer (its round's notifications go together), or None when the helper got another offer
    meanwhile."""
    expires_at = now + timedelta(minutes=settings.ONDEMAND_OFFER_MINUTES)
    remind_at = None
    if kind == Offer.Kind.GENERAL and settings.ONDEMAND_REMINDER_MINUTES_BEFORE > 0:
        remind_at = expires_at - timedelta(minutes=settings.ONDEMAND_REMINDER_MINUTES_BEFORE)
    offer = Offer(
        help_request=help_request,
        helper=candidate.helper,
        kind=kind,
        round=round_number,
        needs_interpreter=candidate.needs_interpreter,
        score=candidate.score,
        score_parts=candidate.parts,
        offered_at=now,
        expires_at=expires_at,
        remind_at=remind_at,
        link_key=credentials.secret_new(),
    )
    token = credentials.offer_token_derive(offer_id=str(offer.pk), link_key=offer.link_key)
    offer.token_hash = credentials.offer_token_hash(offer_id=str(offer.pk), token=token)
    try:
        with transaction.atomic():
            offer.save(force_insert=True)
    except IntegrityError:
        return None  # a pending offer for this helper already exists (routed concurrently)
    return offer


def waiting_requests_nudge(*, now: datetime | None = None) -> int:
    """A helper became available: waiting requests are routed on the worker's next turn."""
    now = now or clock.now()
    return HelpRequest.objects.filter(
        status=HelpRequest.Status.PENDING, route_at__gt=now, clock_starts_at__lte=now
    ).update(route_at=now)


# --- Answering an offer -------------------------------------------------------------------------------


def _offer_and_request(offer_id: Any) -> tuple[Offer, HelpRequest]:
    """Locks the request, then the offer (the one lock order, see the module's docstring)."""
    request_id = Offer.objects.filter(pk=offer_id).values_list("help_request_id", flat=True).first()
    if request_id is None:
        raise OfferClosedError(_("This referral offer does not exist."), code="missing")
    help_request = _locked(request_id)
    assert help_request is not None
    offer = Offer.objects.select_related("helper__user").get(pk=offer_id)
    return offer, help_request


@transaction.atomic
def offer_accept(*, offer_id: Any, helper: Helper, via: str, now: datetime | None = None) -> Offer:
    """The helper accepts: the request becomes In Progress for them and the other offers are rescinded.

    From the desktop Referral Manager the accept is complete (misses reset, the requester told who
    will call). From a link, the helper must then enter a passcode sent by text message within
    ONDEMAND_VERIFY_MINUTES; `offer_passcode_send` is called here. Raises OfferClosedError when the
    offer can no longer be accepted, PermissionDenied when it is not this helper's.
    """
    now = now or clock.now()
    offer, help_request = _offer_and_request(offer_id)
    if offer.helper_id != helper.pk:
        raise PermissionDenied
    if via not in Offer.Via.values:
        raise ValueError(via)
    if via == Offer.Via.LINK and not messages.helper_can_get_texts(helper=offer.helper):
        raise OfferClosedError(
            _(
                "We cannot text you a passcode: your number has opted out of text messages. Accept this "
                "referral from the Referral Manager on a computer instead."
            ),
            code="no_sms",
        )
    if offer.status != Offer.Status.PENDING or offer.expires_at <= now or help_request.status != "pending":
        raise _closed_message(offer, help_request, now)
    taken = HelpRequest.objects.filter(pk=help_request.pk, status=HelpRequest.Status.PENDING).update(
        status=HelpRequest.Status.IN_PROGRESS,
        accepted_helper=helper,
        accepted_at=now,
        route_at=None,
        waiting_since=None,
        updated_at=now,
    )
    if not taken:
        help_request.refresh_from_db()
        raise _closed_message(offer, help_request, now)
    claimed = Offer.objects.filter(pk=offer.pk, status=Offer.Status.PENDING, expires_at__gt=now).update(
        status=Offer.Status.ACCEPTED,
        responded_at=now,
        accepted_via=via,
        verify_due_at=now + timedelta(minutes=settings.ONDEMAND_VERIFY_MINUTES)
        if via == Offer.Via.LINK
        else None,
        remind_at=None,
        link_key="",
        updated_at=now,
    )
    if not claimed:  # the exception rolls the request back to Pending
        offer.refresh_from_db()
        raise _closed_message(offer, help_request, now)
    if _rescind_others(help_request, keep=offer, now=now):
        waiting_requests_nudge(now=now)  # the other helpers of the round are free again
    offer.refresh_from_db()
    help_request.refresh_from_db()
    if via == Offer.Via.DESKTOP:
        _accept_settled(offer=offer, help_request=help_request, now=now)
    else:
        offer_passcode_send(offer=offer, now=now, resend=False)
    logger.info("Offer %s accepted (%s)", offer.pk, via)
    return offer


def _rescind_others(help_request: HelpRequest, *, keep: Offer | None, now: datetime) -> int:
    others = Offer.objects.filter(help_request=help_request, status=Offer.Status.PENDING)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    return others.update(
        status=Offer.Status.RESCINDED, responded_at=None, remind_at=None, link_key="", updated_at=now
    )


def _accept_settled(*, offer: Offer, help_request: HelpRequest, now: datetime) -> None:
    """A desktop accept, or a link accept whose passcode was verified: misses reset, requester told."""
    Helper.objects.filter(pk=offer.helper_id).update(consecutive_misses=0, updated_at=now)
    messages.requester_accepted_notify(help_request=help_request, helper=offer.helper)


@transaction.atomic
def offer_reject(*, offer_id: Any, helper: Helper, now: datetime | None = None) -> Offer:
    """The helper rejects: misses reset; when no offer of the round is left, the next round goes out."""
    now = now or clock.now()
    offer, help_request = _offer_and_request(offer_id)
    if offer.helper_id != helper.pk:
        raise PermissionDenied
    if offer.status != Offer.Status.PENDING or offer.expires_at <= now:
        raise _closed_message(offer, help_request, now)
    Offer.objects.filter(pk=offer.pk, status=Offer.Status.PENDING).update(
        status=Offer.Status.REJECTED, responded_at=now, remind_at=None, link_key="", updated_at=now
    )
    Helper.objects.filter(pk=helper.pk).update(consecutive_misses=0, updated_at=now)
    _route_locked(help_request, now)
    waiting_requests_nudge(now=now)
    offer.refresh_from_db()
    return offer


# --- Misses ----------------------------------------------------------------------------------------------


def _miss(*, helper_id: Any, now: datetime) -> None:
    """A missed referral: the helper is set unavailable until they switch back; a warning after the
    second in a row; the third de-registers them (the On Demand FAQ)."""
    from kynect.ondemand.services import helper_deregister

    Helper.objects.filter(pk=helper_id).update(
        consecutive_misses=F("consecutive_misses") + 1, is_available=False, updated_at=now
    )
    helper = Helper.objects.select_related("user").get(pk=helper_id)
    if helper.consecutive_misses >= MISSES_DEREGISTER:
        if helper_deregister(helper=helper, reason=Helper.DeregistrationReason.MISSED_REFERRALS):
            messages.helper_missed_notify(helper=helper, deregistered=True)
    elif helper.consecutive_misses == MISSES_WARNING:
        messages.helper_missed_notify(helper=helper, deregistered=False)
    else:
        messages.helper_unavailable_notify(helper=helper)


# --- Passcodes after a link accept -----------------------------------------------------------------


class PasscodeError(Exception):
    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _accepted_offer(offer_id: Any, helper: Helper | None, now: datetime) -> Offer:
    offer = Offer.objects.select_related("helper__user", "help_request").filter(pk=offer_id).first()
    if offer is None:
        raise PasscodeError(_("This referral offer does not exist."), code="missing")
    if helper is not None and offer.helper_id != helper.pk:
        raise PermissionDenied
    help_request = offer.help_request
    if (
        offer.status != Offer.Status.ACCEPTED
        or help_request.status != HelpRequest.Status.IN_PROGRESS
        or help_request.accepted_helper_id != offer.helper_id
    ):
        raise PasscodeError(_("This referral is no longer yours."), code="closed")
    if offer.verified_at is None and offer.verify_due_at is not None and offer.verify_due_at <= now:
        raise PasscodeError(
            _("You did not enter the passcode in time, so the referral went to another helper."), code="late"
        )
    return offer


def offer_passcode_send(*, offer: Offer, now: datetime | None = None, resend: bool = True) -> OfferPasscode:
    """A new passcode by text message to the helper's verified number; older ones stop working.

    A Resend within ONDEMAND_PASSCODE_RESEND_SECONDS of the last code is refused (PasscodeError).
    """
    now = now or clock.now()
    with transaction.atomic():
        if _can_lock():  # two Resends at once: one waits for the other, then meets the cooldown
            Offer.objects.select_for_update().filter(pk=offer.pk).first()
        offer = _accepted_offer(offer.pk, None, now)
        last = offer.passcodes.order_by("-created_at").first()
        if resend and last is not None:
            wait = last.created_at + timedelta(seconds=settings.ONDEMAND_PASSCODE_RESEND_SECONDS) - now
            if wait.total_seconds() > 0:
                raise PasscodeError(
                    _("We just sent a passcode. You can ask for a new one in %(seconds)s seconds.")
                    % {"seconds": int(wait.total_seconds()) + 1},
                    code="cooldown",
                )
        offer.passcodes.filter(used_at__isnull=True, closed_at__isnull=True).update(
            closed_at=now, code_key="", updated_at=now
        )
        passcode = OfferPasscode(
            offer=offer,
            code_key=codes.code_key_new(),
            expires_at=now + timedelta(seconds=settings.ONDEMAND_PASSCODE_SECONDS),
            created_at=now,
        )
        code = codes.code_derive(verification_id=str(passcode.pk), code_key=passcode.code_key)
        passcode.code_hash = codes.code_hash(verification_id=str(passcode.pk), code=code)
        passcode.save(force_insert=True)
        message = messages.passcode_queue(passcode=passcode, helper=offer.helper)
        OfferPasscode.objects.filter(pk=passcode.pk).update(message_id=message.pk)
        passcode.message_id = message.pk
    return passcode


def _can_lock() -> bool:
    return bool(transaction.get_connection().features.has_select_for_update)


def offer_passcode_verify(*, offer_id: Any, code: str, now: datetime | None = None) -> Offer:
    """Check the passcode: at most ONDEMAND_PASSCODE_MAX_ATTEMPTS tries per code, within its time, once.

    On success the accept is settled (misses reset, the requester told who will call) and the Customer
    Details page opens for ONDEMAND_DETAILS_SECONDS. Raises PasscodeError with a message otherwise.
    """
    now = now or clock.now()
    with transaction.atomic():  # a wrong try is counted even though an error follows: raised after commit
        outcome = _passcode_check(offer_id, code, now)
    if isinstance(outcome, PasscodeError):
        raise outcome
    return outcome


def _passcode_check(offer_id: Any, code: str, now: datetime) -> Offer | PasscodeError:
    offer = _accepted_offer(offer_id, None, now)
    query = OfferPasscode.objects.filter(offer=offer, used_at__isnull=True, closed_at__isnull=True)
    if _can_lock():
        query = query.select_for_update()
    passcode = query.order_by("-created_at").first()
    if passcode is None:
        return PasscodeError(
            _("This passcode can no longer be used. Press Resend for a new one."), code="none"
        )
    if passcode.expires_at <= now:
        OfferPasscode.objects.filter(pk=passcode.pk).update(closed_at=now, code_key="", updated_at=now)
        return PasscodeError(_("This passcode expired. Press Resend for a new one."), code="expired")
    cleaned = "".join((code or "").split())
    if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) == codes.CODE_DIGITS):
        return PasscodeError(_("Enter the 6-digit passcode from the text message."), code="format")
    attempts = passcode.attempts + 1
    if not codes.code_matches(verification_id=str(passcode.pk), stored_hash=passcode.code_hash, code=cleaned):
        locked = attempts >= settings.ONDEMAND_PASSCODE_MAX_ATTEMPTS
        OfferPasscode.objects.filter(pk=passcode.pk).update(
            attempts=attempts,
            closed_at=now if locked else None,
            code_key="" if locked else F("code_key"),
            updated_at=now,
        )
        if locked:
            return PasscodeError(
                _("That passcode is wrong, and that was the last try for it. Press Resend for a new one."),
                code="locked",
            )
        left = settings.ONDEMAND_PASSCODE_MAX_ATTEMPTS - attempts
        return PasscodeError(_("That passcode is wrong. %(left)s tries left.") % {"left": left}, code="wrong")
    used = OfferPasscode.objects.filter(pk=passcode.pk, used_at__isnull=True, closed_at__isnull=True).update(
        used_at=now, attempts=attempts, code_key="", updated_at=now
    )
    if not used:
        return PasscodeError(_("This passcode was already used. Press Resend for a new one."), code="used")
    first = offer.verified_at is None
    Offer.objects.filter(pk=offer.pk).update(
        verified_at=F("verified_at") if not first else now,
        verify_due_at=None,
        details_until=now + timedelta(seconds=settings.ONDEMAND_DETAILS_SECONDS),
        updated_at=now,
    )
    offer.refresh_from_db()
    if first:
        _accept_settled(offer=offer, help_request=offer.help_request, now=now)
    return offer


def offer_details_open(*, offer: Offer, now: datetime | None = None) -> bool:
    """Whether the Customer Details page may be shown from the link: a verified passcode in the last
    ONDEMAND_DETAILS_SECONDS, on an offer still accepted for a request still this helper's."""
    now = now or clock.now()
    return bool(
        offer.status == Offer.Status.ACCEPTED
        and offer.details_until is not None
        and offer.details_until > now
        and offer.help_request.accepted_helper_id == offer.helper_id
        and offer.help_request.status in (*HelpRequest.OPEN_STATUSES, HelpRequest.Status.COMPLETE)
    )


# --- Working the request ---------------------------------------------------------------------------


def _own_request(help_request_id: Any, helper: Helper) -> HelpRequest:
    help_request = _locked(help_request_id)
    if help_request is None or help_request.accepted_helper_id != helper.pk:
        raise PermissionDenied
    if help_request.status != HelpRequest.Status.IN_PROGRESS:
        raise ValidationError(
            _("This request is %(status)s: it cannot be changed.")
            % {"status": help_request.get_status_display()}
        )
    return help_request


@transaction.atomic
def call_attempt_log(
    *, help_request_id: Any, helper: Helper, result: str, note: str = "", now: datetime | None = None
) -> CallAttempt:
    """Log a call attempt; the first one stops the 30-minute clock (`first_contact_at`)."""
    now = now or clock.now()
    help_request = _own_request(help_request_id, helper)
    if result not in CallAttempt.Result.values:
        raise ValidationError({"result": _("Choose what happened on the call.")})
    attempt = CallAttempt(
        help_request=help_request, helper=helper, at=now, result=result, note=(note or "").strip()
    )
    attempt.full_clean()
    attempt.save()
    HelpRequest.objects.filter(pk=help_request.pk, first_contact_at__isnull=True).update(
        first_contact_at=now, updated_at=now
    )
    return attempt


@transaction.atomic
def help_request_complete(
    *, help_request_id: Any, helper: Helper, outcome: str, now: datetime | None = None
) -> HelpRequest:
    """In Progress → Complete with an outcome, by the helper who accepted it."""
    now = now or clock.now()
    help_request = _own_request(help_request_id, helper)
    if outcome not in HelpRequest.Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    if help_request.first_contact_at is None and outcome != HelpRequest.Outcome.UNABLE_TO_REACH:
        raise ValidationError(
            {"outcome": _("Log your call to the resident first: the outcome comes from that call.")}
        )
    HelpRequest.objects.filter(pk=help_request.pk, status=HelpRequest.Status.IN_PROGRESS).update(
        status=HelpRequest.Status.COMPLETE, outcome=outcome, closed_at=now, link_key="", updated_at=now
    )
    help_request.refresh_from_db()
    return help_request


def can_reassign(*, actor: User, help_request: HelpRequest) -> bool:
    """State administrators may reassign any request; an agency admin, their agency's helpers' requests."""
    memberships = Membership.objects.filter(user=actor, is_active=True)
    if memberships.filter(role=Role.STATE_ADMIN).exists():
        return True
    helper = help_request.accepted_helper
    return bool(
        helper is not None
        and helper.organization_id is not None
        and memberships.filter(role=Role.AGENCY_ADMIN, organization_id=helper.organization_id).exists()
    )


@transaction.atomic
def help_request_reassign(
    *, help_request_id: Any, actor: User, to_helper: Helper, now: datetime | None = None
) -> HelpRequest:
    """An agency admin (within their agency) or a state administrator gives an In Progress request to
    another registered helper. The new helper is told, and the requester is told who will call now."""
    now = now or clock.now()
    help_request = _locked(help_request_id)
    if help_request is None or not can_reassign(actor=actor, help_request=help_request):
        raise PermissionDenied
    if help_request.status != HelpRequest.Status.IN_PROGRESS:
        raise ValidationError(_("Only a request In Progress can be reassigned."))
    if to_helper.status != Helper.Status.REGISTERED:
        raise ValidationError({"helper": _("Choose a registered helper.")})
    is_state = Membership.objects.filter(user=actor, is_active=True, role=Role.STATE_ADMIN).exists()
    if not is_state and to_helper.organization_id != help_request.accepted_helper.organization_id:  # type: ignore[union-attr]
        raise ValidationError({"helper": _("Choose a helper of your agency.")})
    if to_helper.pk == help_request.accepted_helper_id:
        raise ValidationError({"helper": _("This helper already has the request.")})
    HelpRequest.objects.filter(pk=help_request.pk, status=HelpRequest.Status.IN_PROGRESS).update(
        accepted_helper=to_helper,
        updated_at=now,  # accepted_at stays: the time to accept is measured from it
    )
    help_request.refresh_from_db()
    messages.helper_reassigned_notify(help_request=help_request, helper=to_helper)
    messages.requester_accepted_notify(help_request=help_request, helper=to_helper)
    return help_request


def help_request_offers_close(*, help_request: HelpRequest, now: datetime) -> int:
    """The request closed (cancelled or unserved): its pending offers are rescinded."""
    return _rescind_others(help_request, keep=None, now=now)


# --- The sweeper's deadlines (DESIGN §5.6) ---------------------------------------------------------

SWEEP_BATCH = 200


def _due_ids(query: QuerySet[Any], field: str, now: datetime) -> list[Any]:
    return list(
        query.filter(**{f"{field}__lte": now}).order_by(field).values_list("pk", flat=True)[:SWEEP_BATCH]
    )


def offers_expire_sweep(*, now: datetime) -> int:
    """Pending offers past `expires_at`: expired; a General one is a miss; the round may end."""
    done = 0
    for offer_id in _due_ids(Offer.objects.filter(status=Offer.Status.PENDING), "expires_at", now):
        done += _offer_expire(offer_id, now)
    return done


def _offer_expire(offer_id: Any, now: datetime) -> int:
    with transaction.atomic():
        request_id = Offer.objects.filter(pk=offer_id).values_list("help_request_id", flat=True).first()
        help_request = _locked(request_id, skip_locked=True)
        if help_request is None:
            return 0  # another worker holds it; it will be done there or next turn
        offer = Offer.objects.filter(pk=offer_id).first()
        if offer is None:
            return 0
        expired = Offer.objects.filter(pk=offer_id, status=Offer.Status.PENDING, expires_at__lte=now).update(
            status=Offer.Status.EXPIRED,
            remind_at=None,
            link_key="",
            counted_miss=offer.kind == Offer.Kind.GENERAL,
            updated_at=now,
        )
        if not expired:
            return 0
        if offer.kind == Offer.Kind.GENERAL:
            _miss(helper_id=offer.helper_id, now=now)
        else:
            waiting_requests_nudge(now=now)  # a Mass offer's helper is free again
        _route_locked(help_request, now)
        return 1


def offers_remind_sweep(*, now: datetime) -> int:
    """General offers 5 minutes before they expire: a reminder by the helper's channels."""
    done = 0
    for offer_id in _due_ids(
        Offer.objects.filter(status=Offer.Status.PENDING, reminded_at__isnull=True), "remind_at", now
    ):
        with transaction.atomic():
            reminded = Offer.objects.filter(
                pk=offer_id,
                status=Offer.Status.PENDING,
                reminded_at__isnull=True,
                remind_at__lte=now,
                expires_at__gt=now,
            ).update(reminded_at=now, updated_at=now)
            if reminded:
                offer = Offer.objects.select_related("helper__user", "help_request").get(pk=offer_id)
                messages.offer_notify(offer=offer, help_request=offer.help_request, reminder=True)
                done += 1
    return done


def offers_abandon_sweep(*, now: datetime) -> int:
    """Link accepts whose passcode was not verified in time: the request goes back to routing; a miss."""
    done = 0
    for offer_id in _due_ids(
        Offer.objects.filter(status=Offer.Status.ACCEPTED, verified_at__isnull=True), "verify_due_at", now
    ):
        with transaction.atomic():
            request_id = Offer.objects.filter(pk=offer_id).values_list("help_request_id", flat=True).first()
            help_request = _locked(request_id, skip_locked=True)
            if help_request is None:
                continue
            offer = Offer.objects.get(pk=offer_id)
            abandoned = Offer.objects.filter(
                pk=offer_id, status=Offer.Status.ACCEPTED, verified_at__isnull=True, verify_due_at__lte=now
            ).update(status=Offer.Status.ABANDONED, counted_miss=True, updated_at=now)
            if not abandoned:
                continue
            OfferPasscode.objects.filter(
                offer_id=offer_id, used_at__isnull=True, closed_at__isnull=True
            ).update(closed_at=now, code_key="", updated_at=now)
            HelpRequest.objects.filter(
                pk=help_request.pk, status=HelpRequest.Status.IN_PROGRESS, accepted_helper_id=offer.helper_id
            ).update(
                status=HelpRequest.Status.PENDING, accepted_helper=None, accepted_at=None, updated_at=now
            )
            help_request.refresh_from_db()
            _miss(helper_id=offer.helper_id, now=now)
            _route_locked(help_request, now)
            done += 1
    return done


def help_requests_route_sweep(*, now: datetime) -> int:
    """Waiting requests whose `route_at` has come: routed (oldest first)."""
    done = 0
    for request_id in _due_ids(
        HelpRequest.objects.filter(status=HelpRequest.Status.PENDING), "route_at", now
    ):
        with transaction.atomic():
            help_request = _locked(request_id, skip_locked=True)
            if help_request is None or help_request.route_at is None or help_request.route_at > now:
                continue
            result = _route_locked(help_request, now)
            done += 1 if result.offers else 0
    return done


def help_requests_sla_sweep(*, now: datetime) -> int:
    """Open requests with no contact logged by `sla_due_at`: escalated to the helper's agency admin (if
    any) and the state administrators, once."""
    done = 0
    due = HelpRequest.objects.filter(
        status__in=HelpRequest.OPEN_STATUSES, first_contact_at__isnull=True, escalated_at__isnull=True
    )
    for request_id in _due_ids(due, "sla_due_at", now):
        with transaction.atomic():
            escalated = HelpRequest.objects.filter(
                pk=request_id,
                status__in=HelpRequest.OPEN_STATUSES,
                first_contact_at__isnull=True,
                escalated_at__isnull=True,
                sla_due_at__lte=now,
            ).update(escalated_at=now, updated_at=now)
            if escalated:
                help_request = HelpRequest.objects.select_related("accepted_helper").get(pk=request_id)
                messages.escalation_notify(help_request=help_request)
                done += 1
    return done


def help_requests_unserved_sweep(*, now: datetime) -> int:
    """Pending requests past the waiting limit: Unserved, with a message pointing to other help."""
    done = 0
    for request_id in _due_ids(
        HelpRequest.objects.filter(status=HelpRequest.Status.PENDING), "unserved_at", now
    ):
        with transaction.atomic():
            help_request = _locked(request_id, skip_locked=True)
            if help_request is None:
                continue
            closed = HelpRequest.objects.filter(
                pk=request_id, status=HelpRequest.Status.PENDING, unserved_at__lte=now
            ).update(status=HelpRequest.Status.UNSERVED, closed_at=now, route_at=None, updated_at=now)
            if not closed:
                continue
            help_request.refresh_from_db()
            help_request_offers_close(help_request=help_request, now=now)
            messages.requester_unserved_notify(help_request=help_request)
            HelpRequest.objects.filter(pk=request_id).update(link_key="")
            done += 1
    return done


SWEEPS = {
    "ondemand.offers_expire": offers_expire_sweep,
    "ondemand.offers_remind": offers_remind_sweep,
    "ondemand.offers_abandon": offers_abandon_sweep,
    "ondemand.requests_route": help_requests_route_sweep,
    "ondemand.requests_sla": help_requests_sla_sweep,
    "ondemand.requests_unserved": help_requests_unserved_sweep,
}
