"""The accounts forms' own checks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kynect.accounts.forms import InvitationAcceptForm
from kynect.accounts.tests.factories import UserFactory

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


def _admin_change(client, django_user_model, first_name: str):
    admin_user = django_user_model.objects.create_superuser(
        email="state-admin@example.org", password="x-long-password-1"
    )
    person = UserFactory.create(first_name="Ann")
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    skip = {"password", "date_joined", "last_login"}
    data = {name: value for name, value in form.initial.items() if value is not None and name not in skip}
    data.update(
        {
            "first_name": first_name,
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
            "groups": [],
            "user_permissions": [],
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        }
    )
    response = client.post(url, data)
    person.refresh_from_db()
    return response, person


@pytest.mark.django_db
def test_the_admin_saves_a_plain_name(client, django_user_model):
    response, person = _admin_change(client, django_user_model, "Seán")
    assert response.status_code == 302
    assert person.first_name == "Seán"


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["Ann\x1b[2J", "\u202eAnn"])
def test_the_admin_refuses_a_name_with_a_hidden_character(client, django_user_model, bad):
    response, person = _admin_change(client, django_user_model, bad)
    assert response.status_code == 200  # the form again, with the error
    assert "hidden control or text-direction character" in response.content.decode()
    assert person.first_name == "Ann"
