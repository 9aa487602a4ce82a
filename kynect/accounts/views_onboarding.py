"""Partner onboarding (ADR 0037): the public application, the training attestation, and the state
administrators' queue and their page for inviting statewide users."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kynect.accounts.agreements import PRIVACY_TRAINING_VERSION, USER_AGREEMENT_VERSION
from kynect.accounts.forms import (
    DeclineForm,
    OrganizationApplicationForm,
    StateUserInvitationForm,
    TrainingAttestationForm,
)
from kynect.accounts.models import Organization, User
from kynect.accounts.selectors import (
    STATE_ADMIN_INVITABLE_ROLES,
    directory_listings_named,
    is_state_admin,
    open_invitations,
    organization_applications,
    user_training_is_current,
)
from kynect.accounts.services import (
    invitation_create,
    organization_apply,
    organization_approve,
    organization_decline,
    training_attest,
)
from kynect.core.audit import audited_read, client_ip
from kynect.core.ratelimit import rate_limit_hit, rate_limit_key

View = Callable[..., HttpResponse]


def _errors_onto(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal, shown by the field it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            for message in field_errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@require_http_methods(["GET", "POST"])
def partner_apply(request: HttpRequest) -> HttpResponse:
    """ "Become a partner". The "Find my listing" button only shows the directory's matches; the
    application itself is counted by the rate limit per client address."""
    data = request.POST if request.method == "POST" else None
    listings = directory_listings_named(text=(data or request.GET).get("listing_search", ""))
    finding = data is not None and "find_listing" in data
    if finding:
        assert data is not None
        form = OrganizationApplicationForm(initial=data.dict(), listings=listings)
    else:
        form = OrganizationApplicationForm(data, listings=listings)
    status = 200
    if data is not None and not finding:
        throttle = rate_limit_hit(
            key=rate_limit_key("partner-apply", client_ip(request) or "unknown"),
            limit=settings.PARTNER_APPLY_THROTTLE_LIMIT,
            window_seconds=settings.PARTNER_APPLY_THROTTLE_WINDOW_SECONDS,
        )
        if not throttle.allowed:
            minutes = -(-throttle.retry_after_seconds // 60)
            form.add_error(
                None,
                ngettext(
                    "Too many applications from your network. Wait %(minutes)s minute, then try again.",
                    "Too many applications from your network. Wait %(minutes)s minutes, then try again.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            response = _apply_page(request, form, listings, status=429)
            response["Retry-After"] = str(throttle.retry_after_seconds)
            return response
        if form.is_valid():
            cleaned = form.cleaned_data
            try:
                organization_apply(
                    name=cleaned["name"],
                    organization_type=cleaned["organization_type"],
                    tax_status=cleaned["tax_status"],
                    address_1=cleaned["address_1"],
                    address_2=cleaned["address_2"],
                    city=cleaned["city"],
                    postal_code=cleaned["postal_code"],
                    hsds_organization_id=cleaned["hsds_organization"] or None,
                    first_name=cleaned["first_name"],
                    last_name=cleaned["last_name"],
                    email=cleaned["email"],
                    password=cleaned["password1"],
                    agreement_accepted=cleaned["agreement"],
                    language=get_language() or "en",
                )
            except ValidationError as error:
                _errors_onto(form, error)
            else:
                return redirect("accounts:partner_applied")
        status = 400
    return _apply_page(request, form, listings, status=status)


def _apply_page(
    request: HttpRequest, form: OrganizationApplicationForm, listings: list[tuple[str, str]], *, status: int
) -> HttpResponse:
    return render(
        request,
        "accounts/partner_apply.html",
        {"form": form, "listings": listings, "agreement_version": USER_AGREEMENT_VERSION},
        status=status,
    )


def partner_applied(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/partner_applied.html")


@login_required
@require_http_methods(["GET", "POST"])
def training(request: HttpRequest) -> HttpResponse:
    """Attest the privacy and security training in force; then back to where the person was going."""
    user = request.user
    assert isinstance(user, User)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("core:home")
    form = TrainingAttestationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        training_attest(user=user)
        messages.success(request, _("Thank you. Your training is recorded."))
        return redirect(next_url)
    return render(
        request,
        "accounts/training.html",
        {
            "form": form,
            "next": next_url,
            "current": user_training_is_current(user=user),
            "version": PRIVACY_TRAINING_VERSION,
        },
        status=400 if form.errors else 200,
    )


def state_admin_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not isinstance(request.user, User) or not is_state_admin(user=request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@state_admin_required
def applications(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", Organization.Status.APPLIED)
    if status not in Organization.Status.values:
        status = Organization.Status.APPLIED
    return render(
        request,
        "accounts/onboarding/applications.html",
        {
            "organizations": organization_applications(status=status),
            "status": status,
            "statuses": Organization.Status.choices,
        },
    )


def _application_page(
    request: HttpRequest, organization_id: Any, *, decline_form: DeclineForm, status: int = 200
) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    organization = audited_read(
        request=request,
        actor=user,
        subject_type="accounts.organization_application",
        subject_id=str(organization_id),
        read=lambda: get_object_or_404(organization_applications(status=None), pk=organization_id),
        detail="the applicant's name and email address",
    )
    return render(
        request,
        "accounts/onboarding/application.html",
        {"organization": organization, "decline_form": decline_form},
        status=status,
    )


@state_admin_required
def application(request: HttpRequest, organization_id: Any) -> HttpResponse:
    return _application_page(request, organization_id, decline_form=DeclineForm())


@state_admin_required
@require_POST
def application_approve(request: HttpRequest, organization_id: Any) -> HttpResponse:
    organization = get_object_or_404(Organization, pk=organization_id)
    assert isinstance(request.user, User)
    try:
        organization_approve(actor=request.user, organization=organization)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is approved: a KY Partner now.") % {"name": organization.name})
    return redirect("accounts:application", organization_id=organization.pk)


@state_admin_required
@require_POST
def application_decline(request: HttpRequest, organization_id: Any) -> HttpResponse:
    organization = get_object_or_404(Organization, pk=organization_id)
    assert isinstance(request.user, User)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            organization_decline(
                actor=request.user, organization=organization, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("The application of %(name)s is declined.") % {"name": organization.name}
            )
        return redirect("accounts:application", organization_id=organization.pk)
    return _application_page(request, organization_id, decline_form=form, status=400)


@state_admin_required
@require_http_methods(["GET", "POST"])
def state_users(request: HttpRequest) -> HttpResponse:
    """Invite referral specialists and state administrators, with the one invitation mechanism."""
    user = request.user
    assert isinstance(user, User)
    form = StateUserInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation_create(
                invited_by=user,
                organization=form.cleaned_data["organization"],
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            _errors_onto(form, error)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("accounts:state_users")
    return render(
        request,
        "accounts/onboarding/state_users.html",
        {"form": form, "invitations": open_invitations(roles=STATE_ADMIN_INVITABLE_ROLES)},
        status=400 if form.errors else 200,
    )
