"""The Spanish catalog is complete, compiled, and covers every translatable string in the code."""

from __future__ import annotations

import gettext
import os
import shutil
from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"
SOURCE_FOLDERS = ["config", "kynect", "templates", "locale"]
IGNORED = [".venv", "node_modules", "static", "staticfiles", "*/tests/*", "tests", "docs", "bench"]


def test_every_spanish_entry_is_translated_and_not_fuzzy() -> None:
    catalog = polib.pofile(str(CATALOG))
    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert len(catalog) > 100
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_compiled_catalog_matches_the_source() -> None:
    catalog = polib.pofile(str(CATALOG))
    with CATALOG.with_suffix(".mo").open("rb") as compiled_file:
        compiled = gettext.GNUTranslations(compiled_file)
    stale = []
    for entry in catalog.translated_entries():
        if entry.msgid_plural:
            continue
        shown = (
            compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else compiled.gettext(entry.msgid)
        )
        if shown != entry.msgstr:
            stale.append(entry.msgid)
    assert not stale, f"the .mo file is out of date for: {stale[:10]} (run make compilemessages)"


def test_catalog_holds_every_string_in_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext is required in CI to check the catalog")
        pytest.skip("GNU gettext (xgettext) is not installed")
    # makemessages writes to the `locale` folder of the directory it runs in, so it runs in a copy of
    # the sources: the committed catalog is never touched.
    base = Path(settings.BASE_DIR)
    for folder in SOURCE_FOLDERS:
        shutil.copytree(base / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    copy = tmp_path / "locale"
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[copy]):
        call_command("makemessages", locale=["es"], ignore_patterns=IGNORED, verbosity=0, no_obsolete=True)
    fresh = polib.pofile(str(copy / "es" / "LC_MESSAGES" / "django.po"))
    committed = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(CATALOG))}
    missing = sorted(entry.msgid for entry in fresh if (entry.msgctxt, entry.msgid) not in committed)
    assert not missing, f"strings missing from the Spanish catalog (run make messages): {missing}"
