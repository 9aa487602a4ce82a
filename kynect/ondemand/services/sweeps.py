"""The sweeper's deadlines of On Demand (DESIGN §5.6): each sweep claims due rows in small batches and
applies their transition as a conditional update, so a crash or a second worker never loses or doubles
one. Rows another worker holds are skipped (SKIP LOCKED on PostgreSQL) and picked up on the next turn.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from kynect.core import clock
from kynect.core.codes import codes_close
from kynect.ondemand import messages
from kynect.ondemand.deadlines import DEADLINES
from kynect.ondemand.lifecycles import HELP_REQUEST, OFFER
from kynect.ondemand.models import HelpRequest, Offer, OfferPasscode
from kynect.ondemand.services.deregistration import helper_miss
from kynect.ondemand.services.helpers import helper_responsiveness_count, waiting_requests_nudge
from kynect.ondemand.services.offers import (
    help_request_lock,
    help_request_route_locked,
    help_request_widen_locked,
    offers_rescind,
)

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


def _due_ids(name: str, now: datetime) -> list[Any]:
    return list(DEADLINES[name].due(now=now).values_list("pk", flat=True)[:SWEEP_BATCH])


def offers_expire_sweep(*, now: datetime) -> int:
    """Pending offers past `expires_at`: expired; a General one is a miss; the round may end."""
    done = 0
    for offer_id in _due_ids("ondemand.offers_expire", now):
        done += _offer_expire(offer_id, now)
    return done


def _offer_expire(offer_id: Any, now: datetime) -> int:
    with transaction.atomic():
        request_id = Offer.objects.filter(pk=offer_id).values_list("help_request_id", flat=True).first()
        help_request = help_request_lock(request_id, skip_locked=True)
        if help_request is None:
            return 0  # another worker holds it; it will be done there or next turn
        offer = Offer.objects.filter(pk=offer_id).first()
        if offer is None:
            return 0
        expired = OFFER.apply(
            "expire",
            instance=offer,
            now=now,
            where=Q(expires_at__lte=now),
            values={"counted_miss": offer.kind == Offer.Kind.GENERAL},
        )
        if not expired:
            return 0
        if offer.kind == Offer.Kind.GENERAL:
            helper_miss(helper_id=offer.helper_id, now=now)
        else:
            waiting_requests_nudge(now=now)  # a Mass offer's helper is free again
        helper_responsiveness_count(helper_id=offer.helper_id, now=now)
        help_request_route_locked(help_request=help_request, now=now)
        return 1


def offers_remind_sweep(*, now: datetime) -> int:
    """General offers 5 minutes before they expire: a reminder by the helper's channels."""
    done = 0
    for offer_id in _due_ids("ondemand.offers_remind", now):
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
    for offer_id in _due_ids("ondemand.offers_abandon", now):
        with transaction.atomic():
            request_id = Offer.objects.filter(pk=offer_id).values_list("help_request_id", flat=True).first()
            help_request = help_request_lock(request_id, skip_locked=True)
            if help_request is None:
                continue
            offer = Offer.objects.get(pk=offer_id)
            abandoned = OFFER.apply(
                "abandon", instance=offer, now=now, where=Q(verified_at__isnull=True, verify_due_at__lte=now)
            )
            if not abandoned:
                continue
            codes_close(owned=OfferPasscode.objects.filter(offer_id=offer_id), now=now)
            HELP_REQUEST.apply(
                "return", instance=help_request, now=now, where=Q(accepted_helper_id=offer.helper_id)
            )
            helper_miss(helper_id=offer.helper_id, now=now)
            helper_responsiveness_count(helper_id=offer.helper_id, now=now)
            help_request_route_locked(help_request=help_request, now=now)
            done += 1
    return done


def offers_widen_sweep(*, now: datetime) -> int:
    """General offers still unanswered at `widen_at`: a Mass round goes out beside them (ADR 0044)."""
    done = 0
    for offer_id in _due_ids("ondemand.offers_widen", now):
        with transaction.atomic():
            request_id = Offer.objects.filter(pk=offer_id).values_list("help_request_id", flat=True).first()
            help_request = help_request_lock(request_id, skip_locked=True)
            if help_request is None:
                continue
            # Claimed once, whatever the round finds: a General offer is widened at most once.
            claimed = Offer.objects.filter(
                pk=offer_id, status=Offer.Status.PENDING, widened_at__isnull=True, widen_at__lte=now
            ).update(widened_at=now, updated_at=now)
            if not claimed:
                continue
            general = Offer.objects.get(pk=offer_id)
            if help_request_widen_locked(help_request=help_request, general=general, now=now):
                done += 1
    return done


