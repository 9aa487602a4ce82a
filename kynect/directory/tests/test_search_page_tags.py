"""The search page's parts rendered in Python: cards (markup, escaping, language) and form fields."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django import forms
from django.http import QueryDict
from django.template import Context
from django.template.defaultfilters import truncatewords
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.utils import translation
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from kynect.directory import views
from kynect.directory.forms import (
    CategorySelect,
    PlainHiddenInput,
    PlainInput,
    PlainSelect,
    PlainTextInput,
    SearchForm,
)
from kynect.directory.listings import ListingCard, Phone
from kynect.directory.search import SearchPage
from kynect.directory.templatetags.search_page import (
    _esc,
    _truncate_words,
    listing_card_html,
    listing_cards,
    search_field,
    search_results,
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


def _pages(total: int, current: int) -> dict[str, object]:
    """Page links as the view makes them, for a search for `q=<b>&x` (the `&` must come out escaped)."""
    params = QueryDict(mutable=True)
    params["q"] = "<b>food</b>"
    params["near"] = "40601"
    return views._pages(params, SearchPage(total=total, total_is_capped=False, hits=[]), current)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("total", "capped", "current", "with_cards", "heading"),
    [
        (1, False, 1, True, None),
        (7, False, 1, True, None),
        (500, True, 1, True, None),
        (500, True, 3, True, "Food & <meals>"),
        (42, False, 5, True, None),
        (120, False, 12, True, None),
        (0, False, 1, False, None),
        (0, False, 1, False, "Rent"),
    ],
)
def test_search_results_render_as_their_template_does(
    language: str, total: int, capped: bool, current: int, with_cards: bool, heading: str | None
) -> None:
    cards = [card(), card(name="Otro & <i>", location_id=None, distance_miles=None)] if with_cards else []
    context = {
        "page": SearchPage(total=total, total_is_capped=capped, hits=[]),
        "summary": 'Showing listings matching “<script>alert("q")</script> & co”.',
        "cards": cards,
        "first_number": (current - 1) * 10 + 1,
        "pages": _pages(total, current),
        "heading": SimpleNamespace(heading=heading) if heading is not None else None,
    }
    with translation.override(language):
        expected = render_to_string("directory/search_results_found.html", context)
        actual = str(search_results(Context(context)))

    assertHTMLEqual(actual, expected)
    assert "<script>" not in actual
    assert "&lt;script&gt;alert(&quot;q&quot;)&lt;/script&gt; &amp; co" in actual
    if heading == "Food & <meals>":
        assert ": Food &amp; &lt;meals&gt;" in actual
    if with_cards and total > 10:
        assert "&lt;b&gt;" not in actual  # the query sits in the links URL-encoded, never as markup
        assert "q=%3Cb%3Efood%3C%2Fb%3E&amp;near=40601&amp;page=" in actual


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_search_results_escape_any_summary_and_heading(text: str) -> None:
    context = {
        "page": SearchPage(total=30, total_is_capped=False, hits=[]),
        "summary": text,
        "cards": [card()],
        "first_number": 11,
        "pages": _pages(30, 2),
        "heading": SimpleNamespace(heading=text),
    }
    with translation.override("en"):
        actual = str(search_results(Context(context)))
        expected = render_to_string("directory/search_results_found.html", context)

    assert f'<p class="kynect-search__summary">{escape(text)}</p>' in actual
    assert f"30 results: {escape(text)}\n" in actual
    assertHTMLEqual(actual, expected)


def test_search_forms_share_their_fields_and_never_change_them() -> None:
    def snapshot() -> dict[str, object]:
        return {
            name: (
                dict(field.widget.attrs),
                getattr(field.widget, "input_type", None),
                dict(field.error_messages),
                field.initial,
            )
            for name, field in SearchForm.base_fields.items()
        }

    before = snapshot()
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    forms_made = []
    for data in (
        {"q": "food pantry", "near": "40601", "radius": "10", "open": "now", "sort": "distance"},
        {"q": "!!!", "near": "99999", "lat": "x", "radius": "7", "page": "99"},
        {"lat": "38.2", "lon": "-84.9", "page": "0", "language": "es", "category": "food"},
    ):
        for language in ("en", "es"):
            with translation.override(language):
                form = SearchForm(QueryDict(urlencode(data)), now=now)
                form.is_valid()
                for field in form:
                    search_field(field)
                forms_made.append(form)

    assert snapshot() == before
    for form in forms_made:
        assert form.fields is not SearchForm.base_fields
        assert all(form.fields[name] is field for name, field in SearchForm.base_fields.items())
    # Errors and values belong to each form, not to the shared fields.
    assert forms_made[0].errors == {}
    assert set(forms_made[2].errors) == {"q", "near", "lat", "radius", "page"}
    assert set(forms_made[4].errors) == {"page"}
