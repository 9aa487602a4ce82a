"""The categories and life situations the header and the home page show."""

from __future__ import annotations

from django.utils import translation

from kynect.core.taxonomy import (
    CATEGORIES,
    EMPLOYMENT,
    LIFE_SITUATIONS,
    Category,
    category_find,
    life_situation_find,
)


def _all(nodes: tuple[Category, ...]) -> list[Category]:
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
