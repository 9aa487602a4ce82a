"""What the forms of every app share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


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
