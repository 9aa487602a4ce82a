"""People's names: any script, but no invisible characters that change how text reads."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kynect.core.names import name_validate

MESSAGE = "The name has a hidden control or text-direction character. Type it again rather than pasting it."


@pytest.mark.parametrize(
    "name",
    [
        "Seán O'Brien & Co",
        "María José López-García",
        "\N{ARABIC LETTER MEEM}\N{ARABIC LETTER HAH}\N{ARABIC LETTER MEEM}\N{ARABIC LETTER DAL}",
        "\N{DEVANAGARI LETTER AA}\N{DEVANAGARI LETTER SHA}\N{DEVANAGARI LETTER AA}",
        "\N{CJK UNIFIED IDEOGRAPH-738B}\N{CJK UNIFIED IDEOGRAPH-82B3}",
        # Persian spelling joins some letters with a zero-width non-joiner: it is part of the name.
        "\N{ARABIC LETTER MEEM}\N{ARABIC LETTER HEH}\N{ZERO WIDTH NON-JOINER}\N{ARABIC LETTER SHEEN}",
    ],
)
def test_names_in_any_script_are_accepted(name: str) -> None:
    name_validate(name)


@pytest.mark.parametrize(
    "name",
    [
        "Maria\x1b[2JLopez",  # ESC, a terminal escape sequence
        "Maria\x00Lopez",
        "Maria\x07",
        "Maria\x7fLopez",
        "\N{RIGHT-TO-LEFT OVERRIDE}zepoL airaM",
        "Maria \N{LEFT-TO-RIGHT EMBEDDING}Lopez",
        "Maria \N{RIGHT-TO-LEFT ISOLATE}Lopez\N{POP DIRECTIONAL ISOLATE}",
        "Maria\ud800",  # a lone surrogate, which JSON can carry
    ],
)
def test_control_and_direction_characters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        name_validate(name)
    assert raised.value.code == "hidden_character"
    assert raised.value.messages == [MESSAGE]
