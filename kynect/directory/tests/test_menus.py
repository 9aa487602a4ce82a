"""The categories and life situations every page's header and the home page show."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from kynect.directory.taxonomy import (
    CategoryNode,
    categories,
    category_find,
    header_menu_tree,
    life_situation_find,
    life_situations,
)

CATEGORIES = categories()
EMPLOYMENT = header_menu_tree()
LIFE_SITUATIONS = life_situations()


@pytest.fixture(scope="module")
def client() -> Client:
    """One test client for the module (a new client loads the middleware again)."""
    return Client()


def _in(language: str, text: object) -> str:
    """`text` (a lazy translation) as it reads in `language`, escaped as a template prints it."""
    with translation.override(language):
        return escape(translation.gettext(text) if isinstance(text, str) else str(text))


def _html(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def _all(nodes: tuple[CategoryNode, ...]) -> list[CategoryNode]:
    return [item for node in nodes for item in (node, *_all(node.children))]


def test_seven_categories_in_the_menu_order() -> None:
    assert [category.slug for category in CATEGORIES] == [
        "housing",
        "food",
        "employment",
        "transportation",
        "health",
        "financial",
        "education",
    ]
    assert [str(category.name) for category in CATEGORIES] == [
        "Housing",
        "Food",
        "Employment",
        "Transportation",
        "Health",
        "Financial",
        "Education",
    ]


def test_employment_tree() -> None:
    assert CATEGORIES[2] is EMPLOYMENT
    assert [(child.slug, str(child.name)) for child in EMPLOYMENT.children] == [
        ("getting-ready-for-work", "Getting ready for work"),
        ("help-finding-work", "Help finding Work"),
        ("help-with-work-expenses", "Help with Work Expenses"),
        ("retirement", "Retirement"),
        ("unemployment", "Unemployment"),
    ]
    assert [str(leaf.name) for leaf in EMPLOYMENT.children[0].children] == [
        "Computer Skills",
        "GED/HS Diploma",
        "Interview Preparation",
        "Resume Preparation",
        "Skills Assessment",
        "Specialized Training",
        "Vocational Rehabilitation (for Disabilities)",
    ]
    assert all(not child.children for child in EMPLOYMENT.children[1:])


def test_slugs_are_unique_across_the_whole_tree() -> None:
    slugs = [category.slug for category in _all(CATEGORIES)]

    # The seven categories each carry a full tree now; Employment's is the overview's 12 terms.
    assert len(_all(EMPLOYMENT.children)) == 12
    assert len(slugs) > 7 + 12
    assert len(set(slugs)) == len(slugs)


def test_category_find_walks_the_tree() -> None:
    assert category_find("housing") is CATEGORIES[0]
    assert category_find("employment") is EMPLOYMENT
    assert category_find("getting-ready-for-work") is EMPLOYMENT.children[0]
    found = category_find("vocational-rehabilitation")
    assert found is not None
    assert str(found.name) == "Vocational Rehabilitation (for Disabilities)"
    for category in _all(CATEGORIES):
        assert category_find(category.slug) is category


def test_category_find_unknown_is_none() -> None:
    assert category_find("") is None
    assert category_find("Housing") is None
    assert category_find("nonsense") is None


def test_nine_life_situations() -> None:
    assert [(situation.slug, str(situation.name)) for situation in LIFE_SITUATIONS] == [
        ("foster-care", "Foster Care"),
        ("unemployed", "Unemployed"),
        ("elder-care", "Elder Care"),
        ("re-entry", "Re-Entry"),
        ("homeless", "Homeless"),
        ("substance-use", "Impacted by Substance Use"),
        ("pregnant", "Pregnant"),
        ("immigrants-refugees", "Immigrants & Refugees"),
        ("veteran", "Veteran"),
    ]
    assert all(situation.icon for situation in LIFE_SITUATIONS)


def test_life_situation_find() -> None:
    assert life_situation_find("veteran") is LIFE_SITUATIONS[-1]
    assert life_situation_find("re-entry") is LIFE_SITUATIONS[3]
    assert life_situation_find("") is None
    assert life_situation_find("Veteran") is None


def test_names_are_translated_lazily() -> None:
    with translation.override("es"):
        spanish = [str(category.name) for category in _all(CATEGORIES)] + [
            str(situation.name) for situation in LIFE_SITUATIONS
        ]
    english = [str(category.name) for category in _all(CATEGORIES)] + [
        str(situation.name) for situation in LIFE_SITUATIONS
    ]

    assert spanish[0] != english[0] == "Housing"
    assert str(EMPLOYMENT.name) == "Employment"
    # Most names read differently in Spanish; none is left empty.
    assert sum(es != en for es, en in zip(spanish, english, strict=True)) >= len(english) // 2
    assert all(spanish)


@pytest.mark.django_db
def test_spanish_text_is_actually_spanish(client: Client) -> None:
    html = _html(client, "/es/")

    assert _in("es", "Call 2-1-1") != "Call 2-1-1"
    assert _in("es", "In partnership with") != "In partnership with"
    assert _in("es", CATEGORIES[0].name) != "Housing"
    assert _in("es", CATEGORIES[0].name) in html
    for text in ("Call 2-1-1", "In partnership with", "Find help for your situation"):
        assert _in("es", text) in html
        assert f">{text}<" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_header_shows_the_seven_categories_in_order(client: Client, language: str) -> None:
    prefix = "" if language == "en" else "/es"
    html = _html(client, f"{prefix}/help/")

    assert len(CATEGORIES) == 7
    positions = []
    for category in CATEGORIES:
        link = f'<a href="{prefix}/search/?category={category.slug}">{_in(language, category.name)}</a>'
        assert link in html
        positions.append(html.index(link))
    assert positions == sorted(positions)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_header_shows_the_employment_tree(client: Client, language: str) -> None:
    prefix = "" if language == "en" else "/es"
    html = _html(client, f"{prefix}/")

    def walk(nodes: tuple) -> list:
        return [item for node in nodes for item in (node, *walk(node.children))]

    tree = walk(EMPLOYMENT.children)
    assert len(tree) == 12
    for node in tree:
        assert f'href="{prefix}/search/?category={node.slug}">{_in(language, node.name)}</a>' in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_home_page_shows_the_nine_life_situation_tiles(client: Client, language: str) -> None:
    prefix = "" if language == "en" else "/es"
    html = _html(client, f"{prefix}/")

    assert len(LIFE_SITUATIONS) == 9
    tiles = re.findall(r'<a class="kynect-tile" href="([^"]+)">(.*?)</a>', html, flags=re.DOTALL)
    assert [href for href, _body in tiles] == [
        f"{prefix}/search/?situation={situation.slug}" for situation in LIFE_SITUATIONS
    ]
    for (_href, body), situation in zip(tiles, LIFE_SITUATIONS, strict=True):
        assert f"<span>{_in(language, situation.name)}</span>" in body
        assert f"#{situation.icon}" in body
