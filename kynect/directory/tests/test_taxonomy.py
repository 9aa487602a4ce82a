"""kynect's shipped categories and life situations: the file's rules, the trees, and their HSDS load."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from kynect.directory import taxonomy
from kynect.directory.models import Taxonomy, TaxonomyTerm
from kynect.directory.taxonomy import (
    CategoryNode,
    TaxonomyDataError,
    categories,
    category_descendant_slugs,
    category_find,
    kynect_taxonomies_load,
    kynect_taxonomy_ids,
    life_situation_find,
    life_situations,
    taxonomies_parse,
)


def _raw() -> dict[str, Any]:
    with taxonomy.DATA_FILE.open(encoding="utf-8") as data_file:
        data: dict[str, Any] = json.load(data_file)
    return data


def _raw_categories(nodes: list[dict[str, Any]], depth: int = 1) -> list[tuple[int, dict[str, Any]]]:
    return [
        item
        for node in nodes
        for item in ((depth, node), *_raw_categories(node.get("children", []), depth + 1))
    ]


def _all_categories() -> list[CategoryNode]:
    return [node for top in categories() for node in top.walk()]


def _uuid5(slug: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://kynect.ky.gov/taxonomy/{slug}")


# The file ---------------------------------------------------------------------------------------------


def test_the_file_follows_its_rules() -> None:
    raw = _raw()
    nodes = _raw_categories(raw["categories"])
    situations = raw["life_situations"]
    slugs = [node["slug"] for _depth, node in nodes] + [situation["slug"] for situation in situations]
    codes = [node["code"] for _depth, node in nodes] + [situation["code"] for situation in situations]

    assert len(set(slugs)) == len(slugs)
    assert len(set(codes)) == len(codes)
    assert all(slug == slug.lower() and " " not in slug and "_" not in slug for slug in slugs)
    assert all(code.startswith("KY-CAT-") for _depth, node in nodes for code in [node["code"]])
    assert max(depth for depth, _node in nodes) == 3
    for _depth, node in nodes:
        for key in ("slug", "code", "name", "name_es", "description"):
            assert isinstance(node[key], str), (node["slug"], key)
            assert node[key].strip(), (node["slug"], key)
        assert "id" not in node
    category_slugs = {node["slug"] for _depth, node in nodes}
    for situation in situations:
        for key in ("slug", "name", "name_es", "icon", "description"):
            assert situation[key].strip(), (situation["slug"], key)
        assert 2 <= len(situation["headings"]) <= 4
        for heading in situation["headings"]:
            assert heading["heading"].strip()
            assert heading["heading_es"].strip()
            assert heading["categories"]
            assert set(heading["categories"]) <= category_slugs, situation["slug"]


def test_each_top_level_has_a_realistic_tree() -> None:
    for top in categories():
        assert 4 <= len(top.children) <= 7, top.slug
        for child in top.children:
            assert len(child.children) == 0 or 3 <= len(child.children) <= 7, child.slug
    assert sum(1 for node in _all_categories() if node.children) >= 14


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda raw: raw["categories"][0]["children"].append(
                copy.deepcopy(raw["categories"][1]["children"][0])
            ),
            "twice",
        ),
        (lambda raw: raw["categories"][0].update(name_es=""), "name_es"),
        (lambda raw: raw["categories"][0].pop("description"), "description"),
        (
            lambda raw: raw["categories"][0]["children"][0]["children"][0].update(
                children=[{"slug": "deep", "code": "D", "name": "D", "name_es": "D", "description": "D"}]
            ),
            "deeper",
        ),
        (lambda raw: raw["life_situations"][0]["headings"][0]["categories"].append("nope"), "unknown"),
        (lambda raw: raw["categories"][1].update(code=raw["categories"][0]["code"]), "codes"),
    ],
)
def test_a_broken_file_is_refused(change: Any, message: str) -> None:
    raw = _raw()
    change(raw)

    with pytest.raises(TaxonomyDataError, match=message):
        taxonomies_parse(raw)


# The trees --------------------------------------------------------------------------------------------


def test_seven_top_level_categories_in_order() -> None:
    assert [(node.slug, node.name_en, node.name_es) for node in categories()] == [
        ("housing", "Housing", "Vivienda"),
        ("food", "Food", "Alimentos"),
        ("employment", "Employment", "Empleo"),
        ("transportation", "Transportation", "Transporte"),
        ("health", "Health", "Salud"),
        ("financial", "Financial", "Finanzas"),
        ("education", "Education", "Educación"),
    ]


def test_the_employment_tree_is_the_overviews() -> None:
    employment = category_find("employment")
    assert employment is not None

    assert [(child.slug, child.name_en) for child in employment.children] == [
        ("getting-ready-for-work", "Getting ready for work"),
        ("help-finding-work", "Help finding Work"),
        ("help-with-work-expenses", "Help with Work Expenses"),
        ("retirement", "Retirement"),
        ("unemployment", "Unemployment"),
    ]
    assert [(leaf.slug, leaf.name_en) for leaf in employment.children[0].children] == [
        ("computer-skills", "Computer Skills"),
        ("ged-hs-diploma", "GED/HS Diploma"),
        ("interview-preparation", "Interview Preparation"),
        ("resume-preparation", "Resume Preparation"),
        ("skills-assessment", "Skills Assessment"),
        ("specialized-training", "Specialized Training"),
        ("vocational-rehabilitation", "Vocational Rehabilitation (for Disabilities)"),
    ]
    assert all(not child.children for child in employment.children[1:])


def test_nine_life_situations_in_order() -> None:
    assert [(situation.slug, situation.name_en, situation.icon) for situation in life_situations()] == [
        ("foster-care", "Foster Care", "groups"),
        ("unemployed", "Unemployed", "work"),
        ("elder-care", "Elder Care", "people"),
        ("re-entry", "Re-Entry", "directions_walk"),
        ("homeless", "Homeless", "hotel"),
        ("substance-use", "Impacted by Substance Use", "support"),
        ("pregnant", "Pregnant", "favorite"),
        ("immigrants-refugees", "Immigrants & Refugees", "public"),
        ("veteran", "Veteran", "military_tech"),
    ]


def test_pregnant_finds_support_after_birth() -> None:
    pregnant = life_situation_find("pregnant")
    assert pregnant is not None

    headings = {heading.heading_en: heading for heading in pregnant.headings}
    after_birth = headings["Find support after birth"]
    assert "prenatal-postnatal-home-visitation" in after_birth.categories
    assert after_birth.category_nodes()[0].name_en == "Prenatal/Postnatal Home Visitation Programs"
    with translation.override("es"):
        assert str(after_birth.heading) == "Encuentre apoyo después del parto"


def test_find_and_descendants() -> None:
    assert category_find("food-pantries") is not None
    assert category_find("") is None
    assert category_find("Housing") is None
    assert life_situation_find("nonsense") is None
    assert category_descendant_slugs("getting-ready-for-work")[:2] == [
        "getting-ready-for-work",
        "computer-skills",
    ]
    assert len(category_descendant_slugs("employment")) == 13
    assert category_descendant_slugs("meals") == [
        "meals",
        "soup-kitchens",
        "home-delivered-meals",
        "senior-meals",
        "summer-meals-for-kids",
    ]
    assert category_descendant_slugs("wic") == ["wic"]
    assert category_descendant_slugs("nonsense") == []


def test_names_follow_the_active_language() -> None:
    housing = categories()[0]
    lazy_name = housing.name  # looked up in English, printed in Spanish

    with translation.override("es"):
        assert str(housing.name) == "Vivienda"
        assert str(lazy_name) == "Vivienda"
        assert str(housing) == "Vivienda"
        assert housing.localized_name() == "Vivienda"
        assert [str(situation.name) for situation in life_situations()][6] == "Embarazada"
    with translation.override("es-mx"):
        assert str(housing.name) == "Vivienda"
    assert str(housing.name) == "Housing"
    assert str(lazy_name) == "Housing"


def test_ids_are_uuid5_of_the_kynect_uri() -> None:
    taxonomy_ids, term_ids = kynect_taxonomy_ids()

    assert taxonomy_ids == [_uuid5("kynect-categories"), _uuid5("kynect-life-situations")]
    expected = [_uuid5(node.slug) for node in _all_categories()] + [
        _uuid5(situation.slug) for situation in life_situations()
    ]
    assert term_ids == expected
    assert category_find("food-pantries").id == _uuid5("food-pantries")  # type: ignore[union-attr]


# The HSDS tables --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_loaded_both_taxonomies() -> None:
    categories_taxonomy = Taxonomy.objects.get(pk=_uuid5("kynect-categories"))
    situations_taxonomy = Taxonomy.objects.get(pk=_uuid5("kynect-life-situations"))
    assert categories_taxonomy.name == "kynect categories"
    assert situations_taxonomy.name == "kynect life situations"

    nodes = _all_categories()
    terms = {term.id: term for term in TaxonomyTerm.objects.filter(taxonomy_detail=categories_taxonomy)}
    assert len(terms) == len(nodes)
    for top in categories():
        assert terms[top.id].parent_id is None
        for node in top.walk():
            term = terms[node.id]
            assert (term.name, term.name_es, term.code, term.description) == (
                node.name_en,
                node.name_es,
                node.code,
                node.description,
            )
            assert term.taxonomy == "kynect categories"
            assert term.language == "en"
            assert term.term_uri == f"https://kynect.ky.gov/taxonomy/{node.slug}"
            for child in node.children:
                assert terms[child.id].parent_id == node.id

    situation_terms = TaxonomyTerm.objects.filter(taxonomy_detail=situations_taxonomy)
    assert {term.id: term.name_es for term in situation_terms} == {
        situation.id: situation.name_es for situation in life_situations()
    }
    assert all(
        term.parent_id is None and term.taxonomy == "kynect life situations" for term in situation_terms
    )
    vocational = TaxonomyTerm.objects.get(code="KY-CAT-EMPLOYMENT-READY-VOCREHAB")
    assert vocational.parent is not None
    assert vocational.parent.parent is not None
    assert vocational.parent.parent.name == "Employment"


@pytest.mark.django_db
def test_loading_again_changes_nothing() -> None:
    before = {
        term.id: (term.name, term.name_es, term.code, term.parent_id, term.taxonomy_detail_id)
        for term in TaxonomyTerm.objects.all()
    }

    assert kynect_taxonomies_load() == (0, 0)
    assert kynect_taxonomies_load() == (0, 0)
    after = {
        term.id: (term.name, term.name_es, term.code, term.parent_id, term.taxonomy_detail_id)
        for term in TaxonomyTerm.objects.all()
    }
    assert after == before


@pytest.mark.django_db
def test_loading_repairs_and_restores() -> None:
    housing = TaxonomyTerm.objects.get(pk=_uuid5("housing"))
    housing.name_es = "Casa"
    housing.save()
    TaxonomyTerm.objects.filter(pk=_uuid5("wic")).delete()

    assert kynect_taxonomies_load() == (1, 1)
    assert TaxonomyTerm.objects.get(pk=_uuid5("housing")).name_es == "Vivienda"
    assert TaxonomyTerm.objects.get(pk=_uuid5("wic")).parent_id == _uuid5("food")


@pytest.mark.django_db
def test_the_migration_reverses(django_db_blocker: Any) -> None:
    from django.apps import apps

    taxonomy_ids, term_ids = kynect_taxonomy_ids()
    taxonomy.kynect_taxonomies_delete(Taxonomy, TaxonomyTerm)
    assert not TaxonomyTerm.objects.filter(pk__in=term_ids).exists()
    assert not Taxonomy.objects.filter(pk__in=taxonomy_ids).exists()

    created, updated = taxonomy.kynect_taxonomies_upsert(
        apps.get_model("directory", "Taxonomy"), apps.get_model("directory", "TaxonomyTerm")
    )
    assert (created, updated) == (len(taxonomy_ids) + len(term_ids), 0)


# The pages --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_spanish_home_page_shows_spanish_names() -> None:
    html = Client().get("/es/").content.decode()

    for name in ("Vivienda", "Alimentos", "Empleo", "Transporte", "Salud", "Finanzas", "Educación"):
        assert f">{name}</a>" in html, name
    assert ">Prepararse para trabajar</a>" in html
    assert "<span>Embarazada</span>" in html
    assert ">Housing</a>" not in html


@pytest.mark.django_db
def test_the_english_home_page_shows_english_names() -> None:
    html = Client().get("/").content.decode()

    assert ">Housing</a>" in html
    assert ">View All Employment</a>" in html
    assert "<span>Pregnant</span>" in html
    assert ">Vivienda</a>" not in html
