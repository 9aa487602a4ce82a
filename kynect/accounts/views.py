import math
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from kynect.accounts.decorators import training_url
from kynect.accounts.forms import (
    InvitationAcceptForm,
    InvitationForm,
    NotifyByForm,
    OutboxPasswordResetForm,
    SignInForm,
)
from kynect.accounts.models import Membership, Organization, User
from kynect.accounts.selectors import (
    active_memberships,
    invitable_roles,
    is_partner_admin,
    is_state_admin,
    organization_is_onboarded,
    organization_memberships,
    organization_open_invitations,
    organizations_administered,
    user_needs_training,
)
from kynect.accounts.services import (
    invitation_accept,
    invitation_create,
    invitation_from_token,
    login_attempt_begin,
    login_success_record,
    membership_deactivate,
    password_reset_attempt_begin,
    user_notify_by_set,
)
from kynect.core.audit import client_ip
from kynect.core.phones import phone_display
from kynect.core.ratelimit import RateLimitResult


def _too_many(view: Any, form: Any, throttle: RateLimitResult) -> HttpResponse:
    """The form, carrying the refusal among its errors, as 429 with Retry-After."""
    response = view.render_to_response(view.get_context_data(form=form), status=429)
    response["Retry-After"] = str(throttle.retry_after_seconds)
    return response


def _wait_minutes(throttle: RateLimitResult) -> int:
    return math.ceil(throttle.retry_after_seconds / 60)


class SignInView(auth_views.LoginView):
    """Sign in, with attempts limited per account from each client address and per account (see
    `login_attempt_begin`)."""

    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = login_attempt_begin(email=request.POST.get("username", ""), ip_address=client_ip(request))
        if throttle.allowed:
            return super().post(request, *args, **kwargs)
        minutes = _wait_minutes(throttle)
        refusal = ngettext(
            "Too many sign-in attempts. Wait %(minutes)s minute, then try again.",
            "Too many sign-in attempts. Wait %(minutes)s minutes, then try again.",
            minutes,
        ) % {"minutes": minutes}
        form = SignInForm(request, data=request.POST, refusal=refusal)
        return _too_many(self, form, throttle)

    def form_valid(self, form: Any) -> HttpResponse:
        login_success_record(email=self.request.POST.get("username", ""), ip_address=client_ip(self.request))
        return super().form_valid(form)

    def get_success_url(self) -> str:
        """Where the person was going; by way of the training attestation when theirs is missing."""
        url = super().get_success_url()
        user = self.request.user
        if isinstance(user, User) and user_needs_training(user=user):
            return training_url(next_url=url)
        return url


class SignOutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link, with requests limited per email address and per client address (see
    `password_reset_attempt_begin`); the answer is the same whether or not the email has an account."""

    template_name = "accounts/password_reset_form.html"
    form_class = OutboxPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        throttle = password_reset_attempt_begin(
            email=form.cleaned_data["email"], ip_address=client_ip(self.request)
        )
        if not throttle.allowed:
            minutes = _wait_minutes(throttle)
            form.add_error(
                None,
                ngettext(
                    "Too many password reset requests. Any link we sent you earlier still works; "
                    "for a new one, wait %(minutes)s minute, then try again.",
                    "Too many password reset requests. Any link we sent you earlier still works; "
                    "for a new one, wait %(minutes)s minutes, then try again.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            return _too_many(self, form, throttle)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
@require_http_methods(["GET", "POST"])
def my_information(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own details, and how members of an organization are told of new referrals.
    Helpers also see their kynect On Demand preferences, which the On Demand app puts in the page's
    context (`kynect.ondemand.context_processors.my_information`)."""
    assert isinstance(request.user, User)
    user = request.user
    memberships = list(active_memberships(user=user).select_related("organization"))
    notify_form = None
    if any(membership.organization_id for membership in memberships):
        notify_form = NotifyByForm(request.POST or None, initial={"notify_by": user.notify_by})
        if request.method == "POST" and notify_form.is_valid():
            try:
                user_notify_by_set(user=user, notify_by=notify_form.cleaned_data["notify_by"])
            except ValidationError as error:
                notify_form.add_error("notify_by", error.message_dict["notify_by"])
            else:
                messages.success(request, _("Your choice was saved."))
                return redirect("accounts:my_information")
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "accounts/my_information.html",
        {
            "person": user,
            "phone": phone_display(user.phone) if user.phone else "",
            "memberships": memberships,
            "notify_form": notify_form,
            "onboarding_queue": is_state_admin(user=user),
        },
        status=400 if notify_form is not None and notify_form.errors else 200,
    )


def _administered_organization(request: HttpRequest, organization_id: Any) -> Organization:
    organization = get_object_or_404(Organization, pk=organization_id)
    if not isinstance(request.user, User) or not is_partner_admin(
        user=request.user, organization=organization
    ):
        raise PermissionDenied
    return organization


@login_required
def organization_users_index(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    organizations = list(organizations_administered(user=request.user))
    if not organizations:
        raise PermissionDenied
    if len(organizations) == 1:
        return redirect("accounts:organization_users", organization_id=organizations[0].pk)
    return render(request, "accounts/organization_choose.html", {"organizations": organizations})


@login_required
@require_http_methods(["GET", "POST"])
def organization_users(request: HttpRequest, organization_id: Any) -> HttpResponse:
    organization = _administered_organization(request, organization_id)
    assert isinstance(request.user, User)
    form = InvitationForm(
        request.POST or None, roles=invitable_roles(user=request.user, organization=organization)
    )
    if request.method == "POST" and form.is_valid():
        try:
            invitation_create(
                invited_by=request.user,
                organization=organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                for message in field_errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("accounts:organization_users", organization_id=organization.pk)
    return render(
        request,
        "accounts/organization_users.html",
        {
            "organization": organization,
            "memberships": organization_memberships(organization=organization),
            "invitations": organization_open_invitations(organization=organization),
            "form": form,
            "onboarded": organization_is_onboarded(organization=organization),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def membership_deactivate_view(request: HttpRequest, membership_id: Any) -> HttpResponseRedirect:
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=membership_id
    )
    if membership.organization is None:
        raise PermissionDenied
    organization = _administered_organization(request, membership.organization_id)
    assert isinstance(request.user, User)
    try:
        membership_deactivate(actor=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(name)s can no longer act for your organization.") % {"name": membership.user}
        )
    return redirect("accounts:organization_users", organization_id=organization.pk)


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_from_token(token=token)
    except ValidationError as error:
        return render(request, "accounts/invitation_invalid.html", {"reason": error.messages[0]}, status=400)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    form = None if existing else InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            user = invitation_accept(
                invitation=invitation,
                first_name=form.cleaned_data["first_name"] if form else "",
                last_name=form.cleaned_data["last_name"] if form else "",
                password=form.cleaned_data["password1"] if form else "",
            )
        except ValidationError as error:
            return render(
                request, "accounts/invitation_invalid.html", {"reason": error.messages[0]}, status=400
            )
        if form is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to kynect resources."))
            return redirect("core:home")
        messages.success(
            request,
            _("You joined %(organization)s. Sign in to continue.")
            % {"organization": invitation.organization.name},
        )
        return redirect("accounts:login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "form": form, "existing": existing is not None},
        status=400 if form is not None and form.errors else 200,
    )
