"""The referral specialists' outreach form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kynect.referrals.models import NOTE_MAX_LENGTH, OutreachAttempt


def _choices(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("- Select -")), *choices]


class OutreachForm(forms.Form):
    target = forms.ChoiceField(label=_("Who you contacted"), choices=_choices(OutreachAttempt.Target.choices))
    channel = forms.ChoiceField(label=_("How"), choices=_choices(OutreachAttempt.Channel.choices))
    result = forms.ChoiceField(label=_("Result"), choices=_choices(OutreachAttempt.Result.choices))
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("target", "channel", "result"):
            self.fields[name].widget.attrs["class"] = "usa-select"
        self.fields["note"].widget.attrs.update({"class": "usa-textarea", "rows": 3})
