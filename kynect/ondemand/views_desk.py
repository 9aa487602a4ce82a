"""Customer Details of a referral a helper is working (DESIGN §5.4; the On Demand FAQ, "How do I complete
a referral?"): the requester's contact details, the call log, tap-to-call and Complete. The same page and
actions are reached from the signed-in Referral Manager (`views_referrals`) and from an offer's secret link
on a phone (`views_offer_link`). Every view of a requester's details is recorded as an access event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kynect.core.audit import audited_read
from kynect.core.phones import phone_display
from kynect.ondemand.confirmation import local_time_text
from kynect.ondemand.forms_referrals import CallLogForm, CompleteForm
from kynect.ondemand.models import CallAttempt, Helper, HelpRequest, Offer
from kynect.ondemand.services import help_requests
from kynect.ondemand.views_common import form_errors_add, private_page, secret_page

AUDIT_SUBJECT = "ondemand.helprequest"


class TelRedirect(HttpResponseRedirect):
    """Tap-to-call without JavaScript: the call is logged, then the phone's dialler opens."""

    allowed_schemes = ["tel"]


def local_text(at: datetime | None, helper: Helper) -> str:
    """A time on the helper's wall clock ("" for none)."""
    return local_time_text(at=at, time_zone=helper.time_zone) if at is not None else ""


def minutes_left(until: datetime, now: datetime) -> int:
    return max(0, math.ceil((until - now).total_seconds() / 60))


def wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


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
        return private_page(response) if self.offer is None else secret_page(response)


def work_page(
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
    if desk.offer is None and accepted is not None and awaiting_passcode(accepted):
        # Accepted from a link: the passcode on the phone comes first, or the referral goes elsewhere.
        return desk.done(
            render(
                request,
                "ondemand/referrals/referral.html",
                {
                    "help_request": help_request,
                    "awaiting_passcode": True,
                    "verify_by": local_text(accepted.verify_due_at, helper),
                },
            )
        )
    is_open = help_request.status == HelpRequest.Status.IN_PROGRESS

    def read() -> dict[str, Any]:
        return {
            "help_request": help_request,
            "desk": desk,
            "on_link": desk.offer is not None,
            "is_open": is_open,
            "phone": phone_display(help_request.phone),
            "tel": f"tel:{help_request.phone}",
            "county": help_request.county,
            "needs_interpreter": bool(accepted and accepted.needs_interpreter),
            "call_by": local_text(help_request.sla_due_at, helper),
            "attempts": list(help_request.call_attempts.order_by("at")),
            "time_zone": helper.time_zone,
            "call_form": call_form or CallLogForm(),
            "complete_form": complete_form or CompleteForm(),
            "actions": {
                "page": desk.url(),
                "call": desk.url("_call"),
                "dial": desk.url("_dial"),
                "complete": desk.url("_complete"),
            },
            "details_until": local_text(desk.offer.details_until, helper) if desk.offer is not None else "",
            "steps": _status_steps(help_request),
        }

    context = audited_read(
        request=request,
        actor=helper.user,
        subject_type=AUDIT_SUBJECT,
        subject_id=str(help_request.pk),
        detail="Customer Details, " + ("Referral Manager" if desk.offer is None else "offer link"),
        read=read,
    )
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


def awaiting_passcode(offer: Offer) -> bool:
    return offer.accepted_via == Offer.Via.LINK and offer.verified_at is None


def _refused(request: HttpRequest, desk: Desk, error: ValidationError) -> HttpResponse:
    """The request can no longer be changed (it is Complete, say): said on its page."""
    messages.error(request, " ".join(error.messages))
    return desk.done(redirect(desk.url()))


def desk_call(request: HttpRequest, desk: Desk) -> HttpResponse:
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
            form_errors_add(form, error)
        else:
            messages.success(request, _("Your call is logged."))
            return desk.done(redirect(desk.url()))
    return work_page(request, desk, call_form=form, status=400)


def desk_dial(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Log a call dialled from kynect, then open the dialler: by a redirect to the tel: address, or (for
    the script, which opens the dialler itself) with a JSON answer."""
    try:
        attempt = help_requests.call_attempt_log(
            help_request_id=desk.help_request.pk, helper=desk.helper, result=CallAttempt.Result.DIALLED
        )
    except ValidationError as error:
        if wants_json(request):
            return desk.done(JsonResponse({"logged": False, "message": " ".join(error.messages)}, status=409))
        return _refused(request, desk, error)
    message = _("Call logged at %(time)s. When you hang up, log what happened below.") % {
        "time": local_time_text(at=attempt.at, time_zone=desk.helper.time_zone)
    }
    if wants_json(request):
        return desk.done(JsonResponse({"logged": True, "message": message}))
    return desk.done(TelRedirect(f"tel:{desk.help_request.phone}"))


def desk_complete(request: HttpRequest, desk: Desk) -> HttpResponse:
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            help_requests.help_request_complete(
                help_request_id=desk.help_request.pk, helper=desk.helper, outcome=form.cleaned_data["outcome"]
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _refused(request, desk, error)
            form_errors_add(form, error)
        else:
            messages.success(request, _("The referral is Complete. Thank you for helping this resident."))
            return desk.done(redirect(desk.url()))
    return work_page(request, desk, complete_form=form, status=400)
