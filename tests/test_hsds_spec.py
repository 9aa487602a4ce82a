"""The one place that decides whether the official HSDS files are there: present, absent, required."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.hsds_spec import SPEC_FILES, hsds_spec_dir_checked, hsds_spec_missing_message


def _spec_folder(root: Path, files: tuple[str, ...] = SPEC_FILES) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}", encoding="utf-8")
    return root


def test_a_folder_with_the_files_is_returned(tmp_path: Path) -> None:
    folder = _spec_folder(tmp_path / "hsds")

    assert hsds_spec_dir_checked(spec_dir=folder, required=False) == folder
    assert hsds_spec_dir_checked(spec_dir=folder, required=True) == folder


@pytest.mark.parametrize("missing", SPEC_FILES)
def test_a_missing_file_skips_with_one_line_naming_the_source_the_release_and_the_setting(
    tmp_path: Path, missing: str
) -> None:
    folder = _spec_folder(tmp_path / "hsds", tuple(name for name in SPEC_FILES if name != missing))

    with pytest.raises(pytest.skip.Exception) as skipped:
        hsds_spec_dir_checked(spec_dir=folder, required=False)

    message = str(skipped.value)
    assert "\n" not in message
    assert "github.com/openreferral/specification" in message
    assert "tag v3.0 " in message
    assert "HSDS_SPEC_DIR" in message
    assert str(folder) in message


def test_no_folder_at_all_skips(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        hsds_spec_dir_checked(spec_dir=tmp_path / "no-such-folder", required=False)

    assert str(skipped.value) == hsds_spec_missing_message(tmp_path / "no-such-folder")


def test_absent_but_required_fails_with_the_same_line(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        hsds_spec_dir_checked(spec_dir=tmp_path / "no-such-folder", required=True)

    message = str(failed.value)
    assert message.startswith(hsds_spec_missing_message(tmp_path / "no-such-folder"))
    assert "HSDS_SPEC_REQUIRED" in message


def test_the_fixture_follows_the_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The spec-dependent tests ask for `hsds_spec_dir`; run a test that does, in a fresh pytest, with the
    settings pointing at a full folder, an empty one, and an empty one with HSDS_SPEC_REQUIRED on."""
    full = _spec_folder(tmp_path / "full")
    empty = tmp_path / "empty"
    empty.mkdir()
    root = Path(__file__).resolve().parent.parent
    shutil.copy(root / "conftest.py", pytester.path / "conftest.py")
    pytester.makepyfile(
        test_needs_spec="""
        def test_reads_the_files(hsds_spec_dir):
            assert (hsds_spec_dir / "openapi.json").is_file()

        def test_reads_them_too(hsds_spec_dir):
            assert (hsds_spec_dir / "service.json").is_file()
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(root))
    # The inner run keeps its own log folder: at its end it scans and removes the folder it names.
    monkeypatch.delenv("KYNECT_TEST_LOG_RUN")
    # CI turns HSDS_SPEC_REQUIRED on for the whole suite; each inner run below sets it itself.
    monkeypatch.delenv("HSDS_SPEC_REQUIRED", raising=False)
    args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-ra", "--ds=config.test_settings"]

    monkeypatch.setenv("HSDS_SPEC_DIR", str(full))
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=2)

    monkeypatch.setenv("HSDS_SPEC_DIR", str(empty))
    skipped = pytester.runpytest_subprocess(*args)
    skipped.assert_outcomes(skipped=2)
    lines = [line for line in skipped.outlines if line.startswith("SKIPPED")]
    assert len(lines) == 1, lines
    assert lines[0].startswith("SKIPPED [2] ")
    assert "Official HSDS 3.0 files not found in HSDS_SPEC_DIR" in lines[0]

    monkeypatch.setenv("HSDS_SPEC_REQUIRED", "1")
    pytester.runpytest_subprocess(*args).assert_outcomes(errors=2)
