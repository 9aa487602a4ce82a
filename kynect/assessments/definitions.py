"""Instruments are data (DESIGN §5.3): each is a JSON file in `instruments/`, named `<code>-v<version>.json`,
holding its questions, answers, pages, scoring rules and the domains each rates, in English and Spanish. A
migration loads a version into `Instrument.definition`; an assessment keeps the version it was taken with.

This module reads a definition into typed objects and checks it, so that a mistake in a file is found when
it is loaded, not when a resident is halfway through. The shape is documented in
docs/reference/assessments.md.

Ratings: every question that rates a domain gives each answer a rating (`stable`, `vulnerable`,
`in_crisis` or `na`); the domain's rating is the worst its answered questions give. A sum rule adds the
answers' points of several questions and rates a domain when the total reaches a threshold (the AHC HRSN
interpersonal-safety score of 11 or more).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import translation

from kynect.core.sdoh import SdohDomain

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
# Every published version, each loaded once (`published_load`); a new version is added here with its file.
PUBLISHED = (("kynect-sdoh", 1), ("ahc-hrsn", 1), ("mco-needs", 1))

# Worst last: a domain's rating is the worst its questions give.
RATINGS = ("na", "stable", "vulnerable", "in_crisis")
LANGUAGES = ("en", "es")


class DefinitionError(ValueError):
    """An instrument file that does not hold a usable instrument."""


@dataclass(frozen=True)
class Text:
    en: str
    es: str

    def __str__(self) -> str:
        return self.es if translation.get_language() == "es" else self.en


@dataclass(frozen=True)
class Answer:
    code: str
    text: Text
    loinc: str
    rating: str  # what choosing it says of the question's domain ("" when the question rates none)
    points: int  # for sum rules
    positive: bool  # a possible unmet need (the AHC HRSN tool's underlined answers)


@dataclass(frozen=True)
class Question:
    code: str
    text: Text
    loinc: str
    answers: tuple[Answer, ...]
    domain: str  # the domain it rates, or ""
    multiple: bool  # several answers may be chosen
    optional: bool  # may be left unanswered
    part: str  # "core", or the name of an optional part ("supplemental")

    def answer(self, code: str) -> Answer | None:
        return next((answer for answer in self.answers if answer.code == code), None)


@dataclass(frozen=True)
class Page:
    title: Text
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class SumRule:
    code: str
    text: Text
    loinc: str
    questions: tuple[str, ...]
    at_least: int
    domain: str
    rating: str  # the domain's rating when the sum reaches `at_least`
    otherwise: str


@dataclass(frozen=True)
class Definition:
    code: str
    version: int
    title: Text
    intro: Text
    loinc: str
    audience: tuple[str, ...]  # "anonymous", "resident", "staff", or a role of accounts.Role
    pages: tuple[Page, ...]
    sums: tuple[SumRule, ...]
    parts: tuple[str, ...]  # optional parts, each offered with a choice to skip it

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(question for page in self.pages for question in page.questions)

    def question(self, code: str) -> Question | None:
        return next((question for question in self.questions if question.code == code), None)

    @property
    def domains(self) -> tuple[str, ...]:
        rated = [question.domain for question in self.questions if question.domain]
        rated += [rule.domain for rule in self.sums]
        return tuple(dict.fromkeys(rated))


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, dict) or any(
        not isinstance(raw.get(lang), str) or not raw[lang] for lang in LANGUAGES
    ):
        raise DefinitionError(f"{where}: needs its text in English and Spanish")
    return Text(en=raw["en"], es=raw["es"])


def _rating(value: Any, where: str, *, allow_empty: bool = False) -> str:
    if allow_empty and value in (None, ""):
        return ""
    if value not in RATINGS:
        raise DefinitionError(f"{where}: rating {value!r} is not one of {', '.join(RATINGS)}")
    return str(value)


def _domain(value: Any, where: str) -> str:
    if value in (None, ""):
        return ""
    if value not in SdohDomain.values:
        raise DefinitionError(f"{where}: {value!r} is not one of the 18 domains")
    return str(value)


def _answers(raw: Any, sets: dict[str, Any], where: str, rates: bool) -> tuple[Answer, ...]:
    if isinstance(raw, str):
        if raw not in sets:
            raise DefinitionError(f"{where}: no answer set {raw!r}")
        raw = sets[raw]
    if not isinstance(raw, list) or len(raw) < 2:
        raise DefinitionError(f"{where}: needs at least two answers")
    answers = tuple(
        Answer(
            code=str(item["code"]),
            text=_text(item.get("text"), f"{where} answer {item.get('code')}"),
            loinc=str(item.get("loinc") or ""),
            rating=_rating(item.get("rating"), f"{where} answer {item['code']}", allow_empty=not rates),
            points=int(item.get("points") or 0),
            positive=bool(item.get("positive")),
        )
        for item in raw
    )
    if len({answer.code for answer in answers}) != len(answers):
        raise DefinitionError(f"{where}: answer codes repeat")
    return answers


def definition_parse(raw: dict[str, Any]) -> Definition:
    """A checked instrument definition; DefinitionError says what is wrong."""
    try:
        code, version = str(raw["code"]), int(raw["version"])
        where = f"{code} v{version}"
        sets = raw.get("answer_sets") or {}
        pages = []
        for number, page in enumerate(raw["pages"], start=1):
            questions = []
            for item in page["questions"]:
                q_where = f"{where} question {item['code']}"
                domain = _domain(item.get("domain"), q_where)
                questions.append(
                    Question(
                        code=str(item["code"]),
                        text=_text(item.get("text"), q_where),
                        loinc=str(item.get("loinc") or ""),
                        answers=_answers(item["answers"], sets, q_where, rates=bool(domain)),
                        domain=domain,
                        multiple=bool(item.get("multiple")),
                        optional=bool(item.get("optional")),
                        part=str(page.get("part") or "core"),
                    )
                )
            pages.append(
                Page(title=_text(page.get("title"), f"{where} page {number}"), questions=tuple(questions))
            )
        sums = tuple(
            SumRule(
                code=str(rule["code"]),
                text=_text(rule.get("text"), f"{where} sum {rule['code']}"),
                loinc=str(rule.get("loinc") or ""),
                questions=tuple(rule["questions"]),
                at_least=int(rule["at_least"]),
                domain=_domain(rule["domain"], f"{where} sum {rule['code']}"),
                rating=_rating(rule["rating"], f"{where} sum {rule['code']}"),
                otherwise=_rating(rule["otherwise"], f"{where} sum {rule['code']}"),
            )
            for rule in raw.get("sums") or []
        )
        definition = Definition(
            code=code,
            version=version,
            title=_text(raw.get("title"), where),
            intro=_text(raw.get("intro"), f"{where} intro"),
            loinc=str(raw.get("loinc") or ""),
            audience=tuple(raw["audience"]),
            pages=tuple(pages),
            sums=sums,
            parts=tuple(
                dict.fromkeys(
                    page.questions[0].part
                    for page in pages
                    if page.questions and page.questions[0].part != "core"
                )
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, DefinitionError):
            raise
        raise DefinitionError(f"{raw.get('code', '?')}: {error!r}") from error
    codes = [question.code for question in definition.questions]
    if len(set(codes)) != len(codes):
        raise DefinitionError(f"{where}: question codes repeat")
    for rule in definition.sums:
        for question_code in rule.questions:
            if definition.question(question_code) is None:
                raise DefinitionError(f"{where} sum {rule.code}: no question {question_code}")
    return definition


def definition_file(code: str, version: int) -> Path:
    return INSTRUMENTS_DIR / f"{code}-v{version}.json"


def definition_read(code: str, version: int) -> dict[str, Any]:
    """The raw definition in its file, checked."""
    with definition_file(code, version).open(encoding="utf-8") as source:
        raw: dict[str, Any] = json.load(source)
    definition_parse(raw)
    return raw


def published_load(instrument_model: Any) -> int:
    """Load the published versions not loaded yet into `instrument_model` (the model, or a migration's
    historical one); returns how many were new. A loaded version is never replaced."""
    loaded = 0
    for code, version in PUBLISHED:
        _row, created = instrument_model.objects.get_or_create(
            code=code, version=version, defaults={"definition": definition_read(code, version)}
        )
        loaded += int(created)
    return loaded
