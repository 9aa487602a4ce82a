"""Fixtures shared by every test: outboxes emptied, the test language, the official HSDS files; and the
scan of the session's logs for the demo people's personal data."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from hypothesis import settings

from kynect.notifications.sms import LocmemSmsBackend
from tests.hsds_spec import hsds_spec_dir_checked, hsds_spec_skip_folded
from tests.log_scan import Leak, log_leaks

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


LOG_LEAKS = pytest.StashKey[list[Leak]]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the controller (or the only process), scan every process's log file of this run: a leak fails
    the run (listed by `pytest_terminal_summary`) and keeps the files; a clean run removes them."""
    if hasattr(session.config, "workerinput"):
        return
    log_dir = Path(django_settings.LOGGING["handlers"]["leak_scan"]["filename"]).parent
    for handler in logging.getLogger().handlers:
        # This process's own scan file; a handler a test left on a stream it closed is not ours to flush.
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename).parent == log_dir:
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
