"""The accounts forms' own checks."""

from __future__ import annotations

import pytest

from kynect.accounts.forms import InvitationAcceptForm

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("hidden", ["\x1b", "\N{RIGHT-TO-LEFT OVERRIDE}", "\N{LEFT-TO-RIGHT ISOLATE}"])
def test_a_name_with_hidden_characters_is_refused(field: str, hidden: str) -> None:
    data = {"first_name": "Nia", "last_name": "Person", "password1": PASSWORD, "password2": PASSWORD}
    data[field] = f"Ni{hidden}a"
    form = InvitationAcceptForm(data)
    assert not form.is_valid()
    assert form.errors[field] == [
        "The name has a hidden control or text-direction character. Type it again rather than pasting it."
    ]


def test_names_in_any_script_are_accepted() -> None:
    data = {"first_name": "Seán", "last_name": "O'Brien", "password1": PASSWORD, "password2": PASSWORD}
    assert InvitationAcceptForm(data).is_valid()
