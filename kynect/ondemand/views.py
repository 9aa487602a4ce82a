"""The kynect On Demand tab: registration in the On Demand FAQ's three steps, preferences, time off,
and the page where agency admins and state administrators mark kynectors active."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kynect.accounts.models import Membership, User
from kynect.core import clock
from kynect.core.audit import access_event_record, client_ip
from kynect.core.phones import phone_display
from kynect.ondemand.confirmation import ZONE_NAMES, local_time_text
from kynect.ondemand.forms import AgreeForm, CodeForm, ContactForm, HelpRequestForm, ScheduleForm, TimeOffForm
from kynect.ondemand.models import Helper, HelpRequest, TimeOff
from kynect.ondemand.selectors import (
    agency_memberships_managed_by,
    can_manage_helpers,
    can_set_agency_active,
    help_request_by_link,
    help_request_caller,
    helper_problems,
    helper_steps,
    mobile_verification_open,
    service_hours_table,
    user_is_helper,
)
from kynect.ondemand.services.help_requests import (
    DuplicateHelpRequestError,
    HelpRequestLimitError,
    help_request_submit,
)
from kynect.ondemand.services.help_requests import help_request_cancel as help_request_cancel_service
from kynect.ondemand.services.helpers import (
    helper_agency_active_set,
    helper_agree_terms,
    helper_availability_set,
    helper_contact_update,
    helper_schedule_update,
    helper_start,
    time_off_add,
    time_off_remove,
)
from kynect.ondemand.services.verification import mobile_code_resend, mobile_code_verify

MY_INFORMATION = "accounts:my_information"
STEP_TITLES = (
    gettext_lazy("Agree to Register"),
    gettext_lazy("Preferred Contact Information"),
    gettext_lazy("Schedule & Availability"),
)


def _helper(request: HttpRequest) -> Helper:
    """The signed-in helper's row (created on first visit); 403 for anyone without a helper role."""
    user = request.user
    if not isinstance(user, User) or not user_is_helper(user=user):
        raise PermissionDenied
    return helper_start(user=user)


