from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kynect.accounts.models import Organization, Role, User
from kynect.accounts.selectors import STATE_ADMIN_INVITABLE_ROLES
from kynect.core.geo import UnknownZipCodeError, zip_lookup
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


def _uswds_classes(form: forms.Form) -> None:
    """Give each widget its USWDS class."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "usa-checkbox__input"
        elif isinstance(widget, forms.RadioSelect):
            widget.attrs["class"] = "usa-radio__input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "usa-select"
        elif isinstance(widget, forms.Textarea):
            widget.attrs["class"] = "usa-textarea"
        else:
            widget.attrs["class"] = "usa-input"


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, roles: tuple[Role, ...] = (), **kwargs: Any) -> None:
        """`roles`: those the person inviting may hand out here (`invitable_roles`)."""
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [(role.value, role.label) for role in roles]


class StateUserInvitationForm(forms.Form):
    """A state administrator invites a referral specialist or a state administrator."""

    email = forms.EmailField(label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(
        label=_("Role"), choices=[(role.value, role.label) for role in STATE_ADMIN_INVITABLE_ROLES]
    )
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.filter(status=Organization.Status.APPROVED),
        help_text=_("Referral specialists belong to United Way; state administrators to the Cabinet."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _uswds_classes(self)


class PasswordPairMixin:
    """Two password fields that must match and pass the password rules for the person to be."""

    def password_pair_check(self, cleaned: dict[str, Any], *, email: str) -> None:
        form: Any = self
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            form.add_error("password2", _("The two passwords are not the same."))
        elif cleaned.get("password1"):
            # The person to be, so that a password too like their name or email is refused here.
            person = User(
                email=email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(cleaned["password1"], person)
            except forms.ValidationError as error:
                form.add_error("password1", error)


PASSWORD_HELP = _("At least 12 characters; not a common password and not all numbers.")


class OrganizationApplicationForm(PasswordPairMixin, forms.Form):
    """ "Become a partner": the organization, its directory listing if it has one, the applicant and the
    user agreement. The listing is found by name (`listing_search`), then chosen among the matches."""

    name = forms.CharField(label=_("Organization name"), max_length=200)
    organization_type = forms.ChoiceField(label=_("Type of organization"), choices=Organization.Type.choices)
    tax_status = forms.ChoiceField(label=_("Tax status"), choices=Organization.TaxStatus.choices)
    address_1 = forms.CharField(
        label=_("Mailing address"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_2 = forms.CharField(
        label=_("Address line 2 (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    postal_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    listing_search = forms.CharField(
        label=_("Your organization's name in the kynect resources directory (optional)"),
        max_length=200,
        required=False,
        help_text=_("If your services are listed, find your listing so that it shows the KY Partner badge."),
    )
    hsds_organization = forms.TypedChoiceField(
        label=_("Your directory listing"),
        required=False,
        coerce=str,
        widget=forms.RadioSelect,
        empty_value=None,
    )
    first_name = forms.CharField(
        label=_("Your first name"),
        max_length=150,
        validators=[name_validate],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Your last name"),
        max_length=150,
        validators=[name_validate],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("Your work email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    agreement = forms.BooleanField(
        label=_("I accept the user agreement for my organization."),
        error_messages={"required": _("Accept the user agreement to apply.")},
    )

    def __init__(self, *args: Any, listings: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        """`listings`: the directory organizations that match `listing_search`, as (id, name)."""
        super().__init__(*args, **kwargs)
        listing_field = self.fields["hsds_organization"]
        assert isinstance(listing_field, forms.ChoiceField)
        listing_field.choices = [("", _("None of these")), *(listings or [])]
        _uswds_classes(self)

    def clean_postal_code(self) -> str:
        postal_code: str = self.cleaned_data["postal_code"].strip()
        try:
            zip_lookup(postal_code)
        except UnknownZipCodeError as error:
            raise forms.ValidationError(str(error)) from error
        return postal_code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.password_pair_check(cleaned, email=cleaned.get("email", ""))
        return cleaned


class TrainingAttestationForm(forms.Form):
    attest = forms.BooleanField(
        label=_("I completed the privacy and security training and will follow it."),
        error_messages={"required": _("Tick the box to attest that you completed the training.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _uswds_classes(self)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The applicant receives it by email."),
        error_messages={"required": _("Say why the application is declined.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _uswds_classes(self)


class InvitationAcceptForm(PasswordPairMixin, forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, validators=[name_validate])
    last_name = forms.CharField(label=_("Last name"), max_length=150, validators=[name_validate])
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
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
        self.password_pair_check(cleaned, email=self.email)
        return cleaned


class NotifyByForm(forms.Form):
    """How the user is told of new referrals (My Information)."""

    notify_by = forms.ChoiceField(
        label=_("Tell me of new referrals by"),
        choices=User.NotifyBy.choices,
        widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}),
    )
