"""The search form: a plain GET form whose cleaned data becomes a `SearchQuery`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from django import forms
from django.utils import timezone
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


# The fields in the search form's filter disclosure.
FILTER_FIELDS = ("category", "radius", "open", "language", "sort")


class Select(forms.Select):
    """A USWDS select whose options are written by one template (`components/widgets/select.html`)."""

    template_name = "components/widgets/select.html"

    def __init__(self, attrs: dict[str, Any] | None = None, choices: Any = ()) -> None:
        super().__init__(attrs={"class": "usa-select", **(attrs or {})}, choices=choices)


def category_choices() -> list[tuple[str, str]]:
    """Every category as a choice, indented with dashes by depth, named in the active language."""
    return _category_choices_in(get_language() or "")


@cache
def _category_choices_in(language: str) -> list[tuple[str, str]]:
    # The taxonomy is fixed in code, so the list is built once per language; the form validates a
    # category and renders the list from it on every search.
    choices: list[tuple[str, str]] = [("", str(_("All categories")))]

    def add(node: CategoryNode, depth: int) -> None:
        choices.append((node.slug, "— " * depth + node.localized_name()))
        for child in node.children:
            add(child, depth + 1)

    for top in categories():
        add(top, 0)
    return choices


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
    # The list fields' choices are callables: every form deep-copies its fields, and a callable is
    # copied without copying its list (a third of the cost of making the form on each search).
    error_messages = {
        "radius": _("Choose a distance from the list: 1, 5, 10, 25, 50 or 100 miles."),
        "junk": _("Search for a word such as “food”, “rent” or “clinic”."),
        "situation": _("We do not know that life situation. Choose one from the home page."),
        "coordinates": _("We could not use your location. Enter a ZIP code, a city or a county instead."),
        "page": _("That page of results does not exist. Go back to the first page."),
    }

    q = forms.CharField(
        label=_("Keyword"),
        required=False,
        max_length=200,
        strip=True,
        # A text input: USWDS draws every `type=search` input as its search component's (floated, short,
        # no right border). `enterkeyhint` still gives phones a Search key.
        widget=forms.TextInput(attrs={"class": "usa-input", "enterkeyhint": "search"}),
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=category_choices, widget=Select()
    )
    situation = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
    near = forms.CharField(
        label=_("ZIP code, city or county"),
        required=False,
        max_length=80,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "postal-code",
                "class": "usa-input",
                "inputmode": "text",
                "spellcheck": "false",
            }
        ),
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    radius = forms.TypedChoiceField(
        label=_("Distance"),
        required=False,
        choices=lambda: RADIUS_CHOICES,
        coerce=int,
        empty_value=None,
        initial=DEFAULT_RADIUS,
        widget=Select(),
        error_messages={"invalid_choice": error_messages["radius"]},
    )
    open = forms.ChoiceField(label=_("Open"), required=False, choices=lambda: OPEN_CHOICES, widget=Select())
    language = forms.ChoiceField(
        label=_("Language spoken"),
        required=False,
        choices=lambda: LANGUAGE_CHOICES,
        widget=Select(),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=lambda: SORT_CHOICES, widget=Select()
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE,
        widget=forms.HiddenInput,
        error_messages={"min_value": error_messages["page"], "max_value": error_messages["page"]},
    )

    def __init__(self, data: Any = None, *, now: datetime, **kwargs: Any) -> None:
        if data is not None and not data.get("radius"):
            data = data.copy()
            data["radius"] = str(DEFAULT_RADIUS)
        super().__init__(data, **kwargs)
        self.now = now

    def filters_applied(self) -> int:
        """How many filters narrow the results: the closed filter disclosure says so. The sort order
        only orders them, and the distance counts when it is not the default."""
        if not self.is_bound or not self.is_valid():
            return 0
        data = self.cleaned_data
        chosen = [data.get("category"), data.get("open"), data.get("language")]
        return sum(1 for value in chosen if value) + (data.get("radius") not in (None, DEFAULT_RADIUS))

    def filters_have_errors(self) -> bool:
        return any(name in self.errors for name in FILTER_FIELDS)

    def clean_q(self) -> str:
        text: str = self.cleaned_data["q"]
        if text and not keyword_words(text):
            raise forms.ValidationError(self.error_messages["junk"])
        return text

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


def situation_tags(situation: LifeSituationNode) -> tuple[str, ...]:
    """A life situation finds services tagged with it and services in its headings' categories."""
    tags = [term_tag(situation.id)]
    for heading in situation.headings:
        tags += [term_tag(node.id) for node in heading.category_nodes()]
    return tuple(dict.fromkeys(tags))
