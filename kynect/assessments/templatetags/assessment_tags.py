"""Lookups the assessment pages need from dictionaries keyed by a question's code."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def error_for(errors: dict[str, str], code: str) -> str:
    return errors.get(code, "")


@register.simple_tag
def answer_chosen(chosen: dict[str, list[str]], question: str, answer: str) -> bool:
    values: Any = chosen.get(question, [])
    return answer in values
