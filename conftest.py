"""Fixtures shared by every test: outboxes emptied, a fast way to make users, the test language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation
from hypothesis import settings

from kynect.notifications.sms import LocmemSmsBackend

# Tests never assert wall-clock time: a busy machine must not fail a property test.
settings.register_profile("kynect", deadline=None)
settings.load_profile("kynect")


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield
