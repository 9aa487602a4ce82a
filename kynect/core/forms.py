"""What the forms of every app share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kynect.core import clock
from kynect.core.periods import Period, PeriodKey, period_between, period_named


class UswdsForm(forms.Form):
    """Gives each widget its USWDS class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "usa-checkbox__input"
            elif isinstance(widget, forms.RadioSelect):
                css = "usa-radio__input"
            elif isinstance(widget, forms.Select):
                css = "usa-select"
            elif isinstance(widget, forms.Textarea):
                css = "usa-textarea"
            else:
                css = "usa-input"
            widget.attrs["class"] = css


def form_errors_add(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal, shown on the form: by field where it names one of the form's fields."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            for message in field_errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class PeriodForm(UswdsForm):
    """A dashboard's period: one of the named periods it offers, or chosen dates ("From" and "To",
    inclusive). Dates given without a name, or other than the named period's, mean chosen dates."""

    period = forms.ChoiceField(label=_("Period"), choices=PeriodKey.choices, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, keys: Sequence[str], max_days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_days = max_days
        cast(forms.ChoiceField, self.fields["period"]).choices = [(key, PeriodKey(key).label) for key in keys]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if not data.get("period") and (start or end or self.errors.get("start") or self.errors.get("end")):
            data["period"] = PeriodKey.RANGE
        elif data.get("period") not in ("", PeriodKey.RANGE) and start and end:
            # Dates changed while the list still names a period (the list keeps its value when only the
            # dates are edited): the dates are what the person chose.
            named = period_named(key=data["period"], now=clock.now())
            if (start, end) != (named.first, named.last):
                data["period"] = PeriodKey.RANGE
        if (
            data.get("period") == PeriodKey.RANGE
            and not self.errors.get("start")
            and not self.errors.get("end")
        ):
            if not start or not end:
                raise ValidationError(_("Give both dates of the period, from and to."))
            if end < start:
                raise ValidationError(_("The end of the period must not be before its start."))
            if (end - start).days + 1 > self.max_days:
                raise ValidationError(
                    _("Choose a period of at most %(days)s days.") % {"days": self.max_days}
                )
        return data

    def chosen_period(self, *, now: datetime, default: str) -> Period:
        """The period chosen; `default` for a form not bound or not valid."""
        if not self.is_bound or not self.is_valid():
            return period_named(key=default, now=now)
        key = self.cleaned_data.get("period") or default
        if key == PeriodKey.RANGE:
            return period_between(first=self.cleaned_data["start"], last=self.cleaned_data["end"])
        return period_named(key=key, now=now)
