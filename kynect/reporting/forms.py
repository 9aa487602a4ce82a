"""The statewide dashboard's filters: the period, and (state administrators) county and organization type."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from kynect.accounts.models import Organization
from kynect.core.forms import PeriodForm
from kynect.core.geo import KENTUCKY_COUNTIES


class MetricsFilterForm(PeriodForm):
    county = forms.ChoiceField(label=_("County"), required=False)
    organization_type = forms.ChoiceField(label=_("Organization type"), required=False)

    def __init__(self, *args: Any, filters: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if filters:
            county = cast(forms.ChoiceField, self.fields["county"])
            county.choices = [("", _("Every county"))] + [(c.fips, c.label) for c in KENTUCKY_COUNTIES]
            kind = cast(forms.ChoiceField, self.fields["organization_type"])
            kind.choices = [("", _("Every type")), *Organization.Type.choices]
        else:
            del self.fields["county"]
            del self.fields["organization_type"]
