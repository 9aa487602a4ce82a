"""An offer's secret link, on a phone, with no sign-in (DESIGN §5.4; the On Demand FAQ, "How do I
complete a referral?"): the Manage Referral page of the offer's email or text message, whose GET changes
nothing (mail scanners open links). Accept sends a One Time Passcode by text message; once it is entered,
Customer Details (`views_desk`, with the call log, tap-to-call and Complete) are open for
ONDEMAND_DETAILS_SECONDS, in the browser session that entered it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kynect.core import clock
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key
from kynect.ondemand.forms_referrals import PasscodeForm
from kynect.ondemand.models import OFFER_LINK, Helper, HelpRequest, Offer
from kynect.ondemand.services import offers, verification
from kynect.ondemand.views_common import secret_page
from kynect.ondemand.views_desk import (
    Desk,
    awaiting_passcode,
    desk_call,
    desk_complete,
    desk_dial,
    local_text,
    minutes_left,
    wants_json,
    work_page,
)

# The offer ids whose passcode was entered in this browser session: only they open Customer Details.
SESSION_DETAILS = "ondemand_offer_details"
# Per offer and hour, on top of routing's own limits (5 tries per passcode, a Resend cooldown): a bound
# on guessing and on text messages sent.
PASSCODE_TRIES_PER_HOUR = 30
RESENDS_PER_HOUR = 10
HOUR = 3600
# Passcode errors that are not about what was typed.
OFFER_PROBLEMS = ("missing", "closed", "late")


def _offer_by_link(offer_id: Any, token: str) -> Offer:
    """The offer this link opens; anything else is a plain 404. The token is compared in constant time."""
    offer = Offer.objects.select_related("help_request", "helper__user").filter(pk=offer_id).first()
    stored_hash = offer.token_hash if offer is not None else ""
    if not OFFER_LINK.matches(row_id=offer_id, secret=token, stored_hash=stored_hash):
        raise Http404
    assert offer is not None
    return offer


def _offer_state(offer: Offer, now: datetime) -> tuple[str, str]:
    """What the Manage Referral page shows: "open" (Accept or Reject), "passcode" (accepted here, the
    passcode is due), "accepted", or "closed" with why."""
    help_request = offer.help_request
    mine = help_request.accepted_helper_id == offer.helper_id
    if offer.status != Offer.Status.ACCEPTED and offer.helper.status != Helper.Status.REGISTERED:
        return "closed", str(offers.NOT_REGISTERED)
    if offer.status == Offer.Status.PENDING and offer.expires_at > now:
        if help_request.status == HelpRequest.Status.PENDING:
            return "open", ""
    elif offer.status == Offer.Status.ACCEPTED and mine:
        if awaiting_passcode(offer):
            if offer.verify_due_at is not None and offer.verify_due_at > now:
                return "passcode", ""
            return "closed", _(
                "You did not enter the passcode in time, so the referral went to another helper."
            )
        return "accepted", ""
    if offer.status == Offer.Status.REJECTED:
        return "closed", _("You rejected this referral. We offer it to other helpers.")
    if offer.status == Offer.Status.ABANDONED:
        return "closed", _("You did not enter the passcode in time, so the referral went to another helper.")
    if offer.status == Offer.Status.ACCEPTED:
        return "closed", _("This referral is no longer yours.")
    if help_request.status in (HelpRequest.Status.IN_PROGRESS, HelpRequest.Status.COMPLETE) and not mine:
        return "closed", _("This referral was already taken by another helper.")
    if offer.status == Offer.Status.RESCINDED or help_request.status != HelpRequest.Status.PENDING:
        return "closed", _("This referral is closed: the resident no longer needs a call.")
    return "closed", _("This referral offer expired.")


def _details_allowed(request: HttpRequest, offer: Offer) -> bool:
    return str(offer.pk) in request.session.get(SESSION_DETAILS, [])


def _manage_page(
    request: HttpRequest, offer: Offer, token: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    now = clock.now()
    state, why = _offer_state(offer, now)
    details_open = state == "accepted" and verification.offer_details_open(offer=offer, now=now)
    context = {
        "offer": offer,
        "help_request": offer.help_request,
        "token": token,
        "state": state,
        "why": why,
        "error": error,
        "minutes_left": minutes_left(offer.expires_at, now),
        "expires": local_text(offer.expires_at, offer.helper),
        "verify_by": local_text(offer.verify_due_at, offer.helper),
        "details_open": details_open and _details_allowed(request, offer),
    }
    return secret_page(render(request, "ondemand/referrals/manage.html", context, status=status))


@require_GET
def offer_link(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    """Manage Referral: what the referral is, with Accept and Reject. Opening it changes nothing."""
    return _manage_page(request, _offer_by_link(offer_id, token), token)


def _to(name: str, offer: Offer, token: str) -> HttpResponse:
    return secret_page(redirect(f"ondemand:{name}", offer_id=offer.pk, token=token))


@require_POST
def offer_link_accept(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    offer = _offer_by_link(offer_id, token)
    try:
        offers.offer_accept(offer_id=offer.pk, helper=offer.helper, via=Offer.Via.LINK)
    except offers.OfferClosedError as error:
        offer = _offer_by_link(offer_id, token)  # as it is now: another tap may have accepted it meanwhile
        if error.code == "accepted" and offer.accepted_via == Offer.Via.LINK:
            return _to("offer_passcode", offer, token)  # Accept pressed twice, or tapped at once
        return _manage_page(request, offer, token, error=error.message, status=409)
    return _to("offer_passcode", offer, token)


@require_POST
def offer_link_reject(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    offer = _offer_by_link(offer_id, token)
    try:
        offers.offer_reject(offer_id=offer.pk, helper=offer.helper)
    except offers.OfferClosedError as error:
        return _manage_page(request, _offer_by_link(offer_id, token), token, error=error.message, status=409)
    return _to("offer", offer, token)


@require_http_methods(["GET", "POST"])
def offer_link_passcode(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    """The One Time Passcode sent after a link accept (or asked for with Resend), then Continue."""
    offer = _offer_by_link(offer_id, token)
    state, _why = _offer_state(offer, clock.now())
    if state not in ("passcode", "accepted"):
        return _to("offer", offer, token)
    form = PasscodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        tries = rate_limit_hit(
            key=rate_limit_key("ondemand.offer_passcode_try", str(offer.pk)),
            limit=PASSCODE_TRIES_PER_HOUR,
            window_seconds=HOUR,
        )
        if not tries.allowed:
            status = 429
            form.add_error(
                None, _("Too many tries. Wait an hour, or accept referrals in the Referral Manager.")
            )
        elif form.is_valid():
            try:
                verification.offer_passcode_verify(offer_id=offer.pk, code=form.cleaned_data["code"])
            except verification.PasscodeError as error:
                form.add_error(None if error.code in OFFER_PROBLEMS else "code", error.message)
            else:
                allowed = [key for key in request.session.get(SESSION_DETAILS, []) if key != str(offer.pk)]
                request.session[SESSION_DETAILS] = [*allowed[-9:], str(offer.pk)]
                return _to("offer_details", offer, token)
    phone = offer.helper.phone
    context = {
        "offer": offer,
        "token": token,
        "form": form,
        "phone_end": phone[-4:],
        "minutes": settings.ONDEMAND_PASSCODE_SECONDS // 60,
        "details_minutes": settings.ONDEMAND_DETAILS_SECONDS // 60,
        "verify_by": local_text(offer.verify_due_at, offer.helper) if state == "passcode" else "",
    }
    return secret_page(render(request, "ondemand/referrals/passcode.html", context, status=status))


@require_POST
def offer_link_resend(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    offer = _offer_by_link(offer_id, token)
    sent = rate_limit_hit(
        key=rate_limit_key("ondemand.offer_passcode_send", str(offer.pk)),
        limit=RESENDS_PER_HOUR,
        window_seconds=HOUR,
    )
    if not sent.allowed:
        messages.error(
            request,
            _("You asked for many passcodes. Wait an hour, or use the Referral Manager on a computer."),
        )
        return _to("offer_passcode", offer, token)
    try:
        verification.offer_passcode_send(offer=offer)
    except verification.PasscodeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("We sent a new passcode. Passcodes sent before it no longer work."))
    return _to("offer_passcode", offer, token)


def _link_desk(request: HttpRequest, offer_id: Any, token: str) -> tuple[Offer, Desk | None]:
    """The offer, and its request to work when Customer Details are open in this browser session."""
    offer = _offer_by_link(offer_id, token)
    if not (verification.offer_details_open(offer=offer) and _details_allowed(request, offer)):
        return offer, None
    return offer, Desk(help_request=offer.help_request, helper=offer.helper, offer=offer, token=token)


def _details_closed(request: HttpRequest, offer: Offer, token: str) -> HttpResponse:
    context = {"offer": offer, "token": token, "minutes": settings.ONDEMAND_DETAILS_SECONDS // 60}
    return secret_page(render(request, "ondemand/referrals/details_closed.html", context))


@require_GET
def offer_link_details(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    """Customer Details, open for a few minutes after the passcode; then it says so and offers Resend."""
    offer, desk = _link_desk(request, offer_id, token)
    if desk is None:
        return _details_closed(request, offer, token)
    return work_page(request, desk)


def _link_action(request: HttpRequest, offer_id: Any, token: str) -> Desk | HttpResponse:
    offer, desk = _link_desk(request, offer_id, token)
    if desk is not None:
        return desk
    if wants_json(request):
        return secret_page(
            JsonResponse({"logged": False, "message": _("Customer Details are closed.")}, status=403)
        )
    return _to("offer_details", offer, token)


@require_POST
def offer_link_call(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    desk = _link_action(request, offer_id, token)
    return desk if isinstance(desk, HttpResponse) else desk_call(request, desk)


@require_POST
def offer_link_dial(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    desk = _link_action(request, offer_id, token)
    return desk if isinstance(desk, HttpResponse) else desk_dial(request, desk)


@require_POST
def offer_link_complete(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    desk = _link_action(request, offer_id, token)
    return desk if isinstance(desk, HttpResponse) else desk_complete(request, desk)
