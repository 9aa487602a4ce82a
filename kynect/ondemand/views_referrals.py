"""Helpers' pages for referrals (DESIGN §5.4; the On Demand FAQ, "How do I complete a referral?").

On a computer, signed in: the Quick Updates Dashboard's Referral Manager lists the helper's pending
offers (Accept, Reject), their In Progress requests and the recently closed ones; a request's page
shows the Customer Details, the call log, tap-to-call and Complete.

On a phone, with the secret link of the offer's email or text message (no sign-in): the Manage Referral
page, whose GET changes nothing (mail scanners open links). Accept sends a One Time Passcode by text
message; once it is entered, the Customer Details page (with the same call log, tap-to-call and
Complete) is open for ONDEMAND_DETAILS_SECONDS, in the browser session that entered it.

The link's POSTs are exempt from the CSRF check: they are authorised by the secret in their address,
which a page on another site cannot know, and the link's pages send no referrer at all, so browsers
send `Origin: null` with their forms, which the CSRF check refuses. Every view of a requester's details
is recorded as an access event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kynect.accounts.models import User
from kynect.core import clock
from kynect.core.audit import access_event_record
from kynect.core.phones import phone_display
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key
from kynect.ondemand.confirmation import local_time_text
from kynect.ondemand.forms_referrals import CallLogForm, CompleteForm, PasscodeForm
from kynect.ondemand.models import OFFER_LINK, CallAttempt, Helper, HelpRequest, Offer
from kynect.ondemand.selectors import helper_of, user_is_helper
from kynect.ondemand.services import help_requests, offers, verification

AUDIT_SUBJECT = "ondemand.helprequest"
# The offer ids whose passcode was entered in this browser session: only they open Customer Details.
SESSION_DETAILS = "ondemand_offer_details"
RECENT_DAYS = 30
RECENT_LIMIT = 20
# Per offer and hour, on top of routing's own limits (5 tries per passcode, a Resend cooldown): a bound
# on guessing and on text messages sent.
PASSCODE_TRIES_PER_HOUR = 30
RESENDS_PER_HOUR = 10
HOUR = 3600
# Passcode errors that are not about what was typed.
OFFER_PROBLEMS = ("missing", "closed", "late")


class TelRedirect(HttpResponseRedirect):
    """Tap-to-call without JavaScript: the call is logged, then the phone's dialler opens."""

    allowed_schemes = ["tel"]


def _secret_page(response: HttpResponse) -> HttpResponse:
    """A page of an offer's secret link: never cached, never indexed. (The site-wide same-origin referrer
    policy keeps its address from other sites; no-referrer would make browsers send `Origin: null` with
    its forms, which the CSRF check refuses.)"""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _private_page(response: HttpResponse) -> HttpResponse:
    """A signed-in page with a requester's details: never cached. (It keeps the site's same-origin
    referrer policy, which its CSRF-protected forms need.)"""
    add_never_cache_headers(response)
    return response


def _add_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            for message in field_errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _local(at: datetime | None, helper: Helper) -> str:
    return local_time_text(at=at, time_zone=helper.time_zone) if at is not None else ""


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(0, math.ceil((until - now).total_seconds() / 60))


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


