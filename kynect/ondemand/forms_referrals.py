"""Forms for working referrals: the One Time Passcode, the call log and completing a request.

They check only the shape of what was typed; `routing` holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kynect.ondemand.forms import UswdsForm
from kynect.ondemand.models import CallAttempt, HelpRequest

# Dialling is logged by the tap-to-call button, not chosen in the form.
LOGGED_RESULTS = [(value, label) for value, label in CallAttempt.Result.choices if value != "dialled"]


class PasscodeForm(UswdsForm):
    code = forms.CharField(
        label=_("One Time Passcode"),
        max_length=12,
        help_text=_("6 digits, from the text message we just sent you."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"required": _("Enter the 6-digit passcode from the text message.")},
    )


class CallLogForm(UswdsForm):
    result = forms.ChoiceField(
        label=_("What happened?"),
        choices=LOGGED_RESULTS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened on the call.")},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=500,
        required=False,
        help_text=_("For you and your agency: when to call back, for example. No health or money details."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].widget.attrs["class"] = "usa-textarea"


class CompleteForm(UswdsForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=HelpRequest.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the outcome.")},
    )
