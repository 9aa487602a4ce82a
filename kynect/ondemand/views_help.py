"""A resident's request for a call from a helper (DESIGN §5.4): public, no sign-in. The status and
cancel pages open only with the requester's secret link; each view of them is recorded as an access
event."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from kynect.core.audit import audited_read, client_ip
from kynect.core.phones import phone_display
from kynect.ondemand.confirmation import ZONE_NAMES, local_time_text
from kynect.ondemand.forms import HelpRequestForm
from kynect.ondemand.models import HelpRequest
from kynect.ondemand.selectors import help_request_by_link, help_request_caller, service_hours_table
from kynect.ondemand.services.help_requests import (
    DuplicateHelpRequestError,
    HelpRequestLimitError,
    help_request_submit,
)
from kynect.ondemand.services.help_requests import help_request_cancel as help_request_cancel_service
from kynect.ondemand.views_common import form_errors_add, secret_page

# The secret links of the requests made in this browser session, by request id, so that the
# confirmation page and a duplicate's message can link to the status page.
SESSION_LINKS = "ondemand_help_links"


def _help_context(**extra: Any) -> dict[str, Any]:
    return {
        "service_hours": service_hours_table(),
        "service_hours_zone": ZONE_NAMES.get(settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE, ""),
        "callback_minutes": settings.ONDEMAND_CALLBACK_MINUTES,
        **extra,
    }


@require_http_methods(["GET", "POST"])
def help_request(request: HttpRequest) -> HttpResponse:
    language = translation.get_language() or settings.LANGUAGE_CODE
    form = HelpRequestForm(request.POST or None, language=language)
    status = 200
    existing_link = None
    retry_after = 0
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                submitted = help_request_submit(
                    name=data["name"],
                    phone=data["phone"],
                    email=data["email"],
                    contact_method=data["contact_method"],
                    language=data["language"],
                    zip_code=data["zip_code"],
                    program=data["program"],
                    consent=data["consent"],
                    message_language=language,
                    client_key=client_ip(request),
                )
            except ValidationError as error:
                form_errors_add(form, error)
            except HelpRequestLimitError as limit:
                status, retry_after = 429, limit.retry_after_seconds
                minutes = math.ceil(retry_after / 60)
                form.add_error(
                    None,
                    ngettext(
                        "Too many requests have come from here. Try again in %(count)s minute, or call "
                        "2-1-1.",
                        "Too many requests have come from here. Try again in %(count)s minutes, or call "
                        "2-1-1.",
                        minutes,
                    )
                    % {"count": minutes},
                )
            except DuplicateHelpRequestError as duplicate:
                status = 409
                token = request.session.get(SESSION_LINKS, {}).get(str(duplicate.existing.pk))
                if token:
                    existing_link = reverse(
                        "ondemand:help_status", kwargs={"request_id": duplicate.existing.pk, "token": token}
                    )
                form.add_error(
                    None,
                    _(
                        "You already have an open request from this phone number, so we did not make a "
                        "second one. See its status page with the link in the confirmation we sent you."
                    ),
                )
            else:
                links = request.session.get(SESSION_LINKS, {})
                links[str(submitted.help_request.pk)] = submitted.token
                request.session[SESSION_LINKS] = links
                return redirect("ondemand:help_sent", request_id=submitted.help_request.pk)
    response = render(
        request,
        "ondemand/help_request.html",
        _help_context(form=form, existing_link=existing_link),
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)  # when this client's window ends
    return response


def _help_request_page(
    request: HttpRequest, *, help_request: HelpRequest, token: str, template: str, **extra: Any
) -> HttpResponse:
    context = audited_read(
        request=request,
        actor=None,
        subject_type="ondemand.helprequest",
        subject_id=str(help_request.pk),
        detail=f"{template.rsplit('/', 1)[-1]} by the requester's secret link",
        read=lambda: _help_context(
            help_request=help_request,
            token=token,
            county=help_request.county,
            phone=phone_display(help_request.phone),
            call_by=local_time_text(at=help_request.sla_due_at, time_zone=help_request.time_zone),
            inside_hours=help_request.clock_starts_at == help_request.submitted_at,
            caller=help_request_caller(help_request=help_request),
            call_centre_phone=settings.ONDEMAND_CALL_CENTRE_PHONE,
            **extra,
        ),
    )
    return secret_page(render(request, template, context, status=400 if extra.get("error") else 200))


@require_http_methods(["GET"])
def help_request_sent(request: HttpRequest, request_id: Any) -> HttpResponse:
    """The confirmation right after submitting: what happens next and by when."""
    token = request.session.get(SESSION_LINKS, {}).get(str(request_id))
    help_request = help_request_by_link(request_id=str(request_id), token=token) if token else None
    if help_request is None:
        raise Http404
    return _help_request_page(
        request, help_request=help_request, token=token, template="ondemand/help_request_sent.html"
    )


@require_http_methods(["GET"])
def help_request_status(request: HttpRequest, request_id: Any, token: str) -> HttpResponse:
    help_request = help_request_by_link(request_id=str(request_id), token=token)
    if help_request is None:
        raise Http404
    return _help_request_page(
        request, help_request=help_request, token=token, template="ondemand/help_request_status.html"
    )


@require_http_methods(["GET", "POST"])
def help_request_cancel(request: HttpRequest, request_id: Any, token: str) -> HttpResponse:
    """GET shows the Cancel button and changes nothing (mail scanners open links); POST cancels."""
    help_request = help_request_by_link(request_id=str(request_id), token=token)
    if help_request is None:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            help_request_cancel_service(help_request=help_request)
        except ValidationError as problem:
            error = problem.messages[0]
        else:
            messages.success(request, _("Your request is cancelled. Nobody will call you about it."))
            return secret_page(redirect("ondemand:help_status", request_id=help_request.pk, token=token))
    return _help_request_page(
        request,
        help_request=help_request,
        token=token,
        template="ondemand/help_request_cancel.html",
        error=error,
    )
