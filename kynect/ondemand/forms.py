"""Forms for the On Demand FAQ's three registration steps, the code check, time off and the switch.

Forms check the shape of what was typed; the rules live in `services`.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kynect.core.geo import KENTUCKY_COUNTIES
from kynect.ondemand.models import MINUTES_PER_DAY, Helper, HelpRequest, Language, Program, RequestedProgram
from kynect.ondemand.services.helpers import WindowSpec

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class UswdsForm(forms.Form):
    """Gives each widget its USWDS class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for bound_field in self.fields.values():
            widget = bound_field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                css = "usa-checkbox__input"
            elif isinstance(widget, forms.RadioSelect):
                css = "usa-radio__input"
            else:
                css = "usa-input"
            widget.attrs["class"] = css


class AgreeForm(UswdsForm):
    npn = forms.CharField(
        label=_("National Producer Number (NPN)"),
        max_length=10,
        help_text=_("We check it against the Department of Insurance roster."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    agree = forms.BooleanField(
        label=_("I agree to register for kynect On Demand on these terms."),
        error_messages={"required": _("Tick the box to agree to register.")},
    )

    def __init__(self, *args: Any, helper: Helper, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if helper.role != Helper.Role.AGENT:
            del self.fields["npn"]
        elif helper.licence_id:
            self.fields["npn"].initial = helper.licence_id


class ContactForm(UswdsForm):
    phone_source = forms.ChoiceField(
        label=_("Phone number to use"),
        choices=[
            (Helper.ContactSource.ACCOUNT, _("My sign-in account's phone number")),
            (Helper.ContactSource.ON_DEMAND, _("A kynect On Demand phone number (enter it below)")),
        ],
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=20,
        required=False,
        help_text=_("It must get text messages: we send a code to check it, then referrals."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email_source = forms.ChoiceField(
        label=_("Email address to use"),
        choices=[
            (Helper.ContactSource.ACCOUNT, _("My sign-in account's email address")),
            (Helper.ContactSource.ON_DEMAND, _("A kynect On Demand email address (enter it below)")),
        ],
        widget=forms.RadioSelect,
    )
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    channel = forms.ChoiceField(
        label=_("Send me new referrals by"), choices=Helper.Channel.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, helper: Helper, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = helper
        if helper.role == Helper.Role.AGENT:
            # Agents give On Demand contact details; the DOI's are the starting point.
            del self.fields["phone_source"]
            del self.fields["email_source"]
            self.fields["phone"].required = True
            self.fields["email"].required = True
        licence = helper.licence
        default_phone = helper.phone or (licence.phone if licence else "")
        self.initial.setdefault("phone", default_phone)
        self.initial.setdefault("email", helper.email or (licence.email if licence else ""))
        self.initial.setdefault("phone_source", helper.phone_source)
        self.initial.setdefault("email_source", helper.email_source)
        self.initial.setdefault("channel", helper.channel)

    def source(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or Helper.ContactSource.ON_DEMAND)


class CodeForm(UswdsForm):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={"required": _("Enter the 6-digit code we sent to your mobile phone.")},
    )


def _minute(value: time | None, *, is_end: bool) -> int | None:
    if value is None:
        return None
    minute = value.hour * 60 + value.minute
    return MINUTES_PER_DAY if is_end and minute == 0 else minute


def minutes_as_time(minute: int) -> str:
    """Minutes since midnight as the value of a time input; the end-of-day midnight is 00:00."""
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


class ScheduleForm(UswdsForm):
    """Step 3: where the helper is and serves, in which languages and programs, and when they work."""

    home_zip = forms.CharField(
        label=_("Home ZIP code"),
        max_length=10,
        help_text=_("It sets your time zone and helps send you referrals near you."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    all_counties = forms.BooleanField(label=_("All of Kentucky's 120 counties"), required=False)
    counties = forms.MultipleChoiceField(
        label=_("Counties you serve"),
        required=False,
        choices=[(county.fips, county.label) for county in KENTUCKY_COUNTIES],
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you help people in"),
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language you help people in.")},
    )
    programs = forms.MultipleChoiceField(
        label=_("Programs you help with"),
        choices=Program.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one program you help with.")},
    )
    is_available = forms.BooleanField(
        label=_("I am available for referrals during my working hours"), required=False
    )

    def days(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The weekday fields grouped for the template: (day name, [start, end, break start, break end])."""
        return [
            (
                str(day),
                [self[f"{key}_{part}"] for part in ("start", "end", "break_start", "break_end")],
            )
            for key, day in zip(WEEKDAY_KEYS, WEEKDAYS.values(), strict=True)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("all_counties"):
            cleaned["counties"] = [county.fips for county in KENTUCKY_COUNTIES]
        windows: list[WindowSpec] = []
        for index, key in enumerate(WEEKDAY_KEYS):
            start = _minute(cleaned.get(f"{key}_start"), is_end=False)
            end = _minute(cleaned.get(f"{key}_end"), is_end=True)
            break_start = _minute(cleaned.get(f"{key}_break_start"), is_end=False)
            break_end = _minute(cleaned.get(f"{key}_break_end"), is_end=True)
            if start is None and end is None:
                if break_start is not None or break_end is not None:
                    self.add_error(f"{key}_start", _("Enter working hours around the break."))
                continue
            if start is None or end is None:
                self.add_error(f"{key}_start" if start is None else f"{key}_end", _("Enter both times."))
                continue
            if end <= start:
                self.add_error(f"{key}_end", _("Working hours must end after they start."))
                continue
            breaks: tuple[tuple[int, int], ...] = ()
            if break_start is not None or break_end is not None:
                if break_start is None or break_end is None:
                    self.add_error(f"{key}_break_start", _("Enter both times of the break."))
                    continue
                if not start <= break_start < break_end <= end:
                    self.add_error(f"{key}_break_start", _("The break must fit inside the working hours."))
                    continue
                breaks = ((break_start, break_end),)
            windows.append(WindowSpec(weekday=index, start_minute=start, end_minute=end, breaks=breaks))
        cleaned["windows"] = windows
        return cleaned

    @classmethod
    def initial_for(cls, helper: Helper) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "home_zip": helper.home_zip,
            "counties": [county.county_fips for county in helper.counties.all()],
            "languages": [language.language for language in helper.languages.all()],
            "programs": [program.program for program in helper.programs.all()],
            "is_available": helper.is_available if helper.schedule_completed_at else True,
        }
        for window in helper.windows.prefetch_related("breaks"):
            key = WEEKDAY_KEYS[window.weekday]
            initial[f"{key}_start"] = minutes_as_time(window.start_minute)
            initial[f"{key}_end"] = minutes_as_time(window.end_minute)
            first_break = next(iter(window.breaks.all()), None)
            if first_break is not None:
                initial[f"{key}_break_start"] = minutes_as_time(first_break.start_minute)
                initial[f"{key}_break_end"] = minutes_as_time(first_break.end_minute)
        return initial


def _add_day_fields() -> None:
    for key, day in zip(WEEKDAY_KEYS, WEEKDAYS.values(), strict=True):
        for part, label in (
            ("start", _("starts")),
            ("end", _("ends")),
            ("break_start", _("break starts")),
            ("break_end", _("break ends")),
        ):
            ScheduleForm.base_fields[f"{key}_{part}"] = forms.TimeField(
                label=format_lazy("{day}: {part}", day=day, part=label),
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                error_messages={"invalid": _("Enter a time, like 09:00.")},
            )


_add_day_fields()


class TimeOffForm(UswdsForm):
    """Time off as local date-times in the helper's time zone."""

    starts_at = forms.DateTimeField(
        label=_("Time off starts"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Enter a date and time."), "required": _("Enter a date and time.")},
    )
    ends_at = forms.DateTimeField(
        label=_("Time off ends"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Enter a date and time."), "required": _("Enter a date and time.")},
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(time_zone)

    def _in_zone(self, value: datetime) -> datetime:
        # The last hours of the year 9999 in Kentucky are in the year 10000 in UTC, which neither Python
        # nor the database can hold; a whole year of margin keeps the rule simple to state.
        if value.year >= 9999:
            raise forms.ValidationError(_("Enter a date before the year 9999."), code="out_of_range")
        # Django made the value aware in the site's zone; read the wall clock in the helper's zone.
        return value.replace(tzinfo=None).replace(tzinfo=self.zone)

    def clean_starts_at(self) -> datetime:
        return self._in_zone(self.cleaned_data["starts_at"])

    def clean_ends_at(self) -> datetime:
        return self._in_zone(self.cleaned_data["ends_at"])


class HelpRequestForm(UswdsForm):
    """A resident's request for a call back: phone first. The rules (Kentucky ZIP code, phone number,
    email when email is preferred) are checked by `help_request_submit`, which names the field."""

    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        help_text=_("We call you back at this number. Like (502) 555-0123."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    contact_method = forms.ChoiceField(
        label=_("How should we contact you?"),
        choices=HelpRequest.ContactMethod.choices,
        initial=HelpRequest.ContactMethod.PHONE,
        help_text=_("Your confirmation comes by text message, or by email if you choose email."),
        widget=forms.RadioSelect,
    )
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        required=False,
        help_text=_("Needed only if you choose email."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = forms.ChoiceField(label=_("Language you want help in"), choices=Language.choices)
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        help_text=_("Your Kentucky ZIP code, like 40601."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    program = forms.ChoiceField(
        label=_("What do you need help with?"), choices=RequestedProgram.choices, widget=forms.RadioSelect
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to be contacted by a registered Insurance Agent or kynector/Agency Admin about "
            "applying or enrolling in a Health Care Plan, by phone and by my preferred contact method."
        ),
        error_messages={
            "required": _("Tick the box to agree to be contacted: we cannot call you back without it.")
        },
    )

    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if language in Language.values:
            self.fields["language"].initial = language
        self.fields["language"].widget.attrs["class"] = "usa-select"
