"""Instruments are data, checked when loaded, and their answers rate the domains as their rules say."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.http import QueryDict

from kynect.assessments.definitions import (
    PUBLISHED,
    Definition,
    DefinitionError,
    definition_file,
    definition_parse,
    definition_read,
    published_load,
)
from kynect.assessments.models import Instrument
from kynect.assessments.scoring import page_answers_check, result_of
from kynect.core.sdoh import SdohDomain

# A published version never changes (an assessment keeps the version it was taken with): a change is a
# new file, `<code>-v2.json`, and a migration that loads it.
DIGESTS = {
    ("kynect-sdoh", 1): "8273263b5bee579120243fbb2c89d20bec4ae285869e9e6e47ac618891e0e8b5",
    ("ahc-hrsn", 1): "b108eb7afd52bbab0f1364678c10e8f44b2d113fc4bca0cd7102ecbf1b7b18ee",
    ("mco-needs", 1): "f9432efe609e07b87116deca051eef8f6f925daa28478dea268418f4559325cf",
}


def _digest(code: str, version: int) -> str:
    return hashlib.sha256(definition_file(code, version).read_bytes()).hexdigest()


@pytest.mark.parametrize(("code", "version"), PUBLISHED)
def test_each_published_version_parses_and_is_unchanged(code, version):
    definition = definition_parse(definition_read(code, version))
    assert (definition.code, definition.version) == (code, version)
    assert _digest(code, version) == DIGESTS[(code, version)], (
        f"{code} v{version} changed: publish v{version + 1}"
    )


@pytest.mark.django_db
def test_the_migration_loaded_every_published_version():
    assert {(i.code, i.version) for i in Instrument.objects.all()} >= set(PUBLISHED)
    assert set(DIGESTS) == set(PUBLISHED)
    assert published_load(Instrument) == 0  # loading again changes nothing


def test_the_kynect_assessment_rates_the_18_domains_in_the_overviews_words():
    definition = definition_parse(definition_read("kynect-sdoh", 1))
    assert set(definition.domains) == set(SdohDomain.values)
    for question in definition.questions:
        assert [answer.rating for answer in question.answers] == ["stable", "vulnerable", "in_crisis", "na"]


def test_a_bad_definition_says_what_is_wrong():
    raw = definition_read("kynect-sdoh", 1)
    broken = json.loads(json.dumps(raw))
    broken["pages"][0]["questions"][0]["domain"] = "weather"
    with pytest.raises(DefinitionError, match="weather"):
        definition_parse(broken)
    broken = json.loads(json.dumps(raw))
    del broken["pages"][0]["questions"][0]["text"]["es"]
    with pytest.raises(DefinitionError, match="English and Spanish"):
        definition_parse(broken)


def _hrsn() -> Definition:
    return definition_parse(definition_read("ahc-hrsn", 1))


def test_the_hrsn_core_questions_and_their_loinc_codes():
    definition = _hrsn()
    assert definition.loinc == "96777-8"
    core = [question.loinc for question in definition.questions if question.part == "core"]
    assert core == [
        "71802-3",
        "96778-6",
        "88122-7",
        "88123-5",
        "93030-5",
        "96779-4",
        "95618-5",
        "95617-7",
        "95616-9",
        "95615-1",
    ]
    assert definition.parts == ("supplemental",)
    assert all(question.optional for question in definition.questions if question.part == "supplemental")


SAFE = {code: ["LA6270-8"] for code in ("95618-5", "95617-7", "95616-9", "95615-1")}  # 1 point each


def test_hrsn_positive_answers_rate_their_domains():
    definition = _hrsn()
    answers = {
        "71802-3": ["LA31995-6"],  # no steady place to live
        "96778-6": ["LA28580-1", "LA32001-2"],  # mold, water leaks
        "88122-7": ["LA6729-3"],  # sometimes true
        "88123-5": ["LA28398-8"],
        "93030-5": ["LA32-8"],
        "96779-4": ["LA32002-0"],  # already shut off
        **SAFE,
    }
    result = result_of(definition=definition, answers=answers)
    assert result.ratings == {
        "housing": "in_crisis",
        "food": "vulnerable",
        "mobility": "stable",
        "income": "in_crisis",
        "safety": "stable",
    }
    assert result.sums == {"95614-4": 4}
    assert set(result.positive) == {"71802-3", "96778-6", "88122-7", "96779-4"}


@pytest.mark.parametrize(("points", "rating"), [((3, 3, 3, 1), "stable"), ((3, 3, 3, 2), "in_crisis")])
def test_the_interpersonal_safety_sum_of_11_or_more_is_positive(points, rating):
    codes = {1: "LA6270-8", 2: "LA10066-1", 3: "LA10082-8", 4: "LA16644-9", 5: "LA6482-9"}
    questions = ("95618-5", "95617-7", "95616-9", "95615-1")
    answers = {question: [codes[point]] for question, point in zip(questions, points, strict=True)}
    result = result_of(definition=_hrsn(), answers=answers)
    assert result.sums["95614-4"] == sum(points)
    assert result.ratings["safety"] == rating
    assert ("95614-4" in result.positive) is (rating == "in_crisis")


def test_the_safety_sum_needs_all_four_answers():
    answers = dict(SAFE)
    del answers["95615-1"]
    assert "safety" not in result_of(definition=_hrsn(), answers=answers).ratings


def _posted(**values: list[str]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, items in values.items():
        data.setlist(key, items)
    return data


def test_a_page_missing_tampered_or_doubled_answers_says_which():
    page = _hrsn().pages[0]  # living situation (one answer), housing problems (several)
    answers, errors = page_answers_check(page=page, posted=_posted(**{"96778-6": ["LA28580-1"]}))
    assert errors == {"71802-3": "Choose an answer."}
    answers, errors = page_answers_check(
        page=page, posted=_posted(**{"71802-3": ["LA31993-1", "LA31994-9"], "96778-6": ["LA00000-0"]})
    )
    assert errors == {"71802-3": "Choose only one answer.", "96778-6": "Choose one of the answers shown."}
    answers, errors = page_answers_check(
        page=page, posted=_posted(**{"71802-3": ["LA31993-1"], "96778-6": ["LA28580-1", "LA31998-0"]})
    )
    assert errors == {}
    assert answers == {"71802-3": ["LA31993-1"], "96778-6": ["LA28580-1", "LA31998-0"]}
