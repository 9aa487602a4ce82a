"""Forms of the consent pages: they check the shape of what was sent; the rules are `services_consent`'s."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kynect.core.forms import UswdsForm
from kynect.residents.models import (
    RESIDENT_NOTE_MAX_LENGTH,
    RESIDENT_NOTE_SUBJECT_MAX_LENGTH,
    Consent,
    ConsentRequest,
)
from kynect.residents.services_consent import ATTESTATION_MAX_LENGTH


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


class ConsentAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=ConsentRequest.Answer.choices)


class ResidentNoteForm(UswdsForm):
    subject = forms.CharField(label=_("Subject"), max_length=RESIDENT_NOTE_SUBJECT_MAX_LENGTH)
    body = forms.CharField(
        label=_("Note"), max_length=RESIDENT_NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
