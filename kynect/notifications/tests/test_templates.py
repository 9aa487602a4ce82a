"""The message templates: plain text, so nothing in them is escaped for HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates" / "notifications").rglob("*.txt"))
TRICKY = 'Seán O\'Brien & Co <Ltd> "Bluegrass"'
VARIABLE = re.compile(r"\{\{\s*(\w+)")


def test_every_message_template_is_checked():
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_a_message_shows_what_it_is_given_as_typed(path: Path, language: str):
    names = set(VARIABLE.findall(path.read_text()))
    template = path.relative_to(Path(settings.BASE_DIR) / "templates").as_posix()
    with translation.override(language):
        text = render_to_string(template, dict.fromkeys(names, TRICKY))
    if names:
        assert TRICKY in text
    for escaped in ("&amp;", "&#x27;", "&lt;", "&gt;", "&quot;"):
        assert escaped not in text