ROUTE_BATCH = 50
ROUTE_IDLE_SECONDS = 0.2


def _next_due_request(now: datetime) -> HelpRequest | None:
    """The waiting request whose `route_at` came first, its row locked; one another worker holds is
    skipped (SKIP LOCKED), so workers routing at once take different requests and never wait."""
    due = DEADLINES["ondemand.requests_route"].due(now=now)
    if transaction.get_connection().features.has_select_for_update:
        due = due.select_for_update(skip_locked=True)
    return due.first()


def help_requests_route(*, now: datetime | None = None, limit: int = ROUTE_BATCH) -> int:
    """Route up to `limit` waiting requests whose `route_at` has come, oldest first, each in a
    transaction of its own; returns how many were routed. A new request is due at once, so this is how
    every request reaches routing (ADR 0036).

    Routing moves `route_at` on (offered: cleared; waiting: the next try). A request met again in the
    same pass did not move, so that it cannot hold up the others, it waits for the next try, logged."""
    seen: set[Any] = set()
    for _ in range(limit):
        at = now or clock.now()
        with transaction.atomic():
            help_request = _next_due_request(at)
            if help_request is None:
                break
            if help_request.pk in seen:
                logger.warning("Help request %s was still due after routing", help_request.pk)
                retry = at + timedelta(seconds=settings.ONDEMAND_ROUTE_RETRY_SECONDS)
                HelpRequest.objects.filter(pk=help_request.pk).update(route_at=retry)
                continue
            seen.add(help_request.pk)
            help_request_route_locked(help_request=help_request, now=at)
    return len(seen)


def help_requests_route_pass() -> float:
    """One pass of the worker's routing loop (`kynect.core.worker` runs it in a thread of its own);
    returns how many seconds to wait before the next."""
    return 0.0 if help_requests_route() == ROUTE_BATCH else ROUTE_IDLE_SECONDS


def help_requests_sla_sweep(*, now: datetime) -> int:
    """Open requests with no contact logged by `sla_due_at`: escalated to the helper's agency admin (if
    any) and the state administrators, once."""
    done = 0
    for request_id in _due_ids("ondemand.requests_sla", now):
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


def help_requests_dial_remind_sweep(*, now: datetime) -> int:
    """Accepted requests with no call logged at `dial_remind_at`: the helper is reminded to call, once
    (ADR 0044)."""
    done = 0
    for request_id in _due_ids("ondemand.requests_dial_remind", now):
        with transaction.atomic():
            reminded = HelpRequest.objects.filter(
                pk=request_id,
                status=HelpRequest.Status.IN_PROGRESS,
                first_contact_at__isnull=True,
                dial_reminded_at__isnull=True,
                dial_remind_at__lte=now,
            ).update(dial_reminded_at=now, updated_at=now)
            if reminded:
                help_request = HelpRequest.objects.select_related("accepted_helper__user").get(pk=request_id)
                messages.dial_reminder_notify(help_request=help_request)
                done += 1
            else:  # no longer in progress (closed, or back to routing): the reminder is not needed
                HelpRequest.objects.filter(
                    pk=request_id, dial_reminded_at__isnull=True, dial_remind_at__lte=now
                ).exclude(status=HelpRequest.Status.IN_PROGRESS).update(dial_remind_at=None, updated_at=now)
    return done


def help_requests_unserved_sweep(*, now: datetime) -> int:
    """Pending requests past the waiting limit: Unserved, with a message pointing to other help."""
    done = 0
    for request_id in _due_ids("ondemand.requests_unserved", now):
        with transaction.atomic():
            help_request = help_request_lock(request_id, skip_locked=True)
            if help_request is None:
                continue
            if not HELP_REQUEST.apply(
                "unserve", instance=help_request, now=now, where=Q(unserved_at__lte=now)
            ):
                continue
            offers_rescind(help_request=help_request, keep=None, now=now)
            messages.requester_unserved_notify(help_request=help_request)
            done += 1
    return done


# Named as their deadlines in DEADLINES.
SWEEPS = {
    "ondemand.offers_expire": offers_expire_sweep,
    "ondemand.offers_remind": offers_remind_sweep,
    "ondemand.offers_widen": offers_widen_sweep,
    "ondemand.offers_abandon": offers_abandon_sweep,
    "ondemand.requests_sla": help_requests_sla_sweep,
    "ondemand.requests_dial_remind": help_requests_dial_remind_sweep,
    "ondemand.requests_unserved": help_requests_unserved_sweep,
}