def _add_errors(form: Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            for message in field_errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _steps(helper: Helper) -> Any:
    return helper_steps(helper=helper, terms_version=settings.ONDEMAND_TERMS_VERSION)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], form: Form | None = None
) -> HttpResponse:
    status = 400 if form is not None and form.errors else 200
    context.setdefault("step_titles", STEP_TITLES)
    return render(request, template, context, status=status)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    return render(
        request,
        "ondemand/home.html",
        {
            "helper": helper,
            "steps": _steps(helper),
            "problems": helper_problems(helper=helper),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agree(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    if helper.status == Helper.Status.REGISTERED:
        return redirect("ondemand:home")
    form = AgreeForm(request.POST or None, helper=helper)
    if request.method == "POST" and form.is_valid():
        try:
            helper_agree_terms(helper=helper, npn=form.cleaned_data.get("npn", ""))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect("ondemand:contact")
    problems = [] if helper.role == Helper.Role.AGENT else helper_problems(helper=helper)
    return _render(
        request,
        "ondemand/agree.html",
        {"helper": helper, "form": form, "problems": problems, "current_step": 1},
        form,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    if helper.terms_agreed_at is None and helper.status != Helper.Status.REGISTERED:
        return redirect("ondemand:agree")
    form = ContactForm(request.POST or None, helper=helper)
    if request.method == "POST" and form.is_valid():
        try:
            result = helper_contact_update(
                helper=helper,
                phone=form.cleaned_data["phone"],
                phone_source=form.source("phone_source"),
                email=form.cleaned_data["email"],
                email_source=form.source("email_source"),
                channel=form.cleaned_data["channel"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if result.verification is not None:
                return redirect("ondemand:verify")
            if result.helper.status == Helper.Status.REGISTERED:
                messages.success(request, _("Your preferred contact information is saved."))
                return redirect(MY_INFORMATION)
            return redirect("ondemand:schedule")
    return _render(
        request,
        "ondemand/contact.html",
        {
            "helper": helper,
            "form": form,
            "account_phone": phone_display(helper.user.phone) if helper.user.phone else "",
            "current_step": 2,
        },
        form,
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    verification = mobile_verification_open(helper=helper)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            helper = mobile_code_verify(helper=helper, code=form.cleaned_data["code"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Your mobile phone number is verified."))
            if helper.status == Helper.Status.REGISTERED:
                return redirect(MY_INFORMATION)
            return redirect("ondemand:schedule")
    return _render(
        request,
        "ondemand/verify.html",
        {
            "helper": helper,
            "form": form,
            "phone": phone_display(verification.phone) if verification else "",
            "current_step": 2,
        },
        form,
    )


@login_required
@require_POST
def resend(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    try:
        mobile_code_resend(helper=helper)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("We sent a new code. Codes sent before it no longer work."))
    return redirect("ondemand:verify")


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    steps = _steps(helper)
    if helper.status != Helper.Status.REGISTERED and steps.next_step in ("agree", "contact"):
        return redirect(f"ondemand:{steps.next_step}")
    form = ScheduleForm(request.POST or None, initial=ScheduleForm.initial_for(helper))
    if request.method == "POST" and form.is_valid():
        was_registered = helper.status == Helper.Status.REGISTERED
        try:
            helper = helper_schedule_update(
                helper=helper,
                home_zip=form.cleaned_data["home_zip"],
                counties=form.cleaned_data["counties"],
                languages=form.cleaned_data["languages"],
                programs=form.cleaned_data["programs"],
                windows=form.cleaned_data["windows"],
                is_available=form.cleaned_data["is_available"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if was_registered:
                messages.success(request, _("Your schedule and availability are saved."))
                return redirect(MY_INFORMATION)
            messages.success(
                request, _("You are registered for kynect On Demand and able to assist Residents.")
            )
            return redirect("ondemand:home")
    return _render(
        request,
        "ondemand/schedule.html",
        {"helper": helper, "form": form, "current_step": 3},
        form,
    )


@login_required
@require_POST
def availability(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    wanted = request.POST.get("is_available") == "on"
    try:
        helper_availability_set(helper=helper, is_available=wanted)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("You are available for referrals during your working hours.")
            if wanted
            else _("You are not available for referrals until you switch this back on."),
        )
    return redirect("ondemand:home")


@login_required
@require_http_methods(["GET", "POST"])
def time_off(request: HttpRequest) -> HttpResponse:
    helper = _helper(request)
    if helper.status != Helper.Status.REGISTERED:
        return redirect("ondemand:home")
    form = TimeOffForm(request.POST or None, time_zone=helper.time_zone)
    if request.method == "POST" and form.is_valid():
        try:
            time_off_add(
                helper=helper, starts_at=form.cleaned_data["starts_at"], ends_at=form.cleaned_data["ends_at"]
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Your time off is saved."))
            return redirect("ondemand:time_off")
    periods = TimeOff.objects.filter(helper=helper, ends_at__gt=clock.now()).order_by("starts_at")
    return _render(
        request,
        "ondemand/time_off.html",
        {"helper": helper, "form": form, "periods": periods, "time_zone": helper.time_zone},
        form,
    )


@login_required
@require_POST
def time_off_delete(request: HttpRequest, time_off_id: Any) -> HttpResponse:
    helper = _helper(request)
    try:
        time_off_remove(helper=helper, time_off_id=time_off_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The time off is removed."))
    return redirect("ondemand:time_off")


@login_required
def helpers_manage(request: HttpRequest) -> HttpResponse:
    """Agency admins (their agency) and state administrators see kynectors and agency admins and mark
    them active for kynect On Demand. Viewing the list is recorded as an access event."""
    user = request.user
    if not isinstance(user, User) or not can_manage_helpers(user=user):
        raise PermissionDenied
    page = Paginator(agency_memberships_managed_by(user=user), 50).get_page(request.GET.get("page"))
    with transaction.atomic():
        access_event_record(
            actor=user,
            subject_type="ondemand.agency_helpers",
            subject_id="list",
            detail=f"page {page.number}: {len(page.object_list)} kynectors and agency admins",
            request=request,
        )
    rows = [
        {
            "membership": membership,
            "helper": getattr(membership.user, "helper", None),
            "can_set": can_set_agency_active(actor=user, membership=membership),
        }
        for membership in page.object_list
    ]
    return render(request, "ondemand/helpers_manage.html", {"page": page, "rows": rows})


@login_required
@require_POST
def helper_active_set(request: HttpRequest, membership_id: Any) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=membership_id
    )
    active = request.POST.get("active") == "on"
    try:
        helper_agency_active_set(actor=user, membership=membership, active=active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        name = membership.user.get_full_name() or membership.user.email
        messages.success(
            request,
            (
                _("%(name)s is marked active for kynect On Demand.")
                if active
                else _("%(name)s is no longer active for kynect On Demand.")
            )
            % {"name": name},
        )
    return redirect("ondemand:helpers_manage")


# --- A resident's help request (public) ---------------------------------------------------------------

# The secret links of the requests made in this browser session, by request id, so that the
# confirmation page and a duplicate's message can link to the status page.
SESSION_LINKS = "ondemand_help_links"


def _secret_page(response: HttpResponse) -> HttpResponse:
    """A page opened by a secret link: never cached, never indexed. (The site-wide same-origin referrer
    policy already keeps its address from other sites; no-referrer would break the Cancel form's CSRF
    origin check.)"""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


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
                _add_errors(form, error)
            except HelpRequestLimitError:
                status = 429
                form.add_error(
                    None,
                    _("Too many requests have come from here. Wait an hour and try again, or call 2-1-1."),
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
    if status == 429:
        response["Retry-After"] = str(settings.ONDEMAND_HELP_REQUEST_CLIENT_WINDOW_SECONDS)
    return response


def _help_request_page(
    request: HttpRequest, *, help_request: HelpRequest, token: str, template: str, **extra: Any
) -> HttpResponse:
    with transaction.atomic():
        access_event_record(
            actor=None,
            subject_type="ondemand.helprequest",
            subject_id=str(help_request.pk),
            detail=f"{template.rsplit('/', 1)[-1]} by the requester's secret link",
            request=request,
        )
    return _secret_page(
        render(
            request,
            template,
            _help_context(
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
            status=400 if extra.get("error") else 200,
        )
    )


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
            return _secret_page(redirect("ondemand:help_status", request_id=help_request.pk, token=token))
    return _help_request_page(
        request,
        help_request=help_request,
        token=token,
        template="ondemand/help_request_cancel.html",
        error=error,
    )