# --- Where a request is worked from -----------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """A request being worked: from the signed-in Referral Manager (`offer` None), or from an offer's
    secret link on a phone. Gives the addresses of its page and actions."""

    help_request: HelpRequest
    helper: Helper
    offer: Offer | None = None
    token: str = ""

    def url(self, action: str = "") -> str:
        if self.offer is None:
            return reverse(f"ondemand:referral{action}", kwargs={"help_request_id": self.help_request.pk})
        return reverse(
            f"ondemand:offer_details{action}", kwargs={"offer_id": self.offer.pk, "token": self.token}
        )

    def done(self, response: HttpResponse) -> HttpResponse:
        return _private_page(response) if self.offer is None else _secret_page(response)


def _work_page(
    request: HttpRequest,
    desk: Desk,
    *,
    call_form: CallLogForm | None = None,
    complete_form: CompleteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """Customer Details with the call log, tap-to-call and Complete; recorded as an access event."""
    help_request, helper = desk.help_request, desk.helper
    accepted = Offer.objects.filter(
        help_request=help_request, helper=helper, status=Offer.Status.ACCEPTED
    ).first()
    if desk.offer is None and accepted is not None and _awaiting_passcode(accepted):
        # Accepted from a link: the passcode on the phone comes first, or the referral goes elsewhere.
        return desk.done(
            render(
                request,
                "ondemand/referrals/referral.html",
                {
                    "help_request": help_request,
                    "awaiting_passcode": True,
                    "verify_by": _local(accepted.verify_due_at, helper),
                },
            )
        )
    with transaction.atomic():
        access_event_record(
            actor=helper.user,
            subject_type=AUDIT_SUBJECT,
            subject_id=str(help_request.pk),
            detail="Customer Details, " + ("Referral Manager" if desk.offer is None else "offer link"),
            request=request,
        )
    is_open = help_request.status == HelpRequest.Status.IN_PROGRESS
    context = {
        "help_request": help_request,
        "desk": desk,
        "on_link": desk.offer is not None,
        "is_open": is_open,
        "phone": phone_display(help_request.phone),
        "tel": f"tel:{help_request.phone}",
        "county": help_request.county,
        "needs_interpreter": bool(accepted and accepted.needs_interpreter),
        "call_by": _local(help_request.sla_due_at, helper),
        "attempts": help_request.call_attempts.order_by("at"),
        "time_zone": helper.time_zone,
        "call_form": call_form or CallLogForm(),
        "complete_form": complete_form or CompleteForm(),
        "actions": {
            "page": desk.url(),
            "call": desk.url("_call"),
            "dial": desk.url("_dial"),
            "complete": desk.url("_complete"),
        },
        "details_until": _local(desk.offer.details_until, helper) if desk.offer is not None else "",
        "steps": _status_steps(help_request),
    }
    template = (
        "ondemand/referrals/details.html" if desk.offer is not None else "ondemand/referrals/referral.html"
    )
    return desk.done(render(request, template, context, status=status))


def _status_steps(help_request: HelpRequest) -> list[dict[str, Any]]:
    """Pending → In Progress → Complete, for the step indicator."""
    order: list[str] = [
        HelpRequest.Status.PENDING,
        HelpRequest.Status.IN_PROGRESS,
        HelpRequest.Status.COMPLETE,
    ]
    done = help_request.status == HelpRequest.Status.COMPLETE
    current = order.index(help_request.status) if help_request.status in order else -1
    return [
        {
            "label": HelpRequest.Status(value).label,
            "state": "complete" if index < current or done else "current" if index == current else "",
        }
        for index, value in enumerate(order)
    ]


def _awaiting_passcode(offer: Offer) -> bool:
    return offer.accepted_via == Offer.Via.LINK and offer.verified_at is None


def _refused(request: HttpRequest, desk: Desk, error: ValidationError) -> HttpResponse:
    """The request can no longer be changed (it is Complete, say): said on its page."""
    messages.error(request, " ".join(error.messages))
    return desk.done(redirect(desk.url()))


def _call(request: HttpRequest, desk: Desk) -> HttpResponse:
    form = CallLogForm(request.POST)
    if form.is_valid():
        try:
            help_requests.call_attempt_log(
                help_request_id=desk.help_request.pk,
                helper=desk.helper,
                result=form.cleaned_data["result"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _refused(request, desk, error)
            _add_errors(form, error)
        else:
            messages.success(request, _("Your call is logged."))
            return desk.done(redirect(desk.url()))
    return _work_page(request, desk, call_form=form, status=400)


def _dial(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Log a call dialled from kynect, then open the dialler: by a redirect to the tel: address, or (for
    the script, which opens the dialler itself) with a JSON answer."""
    try:
        attempt = help_requests.call_attempt_log(
            help_request_id=desk.help_request.pk, helper=desk.helper, result=CallAttempt.Result.DIALLED
        )
    except ValidationError as error:
        if _wants_json(request):
            return desk.done(JsonResponse({"logged": False, "message": " ".join(error.messages)}, status=409))
        return _refused(request, desk, error)
    message = _("Call logged at %(time)s. When you hang up, log what happened below.") % {
        "time": local_time_text(at=attempt.at, time_zone=desk.helper.time_zone)
    }
    if _wants_json(request):
        return desk.done(JsonResponse({"logged": True, "message": message}))
    return desk.done(TelRedirect(f"tel:{desk.help_request.phone}"))


def _complete(request: HttpRequest, desk: Desk) -> HttpResponse:
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            help_requests.help_request_complete(
                help_request_id=desk.help_request.pk, helper=desk.helper, outcome=form.cleaned_data["outcome"]
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _refused(request, desk, error)
            _add_errors(form, error)
        else:
            messages.success(request, _("The referral is Complete. Thank you for helping this resident."))
            return desk.done(redirect(desk.url()))
    return _work_page(request, desk, complete_form=form, status=400)


# --- The Referral Manager (signed in) ------------------------------------------------------------------


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
                "minutes_left": _minutes_left(offer.expires_at, now),
                "expires": _local(offer.expires_at, helper),
            }
            for offer in pending
        ],
        "in_progress": [
            {"help_request": help_request, "call_by": _local(help_request.sla_due_at, helper)}
            for help_request in in_progress
        ],
        "closed": [
            {"help_request": help_request, "closed": _local(help_request.closed_at, helper)}
            for help_request in closed
        ],
    }
    return _private_page(render(request, "ondemand/referrals/dashboard.html", context))


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
    return _work_page(request, _desk(request, help_request_id))


