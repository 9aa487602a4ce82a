"""The Quick Updates Dashboard's Referral Manager (DESIGN §5.4; the On Demand FAQ, "How do I complete a
referral?"), on a computer, signed in: the helper's pending offers (Accept, Reject), their In Progress
requests and the recently closed ones. A request's page is Customer Details (`views_desk`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kynect.accounts.models import User
from kynect.core import clock
from kynect.ondemand.models import Helper, HelpRequest, Offer
from kynect.ondemand.selectors import helper_of, user_is_helper
from kynect.ondemand.services import offers
from kynect.ondemand.views_common import private_page
from kynect.ondemand.views_desk import (
    Desk,
    awaiting_passcode,
    desk_call,
    desk_complete,
    desk_dial,
    local_text,
    minutes_left,
    work_page,
)

RECENT_DAYS = 30
RECENT_LIMIT = 20


def _signed_in_helper(request: HttpRequest) -> Helper | None:
    user = request.user
    if not isinstance(user, User) or not user_is_helper(user=user):
        raise Http404
    return helper_of(user=user)


def _desk(request: HttpRequest, help_request_id: Any) -> Desk:
    """The signed-in helper's own request; any other is not found."""
    helper = _signed_in_helper(request)
    help_request = (
        HelpRequest.objects.filter(pk=help_request_id, accepted_helper=helper).first() if helper else None
    )
    if helper is None or help_request is None:
        raise Http404
    return Desk(help_request=help_request, helper=helper)


@login_required
@require_GET
def referrals(request: HttpRequest) -> HttpResponse:
    """The Quick Updates Dashboard's Referral Manager: only this helper's offers and requests."""
    helper = _signed_in_helper(request)
    if helper is None:
        return redirect("ondemand:home")
    now = clock.now()
    pending = (
        Offer.objects.filter(
            helper=helper,
            status=Offer.Status.PENDING,
            expires_at__gt=now,
            help_request__status=HelpRequest.Status.PENDING,
        )
        .select_related("help_request")
        .order_by("expires_at")
    )
    awaiting = Offer.objects.filter(
        help_request=OuterRef("pk"),
        helper=helper,
        status=Offer.Status.ACCEPTED,
        accepted_via=Offer.Via.LINK,
        verified_at__isnull=True,
    )
    in_progress = (
        HelpRequest.objects.filter(accepted_helper=helper, status=HelpRequest.Status.IN_PROGRESS)
        .annotate(awaiting_passcode=Exists(awaiting))
        .order_by("accepted_at")
    )
    closed = (
        HelpRequest.objects.filter(accepted_helper=helper, closed_at__gte=now - timedelta(days=RECENT_DAYS))
        .exclude(status__in=HelpRequest.OPEN_STATUSES)
        .order_by("-closed_at")[:RECENT_LIMIT]
    )
    context = {
        "helper": helper,
        "offers": [
            {
                "offer": offer,
                "help_request": offer.help_request,
                "minutes_left": minutes_left(offer.expires_at, now),
                "expires": local_text(offer.expires_at, helper),
            }
            for offer in pending
        ],
        "in_progress": [
            {"help_request": help_request, "call_by": local_text(help_request.sla_due_at, helper)}
            for help_request in in_progress
        ],
        "closed": [
            {"help_request": help_request, "closed": local_text(help_request.closed_at, helper)}
            for help_request in closed
        ],
    }
    return private_page(render(request, "ondemand/referrals/dashboard.html", context))


def _own_offer(request: HttpRequest, offer_id: Any) -> tuple[Offer, Helper]:
    helper = _signed_in_helper(request)
    offer = Offer.objects.filter(pk=offer_id, helper=helper).first() if helper else None
    if helper is None or offer is None:
        raise Http404
    return offer, helper


@login_required
@require_POST
def referral_accept(request: HttpRequest, offer_id: Any) -> HttpResponse:
    offer, helper = _own_offer(request, offer_id)
    try:
        offers.offer_accept(offer_id=offer.pk, helper=helper, via=Offer.Via.DESKTOP)
    except offers.OfferClosedError as error:
        messages.error(request, error.message)
        return redirect("ondemand:referrals")
    messages.success(request, _("You accepted the referral: it is In Progress. Contact the resident now."))
    return redirect("ondemand:referral", help_request_id=offer.help_request_id)


@login_required
@require_POST
def referral_reject(request: HttpRequest, offer_id: Any) -> HttpResponse:
    offer, helper = _own_offer(request, offer_id)
    try:
        offers.offer_reject(offer_id=offer.pk, helper=helper)
    except offers.OfferClosedError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You rejected the referral. We offer it to other helpers."))
    return redirect("ondemand:referrals")


@login_required
@require_GET
def referral(request: HttpRequest, help_request_id: Any) -> HttpResponse:
    return work_page(request, _desk(request, help_request_id))


def _desk_action(request: HttpRequest, help_request_id: Any) -> Desk | HttpResponse:
    desk = _desk(request, help_request_id)
    accepted = Offer.objects.filter(
        help_request=desk.help_request, helper=desk.helper, status=Offer.Status.ACCEPTED
    ).first()
    if accepted is not None and awaiting_passcode(accepted):
        return private_page(redirect(desk.url()))
    return desk


@login_required
@require_POST
def referral_call(request: HttpRequest, help_request_id: Any) -> HttpResponse:
    desk = _desk_action(request, help_request_id)
    return desk if isinstance(desk, HttpResponse) else desk_call(request, desk)


@login_required
@require_POST
def referral_dial(request: HttpRequest, help_request_id: Any) -> HttpResponse:
    desk = _desk_action(request, help_request_id)
    return desk if isinstance(desk, HttpResponse) else desk_dial(request, desk)


@login_required
@require_POST
def referral_complete(request: HttpRequest, help_request_id: Any) -> HttpResponse:
    desk = _desk_action(request, help_request_id)
    return desk if isinstance(desk, HttpResponse) else desk_complete(request, desk)
