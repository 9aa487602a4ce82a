from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kynect.accounts.models import PARTNER_INVITABLE_ROLES, Role, User
from kynect.core.names import name_validate
from kynect.notifications.services import email_queue


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )

    error_messages = {
        "invalid_login": _("The email address or password is not right. Check both and try again."),
        "inactive": _("This account is not active. Ask your organization's admin."),
    }

    def __init__(self, *args: Any, refusal: str = "", **kwargs: Any) -> None:
        """`refusal`, when given, is the form's only answer: the password is then not checked."""
        super().__init__(*args, **kwargs)
        self.refusal = refusal

    def clean(self) -> dict[str, Any]:
        if self.refusal:
            raise forms.ValidationError(self.refusal, code="refused")
        return super().clean()


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's password reset, with the email written to the outbox in the user's language."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        with translation.override(user.preferred_language):
            path = reverse(
                "accounts:password_reset_confirm",
                kwargs={"uidb64": context["uid"], "token": context["token"]},
            )
        email_queue(
            to=to_email,
            template="accounts/password_reset",
            context={"reset_url": f"{context['protocol']}://{context['domain']}{path}"},
            language=user.preferred_language,
        )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(role.value, role.label) for role in Role if role in PARTNER_INVITABLE_ROLES],
    )


class InvitationAcceptForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, validators=[name_validate])
    last_name = forms.CharField(label=_("Last name"), max_length=150, validators=[name_validate])
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters; not a common password and not all numbers."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords are not the same."))
        elif cleaned.get("password1"):
            # The person to be, so that a password too like their name or email is refused here.
            person = User(
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(cleaned["password1"], person)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class NotifyByForm(forms.Form):
    """How the user is told of new referrals (My Information)."""

    notify_by = forms.ChoiceField(
        label=_("Tell me of new referrals by"),
        choices=User.NotifyBy.choices,
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
