import pytest
from django.db import IntegrityError

from kynect.accounts.models import User
from kynect.accounts.tests.factories import UserFactory


@pytest.mark.django_db
def test_two_accounts_cannot_differ_only_by_the_case_of_their_email() -> None:
    UserFactory.create(email="ana@example.org")
    with pytest.raises(IntegrityError):
        User.objects.create(email="Ana@Example.org")


@pytest.mark.django_db
def test_clean_lowercases_the_email() -> None:
    user = User(email=" Ana@Example.ORG ")
    user.clean()
    assert user.email == "ana@example.org"
