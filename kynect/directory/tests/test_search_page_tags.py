"""The search page's parts rendered in Python: cards (markup, escaping, language) and form fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django import forms
from django.http import QueryDict
from django.template.defaultfilters import truncatewords
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.utils import translation
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from kynect.directory.forms import (
    CategorySelect,
    PlainHiddenInput,
    PlainInput,
    PlainSelect,
    PlainTextInput,
    SearchForm,
)
from kynect.directory.listings import ListingCard, Phone
from kynect.directory.templatetags.search_page import (
    _esc,
    _truncate_words,
    listing_card_html,
    listing_cards,
    search_field,
)

SERVICE = uuid.UUID("11111111-1111-4111-8111-111111111111")
LOCATION = uuid.UUID("22222222-2222-4222-8222-222222222222")


def assertHTMLEqual(actual: str, expected: str) -> None:  # noqa: N802 - as Django's assertion
    assert parse_html(actual) == parse_html(expected)


def card(**changes: object) -> ListingCard:
    fields: dict[str, object] = {
        "service_id": SERVICE,
        "location_id": LOCATION,
        "name": 'Pantry <script>alert("x")</script>',
        "organization_name": "Frankfort & Franklin Food Bank",
        "description": " ".join(f"word{number}" for number in range(60)),
        "is_partner": True,
        "distance_miles": 2.46,
        "phone": Phone("(502) 555-0100", "(502) 555-0100", "+15025550100", ""),
        "website": "https://example.org/pantry?a=1&b=2",
        "email": "",
        "address": "100 Main St, Frankfort, KY 40601",
        "today": None,
        "detail_url": f"/services/{SERVICE}/?location={LOCATION}",
        "share_url": f"/services/{SERVICE}/share/?location={LOCATION}",
    }
    fields.update(changes)
    return ListingCard(**fields)  # type: ignore[arg-type]


def test_a_card_escapes_every_value_and_shows_every_part() -> None:
    with translation.override("en"):
        html = listing_card_html(card(), sprite="/static/sprite.svg")

    assert "<script>" not in html
    assert "Pantry &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "Frankfort &amp; Franklin Food Bank" in html
    assert '<span class="usa-tag">KY Partner</span>' in html
    assert '<p class="kynect-listing__distance">2.5 Miles</p>' in html
    assert "word44 …" in html
    assert "word45" not in html
    assert '<a href="tel:+15025550100">(502) 555-0100</a>' in html
    assert (
        '<a href="https://example.org/pantry?a=1&amp;b=2" rel="noopener">example.org/pantry?a=1&amp;b=2</a>'
        in html
    )
    assert f'id="listing-{SERVICE}-{LOCATION}"' in html
    assert f'aria-labelledby="listing-{SERVICE}-{LOCATION}"' in html
    assert 'aria-label="Connect with Pantry &lt;script&gt;' in html
    assert '<use href="/static/sprite.svg#phone">' in html


def test_a_card_leaves_out_what_it_does_not_have() -> None:
    with translation.override("en"):
        html = listing_card_html(
            card(is_partner=False, distance_miles=None, phone=None, website="", address="", location_id=None),
            sprite="/s.svg",
        )

    assert "KY Partner" not in html
    assert "Miles" not in html
    assert "tel:" not in html
    assert "#language" not in html
    assert "#location_on" not in html
    assert f'id="listing-{SERVICE}-none"' in html


def test_cards_follow_the_page_language() -> None:
    with translation.override("es"):
        html = str(listing_cards([card(), card(name="Otro")], level=2))

    assert html.count('<li class="kynect-listing">') == 2
    assert "<h2 " in html
    assert "2,5 millas" in html
    assert "Compartir" in html


@pytest.mark.parametrize(
    "data", [{"q": "food pantry", "near": "40601"}, {"q": "!!!", "near": "99999", "lat": "x"}]
)
@pytest.mark.parametrize("name", ["q", "near", "category", "radius", "open", "sort", "lat", "situation"])
def test_a_search_field_renders_as_the_field_template_does(data: dict[str, str], name: str) -> None:
    form = SearchForm(QueryDict(urlencode(data)), now=datetime(2026, 11, 23, 12, tzinfo=UTC))
    form.is_valid()
    field = form[name]
    expected = render_to_string("components/field.html", {"field": field})

    assertHTMLEqual(str(search_field(field)), expected)
    # The widget alone, against Django's own template-rendered widget of the same kind.
    widget = field.field.widget
    if isinstance(widget, PlainInput):
        stock = {PlainTextInput: forms.TextInput, PlainHiddenInput: forms.HiddenInput}[type(widget)](
            attrs=widget.attrs
        )
        stock.input_type = widget.input_type
        assertHTMLEqual(str(field.as_widget()), str(field.as_widget(widget=stock)))
    elif isinstance(widget, PlainSelect) and not isinstance(widget, CategorySelect):
        select = forms.Select(attrs=widget.attrs, choices=widget.choices)
        assertHTMLEqual(str(field.as_widget()), str(field.as_widget(widget=select)))


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400), st.integers(1, 60))
def test_the_card_helpers_match_django_escape_and_truncatewords(text: str, count: int) -> None:
    assert _esc(text) == escape(text)
    assert _truncate_words(text, count) == truncatewords(text, count)
