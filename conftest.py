"""Fixtures shared by every test: outboxes emptied, the test language, the official HSDS files."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from hypothesis import settings

from kynect.notifications.sms import LocmemSmsBackend
from tests.hsds_spec import hsds_spec_dir_checked, hsds_spec_skip_folded

# `pytester` runs pytest inside a test, for the tests of these fixtures.
pytest_plugins = ["pytester"]

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


@pytest.fixture(scope="session")
def hsds_spec_dir() -> Path:
    """The folder of the official HSDS 3.0 files; a test that asks for it is skipped without them."""
    return hsds_spec_dir_checked(
        spec_dir=Path(django_settings.HSDS_SPEC_DIR), required=django_settings.HSDS_SPEC_REQUIRED
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    hsds_spec_skip_folded(report)
    return report
