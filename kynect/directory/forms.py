"""The search form: a plain GET form whose cleaned data becomes a `SearchQuery`."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kynect.core.geo import Place, UnknownPlaceError, UnknownZipCodeError, place_lookup
from kynect.directory.search import Origin, SearchQuery, SortOrder, keyword_words
from kynect.directory.search.index import language_tag, term_tag
from kynect.directory.taxonomy import (
    CategoryNode,
    LifeSituationNode,
    categories,
    category_find,
    life_situation_find,
)

PER_PAGE = 10
MAX_PAGE = 50
RADIUS_CHOICES = [(1, _("1 mile")), (5, _("5 miles")), (10, _("10 miles")), (25, _("25 miles")),
                  (50, _("50 miles")), (100, _("100 miles"))]  # fmt: skip
DEFAULT_RADIUS = 25
WEEKDAY_VALUES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
OPEN_CHOICES = [
    ("", _("Any time")),
    ("now", _("Open now")),
    ("mon", _("Open on Monday")),
    ("tue", _("Open on Tuesday")),
    ("wed", _("Open on Wednesday")),
    ("thu", _("Open on Thursday")),
    ("fri", _("Open on Friday")),
    ("sat", _("Open on Saturday")),
    ("sun", _("Open on Sunday")),
]
LANGUAGE_CHOICES = [
    ("", _("Any language")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("ar", _("Arabic")),
    ("fr", _("French")),
    ("ne", _("Nepali")),
    ("sw", _("Swahili")),
    ("vi", _("Vietnamese")),
    ("ase", _("American Sign Language")),
]
SORT_CHOICES = [(SortOrder.RELEVANCE.value, _("Best match")), (SortOrder.DISTANCE.value, _("Nearest"))]


@cache
def _category_choices_in(language: str) -> tuple[tuple[str, str], ...]:
    """Every category as a choice, indented with dashes by depth, named in `language` (built once per
    language: the tree is shipped data)."""
    with translation.override(language):
        choices: list[tuple[str, str]] = [("", str(_("All categories")))]

        def add(node: CategoryNode, depth: int) -> None:
            choices.append((node.slug, "— " * depth + node.localized_name()))
            for child in node.children:
                add(child, depth + 1)

        for top in categories():
            add(top, 0)
    return tuple(choices)


_options_html: dict[tuple[str, str], str] = {}


def _attributes(attrs: dict[str, Any]) -> str:
    """HTML attributes as Django's `flatatt` writes them (True: the bare name; False, None: left out),
    without its lazy-string checks on every value."""
    parts = []
    for key, value in attrs.items():
        if value is True:
            parts.append(f" {key}")
        elif value is not False and value is not None:
            parts.append(f' {key}="{html.escape(str(value))}"')
    return "".join(parts)


def _mark_selected(options: str, value: Any) -> str:
    """The options with the one whose value is `value` selected. Values here are plain ASCII tokens
    (slugs, numbers, weekday codes), so the escaped opening tag finds the option."""
    marker = f'<option value="{escape(value or "")}">'
    if marker in options:
        return options.replace(marker, marker[:-1] + " selected>", 1)
    return options


class PlainSelect(forms.Select):
    """A select rendered in Python, its options built once per field and language: through the widget
    templates, the search form's selects cost more than the whole search."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        key = (name, get_language() or settings.LANGUAGE_CODE)
        options = _options_html.get(key)
        if options is None:
            options = str(
                format_html_join(
                    "", '<option value="{}">{}</option>', ((str(v), str(label)) for v, label in self.choices)
                )
            )
            _options_html[key] = options
        chosen = self.format_value(value)
        selected = _mark_selected(options, chosen[0] if chosen else "")
        return mark_safe(f"<select{_attributes(final)}>{selected}</select>")  # noqa: S308 - escaped


class PlainInput(forms.widgets.Input):
    """An input rendered in Python, with the markup of Django's input template."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final: dict[str, Any] = {"type": self.input_type, "name": name}
        shown = self.format_value(value)
        if shown is not None:
            final["value"] = str(shown)
        final.update(self.build_attrs(self.attrs, attrs))
        return mark_safe(f"<input{_attributes(final)}>")  # noqa: S308 - escaped


class PlainTextInput(PlainInput, forms.TextInput):
    pass


class PlainHiddenInput(PlainInput, forms.HiddenInput):
    pass


class CategorySelect(PlainSelect):
    """The category select, its options rendered once per language and the chosen one marked."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        options = _mark_selected(_category_options_html(get_language() or settings.LANGUAGE_CODE), value)
        return mark_safe(f"<select{_attributes(final)}>{options}</select>")  # noqa: S308 - escaped


@cache
def _category_options_html(language: str) -> str:
    """The category options in `language`, escaped; slugs are plain ASCII, so a slug marks its option."""
    return str(format_html_join("", '<option value="{}">{}</option>', _category_choices_in(language)))


@dataclass(frozen=True)
class SearchRequest:
    """What the form asked for, ready to search and to describe."""

    query: SearchQuery
    words: tuple[str, ...]
    category: CategoryNode | None
    situation: LifeSituationNode | None
    place: Place | None
    radius: int | None
    open_choice: str
    open_day: date | None
    language: str
    page: int


