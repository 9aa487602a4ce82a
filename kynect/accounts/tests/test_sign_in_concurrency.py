"""Sign-in limits under real concurrency (PostgreSQL): wrong passwords sent at the same moment never get
more password checks than the limit allows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from kynect.accounts.models import User
from kynect.accounts.tests.factories import TEST_PASSWORD, UserFactory
from kynect.core.tests.concurrency import in_threads, postgresql_only

pytestmark = [postgresql_only, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 3, 2, 15, 0, 10, tzinfo=UTC)  # 10 seconds into a 15-minute window


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The email of every account whose password was checked, in whichever thread."""
    checked: list[str] = []
    lock = threading.Lock()
    check_password = User.check_password

    def counted(user: User, raw_password: Any) -> bool:
        with lock:
            checked.append(user.email)
        return check_password(user, raw_password)

    monkeypatch.setattr(User, "check_password", counted)
    return checked


def sign_in(email: str, password: str, address: str) -> int:
    response = Client().post(
        "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address
    )
    return response.status_code


def test_parallel_wrong_passwords_from_one_address_check_at_most_the_limit(settings, password_checks):
    UserFactory.create(email="mco@example.org")
    limit = settings.LOGIN_THROTTLE_LIMIT

    with time_machine.travel(T0, tick=False):
        statuses = in_threads(24, lambda i: sign_in("mco@example.org", "wrong-password-here", "10.0.0.7"))

    assert sorted(statuses) == [200] * limit + [429] * (24 - limit), statuses
    assert password_checks == ["mco@example.org"] * limit


def test_parallel_wrong_passwords_from_many_addresses_check_at_most_the_account_limit(
    settings, password_checks
):
    UserFactory.create(email="mco@example.org")
    account_limit = settings.LOGIN_THROTTLE_LIMIT * 4

    with time_machine.travel(T0, tick=False):
        statuses = in_threads(30, lambda i: sign_in("mco@example.org", "wrong-password-here", f"10.0.1.{i}"))
        # The owner, from an address of their own, is refused too until the window ends.
        assert sign_in("mco@example.org", TEST_PASSWORD, "10.0.2.1") == 429

    assert sorted(statuses) == [200] * account_limit + [429] * (30 - account_limit), statuses
    assert len(password_checks) == account_limit
