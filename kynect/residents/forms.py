"""Forms of the consent pages: they check the shape of what was sent; the rules are `services_consent`'s."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kynect.core.forms import UswdsForm
from kynect.residents.models import (
    RESIDENT_NOTE_MAX_LENGTH,
    RESIDENT_NOTE_SUBJECT_MAX_LENGTH,
    Consent,
    ConsentRequest,
)
from kynect.residents.services_consent import ATTESTATION_MAX_LENGTH, PURPOSE_MAX_LENGTH


class ConsentRequestForm(UswdsForm):
    channel = forms.ChoiceField(
        label=_("Send the request by"),
        choices=[(Consent.Channel.TEXT, _("Text message")), (Consent.Channel.EMAIL, _("Email"))],
        widget=forms.RadioSelect,
    )


class ConsentRecordForm(UswdsForm):
    channel = forms.ChoiceField(
        label=_("The resident gave consent"),
        choices=[(Consent.Channel.IN_PERSON, _("In person")), (Consent.Channel.PHONE, _("By phone"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Your attestation: how and when the resident agreed"),
        max_length=ATTESTATION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConsentRevokeForm(UswdsForm):
    note = forms.CharField(
        label=_("How the resident asked to revoke it"),
        max_length=ATTESTATION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class Part2TermsForm(UswdsForm):
    """The terms a 42 CFR Part 2 consent names (§2.31): why the organization needs the records, and the
    day the consent ends by itself."""

    purpose = forms.CharField(
        label=_("Why your organization needs these records (the purpose)"),
        max_length=PURPOSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    expires_at = forms.DateField(
        label=_("The consent ends on"),
        help_text=_("One year from today at most."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def terms_values(self) -> dict[str, Any]:
        """`purpose` and `expires_at` (the end of the chosen day, Kentucky's eastern clock)."""
        day = self.cleaned_data["expires_at"]
        return {
            "purpose": self.cleaned_data["purpose"],
            "expires_at": timezone.make_aware(datetime.combine(day, time(23, 59, 59))),
        }


class Part2RequestForm(Part2TermsForm):
    channel = ConsentRequestForm.base_fields["channel"]
    field_order = ["channel", "purpose", "expires_at"]


class Part2RecordForm(Part2TermsForm):
    note = forms.CharField(
        label=_("Your attestation: where the resident's signed Part 2 consent form is kept"),
        max_length=ATTESTATION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConsentAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=ConsentRequest.Answer.choices)
    signature = forms.CharField(max_length=200, required=False)


class ResidentNoteForm(UswdsForm):
    subject = forms.CharField(label=_("Subject"), max_length=RESIDENT_NOTE_SUBJECT_MAX_LENGTH)
    body = forms.CharField(
        label=_("Note"), max_length=RESIDENT_NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