class SearchForm(forms.Form):
    error_messages = {
        "radius": _("Choose a distance from the list: 1, 5, 10, 25, 50 or 100 miles."),
        "junk": _("Search for a word such as “food”, “rent” or “clinic”."),
        "situation": _("We do not know that life situation. Choose one from the home page."),
        "coordinates": _("We could not use your location. Enter a ZIP code, a city or a county instead."),
        "page": _("That page of results does not exist. Go back to the first page."),
    }

    # Every field is set up once, here and in `_set_up_fields`, and never changed afterwards: the fields
    # are shared by every form (see `_SharedFields`) instead of being deep-copied for each request.
    q = forms.CharField(
        label=_("Keyword"), required=False, max_length=200, strip=True, widget=PlainTextInput()
    )
    # A slug checked against the tree (a dictionary lookup) rather than a ChoiceField, which would
    # rebuild and walk its hundred-odd choices for every form.
    category = forms.CharField(label=_("Category"), required=False, max_length=120, widget=CategorySelect)
    situation = forms.CharField(required=False, max_length=60, widget=PlainHiddenInput)
    near = forms.CharField(
        label=_("ZIP code, city or county"),
        required=False,
        max_length=80,
        widget=PlainTextInput(attrs={"autocomplete": "postal-code", "class": "usa-input"}),
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=PlainHiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=PlainHiddenInput)
    radius = forms.TypedChoiceField(
        label=_("Distance"),
        required=False,
        choices=RADIUS_CHOICES,
        coerce=int,
        empty_value=None,
        initial=DEFAULT_RADIUS,
        widget=PlainSelect,
        error_messages={"invalid_choice": error_messages["radius"]},
    )
    open = forms.ChoiceField(label=_("Open"), required=False, choices=OPEN_CHOICES, widget=PlainSelect)
    language = forms.ChoiceField(
        label=_("Language spoken"), required=False, choices=LANGUAGE_CHOICES, widget=PlainSelect
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES, widget=PlainSelect)
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        widget=PlainHiddenInput,
        error_messages={"min_value": error_messages["page"], "max_value": error_messages["page"]},
    )

    def __init__(self, data: Any = None, *, now: datetime, **kwargs: Any) -> None:
        if data is not None and not data.get("radius"):
            data = data.copy()
            data["radius"] = str(DEFAULT_RADIUS)
        super().__init__(data, **kwargs)
        self.now = now

    def clean_q(self) -> str:
        text: str = self.cleaned_data["q"]
        if text and not keyword_words(text):
            raise forms.ValidationError(self.error_messages["junk"])
        return text

    def clean_category(self) -> str:
        slug: str = self.cleaned_data["category"]
        if slug and category_find(slug) is None:
            raise forms.ValidationError(
                forms.ChoiceField.default_error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": slug},
            )
        return slug

    def clean_situation(self) -> LifeSituationNode | None:
        slug: str = self.cleaned_data["situation"]
        if not slug:
            return None
        situation = life_situation_find(slug)
        if situation is None:
            raise forms.ValidationError(self.error_messages["situation"])
        return situation

    def clean_near(self) -> Place | None:
        text: str = self.cleaned_data["near"]
        if not text:
            return None
        try:
            return place_lookup(text)
        except (UnknownZipCodeError, UnknownPlaceError) as error:
            raise forms.ValidationError(str(error)) from error

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon = data.get("lat"), data.get("lon")
        if "lat" in self.errors or "lon" in self.errors or (lat is None) != (lon is None):
            self.add_error("near", self.error_messages["coordinates"])
        elif data.get("near") is None and lat is not None and lon is not None and "near" not in self.errors:
            data["near"] = Place(label=str(_("your location")), latitude=lat, longitude=lon)
        return data

    def search_request(self, *, per_page: int = PER_PAGE) -> SearchRequest:
        """The request described by a valid form."""
        data = self.cleaned_data
        words = keyword_words(data.get("q") or "")
        category = category_find(data.get("category") or "")
        situation: LifeSituationNode | None = data.get("situation")
        place: Place | None = data.get("near")
        radius = (data.get("radius") or DEFAULT_RADIUS) if place else None
        language = data.get("language") or ""
        page = data.get("page") or 1
        tag_groups: list[tuple[str, ...]] = []
        if category is not None:
            tag_groups.append((term_tag(category.id),))
        if situation is not None:
            tag_groups.append(situation_tags(situation))
        if language:
            tag_groups.append((language_tag(language),))
        open_choice = data.get("open") or ""
        open_day = None
        if open_choice in WEEKDAY_VALUES:
            today = timezone.localdate(self.now)
            open_day = today + timedelta(days=(WEEKDAY_VALUES.index(open_choice) - today.weekday()) % 7)
        sort = SortOrder(
            data.get("sort") or (SortOrder.RELEVANCE if words or not place else SortOrder.DISTANCE)
        )
        query = SearchQuery(
            words=words,
            tag_groups=tuple(tag_groups),
            origin=Origin(place.latitude, place.longitude) if place else None,
            radius_miles=radius,
            open_at=self.now if open_choice == "now" else None,
            open_on=open_day,
            sort=sort,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        return SearchRequest(
            query=query,
            words=words,
            category=category,
            situation=situation,
            place=place,
            radius=radius,
            open_choice=open_choice,
            open_day=open_day,
            language=language,
            page=page,
        )


class _SharedFields(dict[str, forms.Field]):
    """The search form's fields, which a form copies as a plain dictionary of the same field objects.

    Django deep-copies a form's fields for every form so that one form may change its own; the search
    form sets its fields up once and changes nothing per request (validation and
    rendering only read a field), so the copy, a tenth of a millisecond per page, is skipped.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


def _set_up_fields(fields: dict[str, forms.Field]) -> None:
    """The widgets' classes and hints, added once after the fields have set their own attributes (such
    as `maxlength`), so that the attributes come out in the same order as when each form added them."""
    for name in ("q", "near"):
        fields[name].widget.attrs.setdefault("class", "usa-input")
    for name in ("category", "radius", "open", "language", "sort"):
        fields[name].widget.attrs["class"] = "usa-select"
    q_widget = fields["q"].widget
    assert isinstance(q_widget, forms.widgets.Input)
    q_widget.input_type = "search"
    q_widget.attrs["enterkeyhint"] = "search"
    fields["near"].widget.attrs.update({"inputmode": "text", "spellcheck": "false"})


_set_up_fields(SearchForm.base_fields)
SearchForm.base_fields = _SharedFields(SearchForm.base_fields)


def situation_tags(situation: LifeSituationNode) -> tuple[str, ...]:
    """A life situation finds services tagged with it and services in its headings' categories."""
    tags = [term_tag(situation.id)]
    for heading in situation.headings:
        tags += [term_tag(node.id) for node in heading.category_nodes()]
    return tuple(dict.fromkeys(tags))
