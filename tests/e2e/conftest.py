"""Browser tests: Playwright drives Debian's chromium against a live server; axe-core checks every page.

Every page a test loads is checked with axe-core (loaded with `page.evaluate`, since the CSP blocks
injected script tags); a test fails on any axe violation, on any console error (CSP violations
included), and if it loaded a page that it never checked.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test itself
# (factories, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        message = "chromium not found: install Debian's chromium package or set CHROMIUM_PATH"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class CheckedPage:
    """A Playwright page that axe-checks what it shows and remembers what it loaded."""

    page: Any
    base_url: str
    axe_source: str
    loaded: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    console_errors: list[str] = field(default_factory=list)
    expected_console_errors: list[str] = field(default_factory=list)

    def visit(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        self.check()
        return response

    def violations(self) -> list[str]:
        """axe-core's violations on the current page, one line each; the page counts as checked."""
        self.page.wait_for_load_state("load")
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(self.axe_source)
        results = self.page.evaluate(
            "async () => await window.axe.run(document, {resultTypes: ['violations']})"
        )
        self.checked.add(self.page.url)
        return [
            f"{violation['id']} ({violation['impact']}): {violation['help']} — "
            + "; ".join(node["target"][0] if node["target"] else "?" for node in violation["nodes"][:5])
            for violation in results["violations"]
        ]

    def check(self) -> None:
        """Run axe-core on the current page and fail on any violation."""
        violations = self.violations()
        assert not violations, f"axe-core violations on {self.page.url}:\n" + "\n".join(violations)

    def scroll_width(self) -> int:
        """How wide the page is drawn, in CSS pixels: wider than the viewport means sideways scrolling."""
        return int(self.page.evaluate("() => document.documentElement.scrollWidth"))

    def fits_width(self) -> bool:
        """No horizontal scrolling at the current viewport width."""
        return bool(self.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = Path(settings.AXE_CORE_PATH)
    if not path.exists():
        pytest.fail(f"axe-core is missing at {path}: run `npm ci`")
    return path.read_text()


@pytest.fixture
def site(browser: Any, live_server: Any, axe_source: str) -> Iterator[CheckedPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    checked = CheckedPage(page=page, base_url=live_server.url, axe_source=axe_source)

    def on_console(message: Any) -> None:
        if message.type == "error":
            checked.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: checked.console_errors.append(str(error)))
    page.on("load", lambda loaded_page: checked.loaded.append(loaded_page.url))
    yield checked
    try:
        unchecked = [url for url in checked.loaded if url not in checked.checked]
        assert not unchecked, f"pages loaded but never checked with axe-core: {unchecked}"
        unexpected = [
            error
            for error in checked.console_errors
            if not any(expected in error for expected in checked.expected_console_errors)
        ]
        assert not unexpected, f"console errors (CSP included): {unexpected}"
    finally:
        context.close()
