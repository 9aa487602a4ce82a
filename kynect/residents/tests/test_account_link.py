"""A signed-in resident's own record (`resident_of_account`): linked only when it is theirs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kynect.accounts.tests.factories import UserFactory
from kynect.referrals.tests.factories import resident_input
from kynect.residents.models import Resident
from kynect.residents.services import resident_find_or_create, resident_of_account

pytestmark = pytest.mark.django_db


def existing_record(**fields: str) -> Resident:
    resident, _ = resident_find_or_create(
        data=resident_input(**fields), actor=UserFactory.create(), organization=None
    )
    return resident


def test_without_a_record_one_is_made_from_what_they_typed_and_linked():
    user = UserFactory.create()
    resident = resident_of_account(user=user, data=resident_input(first_name="Lena"))
    assert (resident.user, resident.first_name, resident.created_by) == (user, "Lena", user)
    assert resident_of_account(user=user, data=resident_input(first_name="Other")) == resident
    assert Resident.objects.count() == 1


@pytest.mark.parametrize("contact", ["email", "phone"])
def test_the_record_the_duplicate_check_finds_is_linked_when_it_has_the_accounts_own_contact(contact):
    record = existing_record(email="ana@example.org", mobile_phone="(502) 555-0199")
    user = (
        UserFactory.create(email="ANA@example.org")
        if contact == "email"
        else UserFactory.create(email="someone@example.org", phone="+15025550199")
    )
    assert resident_of_account(user=user, data=resident_input()) == record
    record.refresh_from_db()
    assert record.user == user
    assert Resident.objects.count() == 1


def test_someone_who_only_shares_a_name_and_birth_date_gets_a_record_of_their_own():
    record = existing_record(email="ana@example.org", mobile_phone="(502) 555-0199")
    user = UserFactory.create(email="other@example.org", phone="")
    mine = resident_of_account(user=user, data=resident_input(email="ana@example.org"))
    assert mine != record
    assert mine.user == user
    record.refresh_from_db()
    assert record.user is None


def test_a_record_another_account_holds_is_not_taken():
    record = existing_record(email="ana@example.org", mobile_phone="(502) 555-0199")
    first = UserFactory.create(email="ana@example.org")
    assert resident_of_account(user=first, data=resident_input()) == record
    # The same phone number on a second account: the record is already someone's.
    second = UserFactory.create(email="ana.two@example.org", phone="+15025550199")
    theirs = resident_of_account(user=second, data=resident_input())
    assert theirs != record
    record.refresh_from_db()
    assert record.user == first


def test_bad_input_writes_nothing():
    with pytest.raises(ValidationError):
        resident_of_account(user=UserFactory.create(), data=resident_input(first_name=" "))
    assert not Resident.objects.exists()
