"""Forms of the referral pages. They check the shape of what was typed; the rules (the duplicate check,
who may refer, the closing form's rules) live in `services`, whose ValidationError is put back on the
form by `errors_add`."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kynect.core.forms import UswdsForm
from kynect.core.sdoh import SdohDomain
from kynect.referrals.models import NOTE_MAX_LENGTH, ClosureReason, Referral
from kynect.referrals.selectors import BoxFilters
from kynect.residents.models import ContactMethod, Gender
from kynect.residents.services import ResidentInput

REASON_MAX_LENGTH = 500


def errors_add(error: ValidationError, *forms_: forms.Form) -> None:
    """Put a service's ValidationError on the form that has each field (the first form otherwise)."""
    for field, messages in error.message_dict.items():
        target = next((form for form in forms_ if field in form.fields), None)
        for message in messages:
            if target is None:
                forms_[0].add_error(None, message)
            else:
                target.add_error(field, message)


def _need_choices() -> list[tuple[str, Any]]:
    return [("", _("Choose a need")), *SdohDomain.choices]


class ResidentForm(UswdsForm):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a real date of birth, not in the future.")},
    )
    mobile_phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(label=_("Email address"), max_length=254, required=False)
    preferred_contact_method = forms.ChoiceField(
        label=_("Preferred contact method"), choices=ContactMethod.choices, initial=ContactMethod.TEXT
    )
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=[("en", "English"), ("es", "Español")], initial="en"
    )
    postal_code = forms.CharField(
        label=_("ZIP code"), max_length=10, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    client_id = forms.CharField(label=_("Client ID (optional)"), max_length=40, required=False)
    gender = forms.ChoiceField(
        label=_("Gender (optional)"), choices=[("", "—"), *Gender.choices], required=False
    )

    def resident_input(self) -> ResidentInput:
        data = self.cleaned_data
        return ResidentInput(
            first_name=data["first_name"],
            last_name=data["last_name"],
            birth_date=data["birth_date"],
            mobile_phone=data["mobile_phone"],
            email=data["email"],
            preferred_language=data["preferred_language"],
            postal_code=data["postal_code"],
            client_id=data["client_id"],
            gender=data["gender"],
            preferred_contact_method=data["preferred_contact_method"],
        )


class ReferralForm(UswdsForm):
    service = forms.UUIDField(widget=forms.HiddenInput)
    need = forms.ChoiceField(
        label=_("Need"),
        choices=_need_choices,
        error_messages={
            "required": _("Choose the need this referral is for."),
            "invalid_choice": _("Choose the need this referral is for."),
        },
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the receiving organization should know. Up to 4,000 characters."),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        widget=forms.RadioSelect,
    )
    pre_consent = forms.BooleanField(required=False)

    organization = forms.ChoiceField(label=_("Refer on behalf of"), required=False)

    def __init__(
        self, *args: Any, receiver_name: str, organizations: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if len(organizations) > 1:
            field = self.fields["organization"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = organizations
            field.required = True
        else:
            del self.fields["organization"]
        self.fields["pre_consent"].label = _(
            "The resident agrees that %(organization)s may see their information to help them."
        ) % {"organization": receiver_name}


class BoxFilterForm(UswdsForm):
    organization = forms.ChoiceField(label=_("Organization"), required=False)
    box = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Referral.Box.choices]
    )
    need = forms.ChoiceField(label=_("Need"), required=False, choices=[("", _("All")), *SdohDomain.choices])
    urgency = forms.ChoiceField(
        label=_("Urgency"), required=False, choices=[("", _("All")), *Referral.Urgency.choices]
    )
    created_from = forms.DateField(
        label=_("Made on or after"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Made on or before"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, organizations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(organizations) > 1:
            field = self.fields["organization"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = organizations
        else:
            del self.fields["organization"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("created_to", _("Choose a date on or after the first one."))
        return data

    def filters(self) -> BoxFilters:
        if not self.is_valid():
            return BoxFilters()
        data = self.cleaned_data
        return BoxFilters(
            box=data["box"],
            need=data["need"],
            urgency=data["urgency"],
            created_from=data["created_from"],
            created_to=data["created_to"],
        )


class ActionForm(forms.Form):
    """Accept, start, resume, cancel (no reason) and put on hold, reject (a reason)."""

    seen_status = forms.ChoiceField(choices=Referral.Status.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "class": "usa-textarea"}),
    )


class NoteForm(UswdsForm):
    body = forms.CharField(
        label=_("Add a note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the note.")},
    )


class CloseForm(UswdsForm):
    """The resources overview's "Tell us about your experience" form, in its words."""

    seen_status = forms.ChoiceField(choices=Referral.Status.choices, widget=forms.HiddenInput)
    experience = forms.ChoiceField(
        label=_("How was your experience with the resident?"),
        choices=Referral.Experience.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Tell us how your experience with the resident was.")},
    )
    resource_provided = forms.ChoiceField(
        label=_("Was the resource provided?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the resource was provided.")},
    )
    reason = forms.ChoiceField(
        label=_("Reason it was not provided"),
        required=False,
        choices=[("", _("None")), *ClosureReason.choices],
        help_text=_("Only when the resource was not provided."),
        error_messages={"invalid_choice": _("Choose the reason it was not provided.")},
    )

    def provided(self) -> bool | None:
        value = self.cleaned_data.get("resource_provided")
        return {"yes": True, "no": False}.get(value or "")
