"""Fixtures shared by every test: outboxes emptied, a fast way to make users, the test language; and the
scan of the session's logs for the demo people's personal data."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from hypothesis import settings

from kynect.notifications.sms import LocmemSmsBackend
from tests.log_scan import Leak, log_leaks

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


LOG_LEAKS = pytest.StashKey[list[Leak]]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the controller (or the only process), scan every process's log file of this run: a leak fails
    the run (listed by `pytest_terminal_summary`) and keeps the files; a clean run removes them."""
    if hasattr(session.config, "workerinput"):
        return
    log_dir = Path(django_settings.LOGGING["handlers"]["leak_scan"]["filename"]).parent
    for handler in logging.getLogger().handlers:
        handler.flush()
    leaks = log_leaks(sorted(log_dir.glob("*.log")))
    session.config.stash[LOG_LEAKS] = leaks
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        shutil.rmtree(log_dir, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    leaks = config.stash.get(LOG_LEAKS, [])
    if leaks:
        terminalreporter.section(f"personal data in the logs: {len(leaks)} line(s)", red=True)
        for leak in leaks:
            terminalreporter.write_line(str(leak))
