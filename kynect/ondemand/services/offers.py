"""Writes for offering help requests to helpers (DESIGN §5.4, the On Demand FAQ): routing rounds,
accepting and rejecting, and misses.

1. `help_request_route` asks `routing` for the eligible helpers, best first. Round 1 is the General offer
   to the best one, for ONDEMAND_OFFER_MINUTES with a reminder before it expires.
2. On reject or timeout the request becomes a Mass referral: round 2 offers it at once to the next K best
   (ONDEMAND_MASS_SIZE); a round with no accept moves on to the next K. The first accept wins. A General
   offer still unanswered after ONDEMAND_WIDEN_AFTER_MINUTES is widened (ADR 0044): round 2 goes out
   beside it, and whichever offer is accepted first wins (`help_request_widen_locked`).
3. Nobody eligible: the request waits (`route_at`), and is routed again as soon as a helper becomes
   available, or every ONDEMAND_ROUTE_RETRY_SECONDS.

Locking: every transition locks the help request's row first (`help_request_lock`), then its offers, so
accepts, rejects and the sweeper never deadlock and never both apply. Each status change is a transition
of `ondemand.lifecycles` (a conditional update on the old status), and reads check deadlines (an offer
past `expires_at` cannot be accepted even before the sweeper gets to it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kynect.core import clock
from kynect.ondemand import messages, routing
from kynect.ondemand.lifecycles import HELP_REQUEST, OFFER
from kynect.ondemand.models import OFFER_LINK, Helper, HelpRequest, Offer
from kynect.ondemand.services.helpers import helper_responsiveness_count, waiting_requests_nudge
from kynect.ondemand.services.verification import offer_accept_settle, offer_passcode_send

logger = logging.getLogger(__name__)

NOT_REGISTERED = gettext_lazy(
    "You are not registered for kynect On Demand, so you cannot accept referrals. Register again to get "
    "referrals."
)


class OfferClosedError(Exception):
    """The offer can no longer be answered: another helper took the request, it expired, it closed, or the
    helper is no longer registered."""

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


def help_request_lock(help_request_id: Any, *, skip_locked: bool = False) -> HelpRequest | None:
    """The help request, its row locked for the transaction (the first lock of every transition)."""
    query = HelpRequest.objects.filter(pk=help_request_id)
    if transaction.get_connection().features.has_select_for_update:
        query = query.select_for_update(skip_locked=skip_locked)
    return query.first()


# --- Rounds ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteResult:
    offers: list[Offer]
    waiting: bool
    reason: str = ""


def help_request_route(*, help_request_id: Any, now: datetime | None = None) -> RouteResult:
    """Offer the request to its next round of helpers, or leave it waiting. Safe to call at any time:
    a request that is not Pending, has a round in flight, or is not due yet is left as it is."""
    with transaction.atomic():
        help_request = help_request_lock(help_request_id)
        if help_request is None:
            return RouteResult(offers=[], waiting=False, reason="missing")
        return help_request_route_locked(help_request=help_request, now=now or clock.now())


def help_request_route_locked(*, help_request: HelpRequest, now: datetime) -> RouteResult:
    """`help_request_route` for a request whose row the caller has locked."""
    if help_request.status != HelpRequest.Status.PENDING:
        return RouteResult(offers=[], waiting=False, reason="not pending")
    # A request's offers and its `rounds` are written together, so before its first round it has none.
    if help_request.rounds and help_request.offers.filter(status=Offer.Status.PENDING).exists():
        return RouteResult(offers=[], waiting=False, reason="round in flight")
    if help_request.clock_starts_at > now:
        _wait(help_request, until=help_request.clock_starts_at, now=now)
        return RouteResult(offers=[], waiting=True, reason="outside service hours")
    next_round = help_request.rounds + 1
    kind = routing.round_kind(round_number=next_round)
    size = 1 if kind == Offer.Kind.GENERAL else settings.ONDEMAND_MASS_SIZE
    language_required = routing.language_required(help_request=help_request, round_number=next_round)
    general = kind == Offer.Kind.GENERAL
    candidates = routing.candidates_ranked(
        help_request=help_request,
        at=now,
        language_required=language_required,
        read_whole=size,
        general=general,
    )
    if not candidates and language_required and routing.language_wait_over(help_request=help_request, at=now):
        help_request.language_relaxed = True
        HelpRequest.objects.filter(pk=help_request.pk).update(language_relaxed=True)
        candidates = routing.candidates_ranked(
            help_request=help_request, at=now, language_required=False, read_whole=size, general=general
        )
    if not candidates:
        _wait(help_request, until=now + timedelta(seconds=settings.ONDEMAND_ROUTE_RETRY_SECONDS), now=now)
        return RouteResult(offers=[], waiting=True, reason="nobody eligible")
    offers = _round_offer(help_request, candidates, kind=kind, size=size, round_number=next_round, now=now)
    if not offers:
        _wait(help_request, until=now + timedelta(seconds=settings.ONDEMAND_ROUTE_RETRY_SECONDS), now=now)
        return RouteResult(offers=[], waiting=True, reason="helpers taken by other requests")
    HelpRequest.objects.filter(pk=help_request.pk).update(
        rounds=next_round, route_at=None, waiting_since=None, updated_at=now
    )
    help_request.rounds, help_request.route_at, help_request.waiting_since = next_round, None, None
    return RouteResult(offers=offers, waiting=False)


def _round_offer(
    help_request: HelpRequest,
    candidates: list[routing.Candidate],
    *,
    kind: str,
    size: int,
    round_number: int,
    now: datetime,
) -> list[Offer]:
    """Offers to the first `size` candidates still free, notified together (none when all were taken)."""
    offers: list[Offer] = []
    for candidate in candidates:
        if len(offers) >= size:
            break
        offer = offer_create(
            help_request=help_request, candidate=candidate, kind=kind, round_number=round_number, now=now
        )
        if offer is not None:
            offers.append(offer)
    if offers:
        messages.offers_notify(offers=offers, help_request=help_request, reminder=False)
        logger.info(
            "Help request %s round %s offered to %s helper(s)", help_request.pk, round_number, len(offers)
        )
    return offers


def help_request_widen_locked(*, help_request: HelpRequest, general: Offer, now: datetime) -> list[Offer]:
    """Widen a General offer still unanswered at its `widen_at` (ADR 0044): the next round, a Mass round
    of K, goes out beside it, the General offer staying open; the first accept of either wins and
    rescinds the others, so a General helper beaten to it is not charged a miss. Nothing happens when
    the request is no longer waiting on that offer or nobody is eligible (the General offer then runs
    its course, and routing goes on as usual when it ends)."""
    next_round = help_request.rounds + 1
    if (
        help_request.status != HelpRequest.Status.PENDING
        or general.status != Offer.Status.PENDING
        or routing.round_kind(round_number=next_round) != Offer.Kind.MASS
    ):
        return []
    size = settings.ONDEMAND_MASS_SIZE
    candidates = routing.candidates_ranked(
        help_request=help_request,
        at=now,
        language_required=routing.language_required(help_request=help_request, round_number=next_round),
        read_whole=size,
    )
    offers = _round_offer(
        help_request, candidates, kind=Offer.Kind.MASS, size=size, round_number=next_round, now=now
    )
    if offers:
        HelpRequest.objects.filter(pk=help_request.pk).update(rounds=next_round, updated_at=now)
        help_request.rounds = next_round
    return offers


def _wait(help_request: HelpRequest, *, until: datetime, now: datetime) -> None:
    HelpRequest.objects.filter(pk=help_request.pk).update(
        route_at=until, waiting_since=help_request.waiting_since or now, updated_at=now
    )
    help_request.route_at = until
    help_request.waiting_since = help_request.waiting_since or now


def offer_create(
    *, help_request: HelpRequest, candidate: routing.Candidate, kind: str, round_number: int, now: datetime
) -> Offer | None:
    """One offer (its round's notifications go together), or None when the helper got another offer
    meanwhile."""
    expires_at = now + timedelta(minutes=settings.ONDEMAND_OFFER_MINUTES)
    remind_at = widen_at = None
    if kind == Offer.Kind.GENERAL and settings.ONDEMAND_REMINDER_MINUTES_BEFORE > 0:
        remind_at = expires_at - timedelta(minutes=settings.ONDEMAND_REMINDER_MINUTES_BEFORE)
    if (
        kind == Offer.Kind.GENERAL
        and 0 < settings.ONDEMAND_WIDEN_AFTER_MINUTES < settings.ONDEMAND_OFFER_MINUTES
    ):
        widen_at = now + timedelta(minutes=settings.ONDEMAND_WIDEN_AFTER_MINUTES)
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
        widen_at=widen_at,
    )
    offer.link_key, _token, offer.token_hash = OFFER_LINK.issue(row_id=offer.pk)
    try:
        with transaction.atomic():
            offer.save(force_insert=True)
    except IntegrityError:
        return None  # a pending offer for this helper already exists (routed concurrently)
    return offer


# --- Answering an offer -------------------------------------------------------------------------------


def _offer_and_request(offer_id: Any) -> tuple[Offer, HelpRequest]:
    """Locks the request, then the offer (the one lock order, see the module's docstring)."""
    request_id = Offer.objects.filter(pk=offer_id).values_list("help_request_id", flat=True).first()
    if request_id is None:
        raise OfferClosedError(_("This referral offer does not exist."), code="missing")
    help_request = help_request_lock(request_id)
    assert help_request is not None
    offer = Offer.objects.select_related("helper__user").get(pk=offer_id)
    return offer, help_request


@transaction.atomic
def offer_accept(*, offer_id: Any, helper: Helper, via: str, now: datetime | None = None) -> Offer:
    """The helper accepts: the request becomes In Progress for them and the other offers are rescinded.

    From the desktop Referral Manager the accept is complete (misses reset, the requester told who
    will call). From a link, the helper must then enter a passcode sent by text message within
    ONDEMAND_VERIFY_MINUTES; `offer_passcode_send` is called here. Raises OfferClosedError when the
    offer can no longer be accepted or the helper is not registered (de-registration rescinds their
    offers, but one routed at that same moment may still be pending), PermissionDenied when it is not
    this helper's.
    """
    now = now or clock.now()
    offer, help_request = _offer_and_request(offer_id)
    if offer.helper_id != helper.pk:
        raise PermissionDenied
    if via not in Offer.Via.values:
        raise ValueError(via)
    if offer.helper.status != Helper.Status.REGISTERED:
        raise OfferClosedError(str(NOT_REGISTERED), code="not_registered")
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
    actor = {"actor_id": helper.user_id}
    if not HELP_REQUEST.apply(
        "accept", instance=help_request, now=now, values={"accepted_helper": helper}, event=actor
    ):  # another accept landed after the reads above: say what became of both
        help_request.refresh_from_db()
        offer.refresh_from_db()
        raise _closed_message(offer, help_request, now)
    verify_due_at = (
        now + timedelta(minutes=settings.ONDEMAND_VERIFY_MINUTES) if via == Offer.Via.LINK else None
    )
    if not OFFER.apply(
        "accept",
        instance=offer,
        now=now,
        where=Q(expires_at__gt=now),
        values={"accepted_via": via, "verify_due_at": verify_due_at},
        event=actor,
    ):  # the exception rolls the request back to Pending
        offer.refresh_from_db()
        raise _closed_message(offer, help_request, now)
    if offers_rescind(help_request=help_request, keep=offer, now=now):
        waiting_requests_nudge(now=now)  # the other helpers of the round are free again
    helper_responsiveness_count(helper_id=helper.pk, now=now)
    if via == Offer.Via.DESKTOP:
        offer_accept_settle(offer=offer, help_request=help_request, now=now)
    else:
        offer_passcode_send(offer=offer, now=now, resend=False)
    logger.info("Offer %s accepted (%s)", offer.pk, via)
    return offer


def offers_rescind(*, help_request: HelpRequest, keep: Offer | None, now: datetime) -> int:
    """The request's pending offers (but `keep`) are rescinded: another helper won, or it closed."""
    others = Offer.objects.filter(help_request=help_request)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    return OFFER.apply_all("rescind", queryset=others, now=now, event={"help_request": help_request})


@transaction.atomic
def offer_reject(*, offer_id: Any, helper: Helper, now: datetime | None = None) -> Offer:
    """The helper rejects: misses reset; when no offer of the round is left, the next round goes out."""
    now = now or clock.now()
    offer, help_request = _offer_and_request(offer_id)
    if offer.helper_id != helper.pk:
        raise PermissionDenied
    if offer.status != Offer.Status.PENDING or offer.expires_at <= now:
        raise _closed_message(offer, help_request, now)
    OFFER.apply("reject", instance=offer, now=now, event={"actor_id": helper.user_id})
    Helper.objects.filter(pk=helper.pk).update(consecutive_misses=0, updated_at=now)
    helper_responsiveness_count(helper_id=helper.pk, now=now)
    help_request_route_locked(help_request=help_request, now=now)
    waiting_requests_nudge(now=now)
    return offer
