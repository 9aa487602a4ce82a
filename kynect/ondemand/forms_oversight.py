"""Forms of the oversight pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kynect.ondemand.models import Helper


def helper_choice_label(helper: Helper) -> str:
    """'Name (Agency): available now, 1 open request' for the choice of a new helper."""
    name = helper.user.get_full_name() or helper.user.email
    agency = helper.organization.name if helper.organization else gettext("no agency")
    availability = (
        gettext("available now") if getattr(helper, "available_now", False) else gettext("not available now")
    )
    open_requests = getattr(helper, "open_requests", 0)
    return gettext("%(name)s (%(agency)s): %(availability)s, open requests: %(count)s") % {
        "name": name,
        "agency": agency,
        "availability": availability,
        "count": open_requests,
    }


class ReassignForm(forms.Form):
    """The new helper for an In Progress request. Any helper id is accepted here; the reassign service
    decides whether this actor may give the request to that helper, and says why not."""

    helper = forms.ModelChoiceField(
        label=_("New helper"),
        queryset=Helper.objects.select_related("user", "organization"),
        empty_label=_("- Select -"),
        error_messages={
            "required": _("Choose the helper who should call the resident."),
            "invalid_choice": _("Choose one of the helpers in the list."),
        },
    )

    def __init__(self, *args: Any, candidates: Iterable[Helper], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["helper"]
        assert isinstance(field, forms.ModelChoiceField)
        field.widget.attrs["class"] = "usa-select"
        field.widget.choices = [
            ("", field.empty_label),
            *((str(helper.pk), helper_choice_label(helper)) for helper in candidates),
        ]