def _desk_action(request: HttpRequest, help_request_id: Any) -> Desk | HttpResponse:
    desk = _desk(request, help_request_id)
    accepted = Offer.objects.filter(
        help_request=desk.help_request, helper=desk.helper, status=Offer.Status.ACCEPTED
    ).first()
    if accepted is not None and _awaiting_passcode(accepted):
        return _private_page(redirect(desk.url()))
    return desk


@login_required
@require_POST
def referral_call(request: HttpRequest, help_request_id: Any) -> HttpResponse:
    desk = _desk_action(request, help_request_id)
    return desk if isinstance(desk, HttpResponse) else _call(request, desk)


@login_required
@require_POST
def referral_dial(request: HttpRequest, help_request_id: Any) -> HttpResponse:
    desk = _desk_action(request, help_request_id)
    return desk if isinstance(desk, HttpResponse) else _dial(request, desk)


@login_required
@require_POST
def referral_complete(request: HttpRequest, help_request_id: Any) -> HttpResponse:
    desk = _desk_action(request, help_request_id)
    return desk if isinstance(desk, HttpResponse) else _complete(request, desk)


# --- The offer's secret link (phone) ------------------------------------------------------------------


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
    if offer.status == Offer.Status.PENDING and offer.expires_at > now:
        if help_request.status == HelpRequest.Status.PENDING:
            return "open", ""
    elif offer.status == Offer.Status.ACCEPTED and mine:
        if _awaiting_passcode(offer):
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
        "minutes_left": _minutes_left(offer.expires_at, now),
        "expires": _local(offer.expires_at, offer.helper),
        "verify_by": _local(offer.verify_due_at, offer.helper),
        "details_open": details_open and _details_allowed(request, offer),
    }
    return _secret_page(render(request, "ondemand/referrals/manage.html", context, status=status))


@require_GET
def offer_link(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    """Manage Referral: what the referral is, with Accept and Reject. Opening it changes nothing."""
    return _manage_page(request, _offer_by_link(offer_id, token), token)


def _to(name: str, offer: Offer, token: str) -> HttpResponse:
    return _secret_page(redirect(f"ondemand:{name}", offer_id=offer.pk, token=token))


@require_POST
def offer_link_accept(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    offer = _offer_by_link(offer_id, token)
    try:
        offers.offer_accept(offer_id=offer.pk, helper=offer.helper, via=Offer.Via.LINK)
    except offers.OfferClosedError as error:
        if error.code == "accepted" and offer.accepted_via == Offer.Via.LINK:
            return _to("offer_passcode", offer, token)  # Accept pressed twice
        return _manage_page(request, _offer_by_link(offer_id, token), token, error=error.message, status=409)
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
        "verify_by": _local(offer.verify_due_at, offer.helper) if state == "passcode" else "",
    }
    return _secret_page(render(request, "ondemand/referrals/passcode.html", context, status=status))


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
    return _secret_page(render(request, "ondemand/referrals/details_closed.html", context))


@require_GET
def offer_link_details(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    """Customer Details, open for a few minutes after the passcode; then it says so and offers Resend."""
    offer, desk = _link_desk(request, offer_id, token)
    if desk is None:
        return _details_closed(request, offer, token)
    return _work_page(request, desk)


def _link_action(request: HttpRequest, offer_id: Any, token: str) -> Desk | HttpResponse:
    offer, desk = _link_desk(request, offer_id, token)
    if desk is not None:
        return desk
    if _wants_json(request):
        return _secret_page(
            JsonResponse({"logged": False, "message": _("Customer Details are closed.")}, status=403)
        )
    return _to("offer_details", offer, token)


@require_POST
def offer_link_call(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    desk = _link_action(request, offer_id, token)
    return desk if isinstance(desk, HttpResponse) else _call(request, desk)


@require_POST
def offer_link_dial(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    desk = _link_action(request, offer_id, token)
    return desk if isinstance(desk, HttpResponse) else _dial(request, desk)


@require_POST
def offer_link_complete(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    desk = _link_action(request, offer_id, token)
    return desk if isinstance(desk, HttpResponse) else _complete(request, desk)
