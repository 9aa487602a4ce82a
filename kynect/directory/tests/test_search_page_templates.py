"""The search page's templates: a result card (markup, escaping, language), the form's fields, and the
results with their count, summary and page links."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from hypothesis import given, settings
from hypothesis import strategies as st

from kynect.directory import views
from kynect.directory.forms import SearchForm
from kynect.directory.listings import ListingCard, Phone
from kynect.directory.search import SearchPage

SERVICE = uuid.UUID("11111111-1111-4111-8111-111111111111")
LOCATION = uuid.UUID("22222222-2222-4222-8222-222222222222")
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


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


def card_html(item: ListingCard, **context: object) -> str:
    return render_to_string("components/listing_card.html", {"card": item, "level": 3, **context})


def test_a_card_escapes_every_value_and_shows_every_part() -> None:
    with translation.override("en"):
        html = card_html(card(), sprite="/static/sprite.svg")

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
    assert "<h3 " in html


def test_a_card_leaves_out_what_it_does_not_have() -> None:
    with translation.override("en"):
        html = card_html(
            card(is_partner=False, distance_miles=None, phone=None, website="", address="", location_id=None),
            sprite="/s.svg",
        )

    assert "KY Partner" not in html
    assert "Miles" not in html
    assert "tel:" not in html
    assert "#language" not in html
    assert "#location_on" not in html
    assert f'id="listing-{SERVICE}-none"' in html


def test_a_card_follows_the_page_language_and_heading_level() -> None:
    with translation.override("es"):
        html = card_html(card(), sprite="/s.svg", level=2)

    assert html.count('<li class="kynect-listing">') == 1
    assert "<h2 " in html
    assert "2,5 millas" in html
    assert "Compartir" in html


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("q", ['type="text"', 'class="usa-input"', 'enterkeyhint="search"', 'maxlength="200"']),
        (
            "near",
            ['type="text"', 'class="usa-input"', 'autocomplete="postal-code"', 'inputmode="text"'],
        ),
        ("category", ['<select name="category" class="usa-select"', '<option value="food">Food</option>']),
        ("radius", ['class="usa-select"', '<option value="25" selected>25 miles</option>']),
        ("open", ['class="usa-select"', '<option value="now">Open now</option>']),
        ("language", ['class="usa-select"', '<option value="ase">American Sign Language</option>']),
        ("sort", ['class="usa-select"', '<option value="distance">Nearest</option>']),
        ("lat", ['type="hidden"', 'name="lat"']),
    ],
)
def test_the_search_fields_render_as_uswds_form_groups(name: str, expected: list[str]) -> None:
    form = SearchForm(QueryDict(urlencode({"q": "food pantry", "near": "40601"})), now=NOW)
    form.is_valid()
    with translation.override("en"):
        html = render_to_string("components/field.html", {"field": form[name]})

    assert html.startswith('<div class="usa-form-group">')
    assert f'for="id_{name}"' in html
    assert f'id="id_{name}"' in html
    for part in expected:
        assert part in html, html


def test_a_field_with_an_error_says_so() -> None:
    form = SearchForm(QueryDict(urlencode({"q": "!!!", "near": "99999", "category": "nope"})), now=NOW)
    form.is_valid()
    with translation.override("en"):
        q = render_to_string("components/field.html", {"field": form["q"]})
        category = render_to_string("components/field.html", {"field": form["category"]})

    assert '<div class="usa-form-group usa-form-group--error">' in q
    assert '<label class="usa-label usa-label--error" for="id_q">' in q
    assert "Search for a word such as “food”, “rent” or “clinic”." in q
    assert 'aria-invalid="true"' in q
    assert "Select a valid choice. nope is not one of the available choices." in category


def test_the_category_options_follow_the_language_and_mark_the_chosen_one() -> None:
    form = SearchForm(QueryDict("category=food-pantries"), now=NOW)
    form.is_valid()
    with translation.override("es"):
        html = str(form["category"])

    assert '<option value="">Todas las categorías</option>' in html
    assert '<option value="food-pantries" selected>' in html
    assert html.count(" selected") == 1


def _pages(total: int, current: int) -> dict[str, object]:
    """Page links as the view makes them, for a search for `q=<b>food</b>` (escaped in the links)."""
    params = QueryDict(mutable=True)
    params["q"] = "<b>food</b>"
    params["near"] = "40601"
    return views._pages(params, SearchPage(total=total, total_is_capped=False, hits=[]), current)


def results_html(*, total: int, capped: bool, current: int, cards: list[ListingCard], summary: str,
                 heading: str | None) -> str:  # fmt: skip
    context = {
        "form": SearchForm(None, now=NOW),
        "searched": True,
        "page": SearchPage(total=total, total_is_capped=capped, hits=[]),
        "summary": summary,
        "cards": cards,
        "first_number": (current - 1) * 10 + 1,
        "pages": _pages(total, current),
        "heading": SimpleNamespace(heading=heading) if heading is not None else None,
        "suggestions": [],
    }
    return render_to_string("directory/search.html#results", context)


@pytest.mark.parametrize(
    ("language", "total", "capped", "current", "count"),
    [
        ("en", 1, False, 1, "1 result"),
        ("en", 42, False, 5, "42 results"),
        ("en", 500, True, 3, "More than 500 results"),
        ("es", 7, False, 1, "7 resultados"),
    ],
)
def test_search_results_show_the_count_the_cards_and_the_page_links(
    language: str, total: int, capped: bool, current: int, count: str
) -> None:
    cards = [card(), card(name="Otro & <i>", location_id=None, distance_miles=None)]
    with translation.override(language):
        html = results_html(
            total=total, capped=capped, current=current, cards=cards, summary="s", heading=None
        )

    assert f'<h2 id="results-heading" class="kynect-search__count">\n    {count}\n  </h2>' in html
    assert (
        f'<ol class="usa-list usa-list--unstyled kynect-listings" start="{(current - 1) * 10 + 1}">' in html
    )
    assert html.count('<li class="kynect-listing">') == 2
    assert "Otro &amp; &lt;i&gt;" in html
    if total > 10:
        assert 'class="usa-pagination"' in html
        assert f'aria-label="Page {current}" aria-current="page">{current}</a>' in html
        assert "&lt;b&gt;" not in html  # the query sits in the links URL-encoded, never as markup
        assert "q=%3Cb%3Efood%3C%2Fb%3E&amp;near=40601&amp;page=" in html
    else:
        assert "usa-pagination" not in html


def test_search_results_that_found_nothing_say_so() -> None:
    with translation.override("en"):
        html = results_html(total=0, capped=False, current=1, cards=[], summary="s", heading="Rent")

    assert "0 results: Rent" in html
    assert "We found nothing that matches every part of your search" in html
    assert "kynect-listings" not in html


@settings(deadline=None)  # each example renders the page's results partial, slow on a busy machine
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_search_results_escape_any_summary_and_heading(text: str) -> None:
    with translation.override("en"):
        html = results_html(total=30, capped=False, current=2, cards=[card()], summary=text, heading=text)

    assert f'<p class="kynect-search__summary">{escape(text)}</p>' in html
    assert f"30 results: {escape(text)}\n" in html
