"""The kynect On Demand tab: registration in the On Demand FAQ's three steps, preferences and time off.

The page where agency admins mark kynectors active is in `views_agency`; a resident's help request in
`views_help`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kynect.accounts.models import User
from kynect.core import clock
from kynect.core.phones import phone_display
from kynect.ondemand.forms import AgreeForm, CodeForm, ContactForm, ScheduleForm, TimeOffForm
from kynect.ondemand.models import Helper, TimeOff
from kynect.ondemand.selectors import (
    helper_problems,
    helper_steps,
    mobile_verification_open,
    user_is_helper,
)
from kynect.ondemand.services.helpers import (
    helper_agree_terms,
    helper_availability_set,
    helper_contact_update,
    helper_schedule_update,
    helper_start,
    time_off_add,
    time_off_remove,
)
from kynect.ondemand.services.verification import mobile_code_resend, mobile_code_verify
from kynect.ondemand.views_common import form_errors_add

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
            form_errors_add(form, error)
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
            form_errors_add(form, error)
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
            form_errors_add(form, error)
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
            form_errors_add(form, error)
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
            form_errors_add(form, error)
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
