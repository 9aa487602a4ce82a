"""What an instrument's answers say: each page's answers checked, and the ratings per domain they give
(DESIGN §5.3). Pure functions of a definition and answers (`{question code: [answer codes]}`), used alike
for an anonymous resident's answers kept in the session and for an assessment kept in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from kynect.assessments.definitions import RATINGS, Definition, Page

Answers = dict[str, list[str]]


def _worst(ratings: list[str]) -> str:
    return max(ratings, key=RATINGS.index)


def page_answers_check(*, page: Page, posted: Any) -> tuple[Answers, dict[str, str]]:
    """The page's answers from a form's data (`posted.getlist`), and what is wrong, by question code:
    a required question left unanswered, an answer that is not one of the question's (a tampered
    form), several answers to a question that takes one."""
    answers: Answers = {}
    errors: dict[str, str] = {}
    for question in page.questions:
        chosen = [value for value in posted.getlist(question.code) if value]
        if not chosen:
            if not question.optional:
                errors[question.code] = _("Choose an answer.")
            continue
        if any(question.answer(code) is None for code in chosen) or len(set(chosen)) != len(chosen):
            errors[question.code] = _("Choose one of the answers shown.")
            continue
        if len(chosen) > 1 and not question.multiple:
            errors[question.code] = _("Choose only one answer.")
            continue
        answers[question.code] = chosen
    return answers, errors


def page_answers_merged(*, page: Page, kept: Answers, answers: Answers) -> Answers:
    """The answers kept so far with one page's saved over them: a question of that page left unanswered
    this time (an optional one) loses its earlier answer."""
    merged = {**kept, **answers}
    for question in page.questions:
        if question.code not in answers:
            merged.pop(question.code, None)
    return merged


@dataclass(frozen=True)
class Result:
    ratings: dict[str, str]  # domain -> its rating, for the domains the answers rate
    positive: tuple[str, ...]  # questions answered with a possible unmet need
    sums: dict[str, int]  # sum rule code -> total, for the rules whose questions were all answered


def result_of(*, definition: Definition, answers: Answers) -> Result:
    """The ratings the answers give: per domain the worst its answered questions (and sum rules) give."""
    by_domain: dict[str, list[str]] = {}
    positive: list[str] = []
    for question in definition.questions:
        chosen = [answer for code in answers.get(question.code, []) if (answer := question.answer(code))]
        if not chosen:
            continue
        if any(answer.positive for answer in chosen):
            positive.append(question.code)
        if question.domain:
            by_domain.setdefault(question.domain, []).append(_worst([answer.rating for answer in chosen]))
    sums: dict[str, int] = {}
    for rule in definition.sums:
        if not all(answers.get(code) for code in rule.questions):
            continue
        total = 0
        for code in rule.questions:
            summed = definition.question(code)
            assert summed is not None  # checked when the definition was parsed
            total += sum(answer.points for c in answers[code] if (answer := summed.answer(c)))
        sums[rule.code] = total
        by_domain.setdefault(rule.domain, []).append(
            rule.rating if total >= rule.at_least else rule.otherwise
        )
        if total >= rule.at_least:
            positive.append(rule.code)
    return Result(
        ratings={domain: _worst(ratings) for domain, ratings in by_domain.items()},
        positive=tuple(positive),
        sums=sums,
    )
