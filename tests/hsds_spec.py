"""Where the tests find the official Open Referral HSDS 3.0 files (settings.HSDS_SPEC_DIR).

The project does not copy them (their licence is CC BY-SA 4.0). The contract tests and the import tests
that read the official examples ask for them through the `hsds_spec_dir` fixture, which decides here:
the files are there, or every such test is skipped with one line saying where to get them, or, with
`HSDS_SPEC_REQUIRED` on (CI), their absence fails the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SPEC_REPOSITORY = "https://github.com/openreferral/specification"
# The release the files are: their datapackage says version 3.0.0 and their $refs point at the 3.0 schemas.
SPEC_RELEASE = "v3.0"
# What the tests read: the API description, the schemas and the official examples.
SPEC_FILES = ("openapi.json", "compiled/service.json", "service.json", "examples/csv/datapackage.json")


MISSING = "Official HSDS 3.0 files not found"


def hsds_spec_missing_message(spec_dir: Path) -> str:
    return (
        f"{MISSING} in HSDS_SPEC_DIR ({spec_dir}): get {SPEC_REPOSITORY} at tag "
        f"{SPEC_RELEASE} and set HSDS_SPEC_DIR to a folder holding its schema/ files "
        "and its examples/ folder."
    )


def hsds_spec_dir_checked(*, spec_dir: Path, required: bool) -> Path:
    """`spec_dir` when it holds the official files; otherwise skip the test, or fail it if `required`."""
    if all((spec_dir / name).is_file() for name in SPEC_FILES):
        return spec_dir
    message = hsds_spec_missing_message(spec_dir)
    if required:
        pytest.fail(f"{message} HSDS_SPEC_REQUIRED is on, so they must be there.", pytrace=False)
    pytest.skip(message)


def hsds_spec_skip_folded(report: pytest.TestReport) -> None:
    """Pytest reports a skip from a fixture at each test's own line, one summary line per test. These skips
    have one cause: report them where it is decided, so the summary folds them into one line."""
    if report.skipped and isinstance(report.longrepr, tuple) and MISSING in report.longrepr[2]:
        report.longrepr = (__file__, hsds_spec_dir_checked.__code__.co_firstlineno, report.longrepr[2])
