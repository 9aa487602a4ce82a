"""The public pages, in English and Spanish, and the security headers every response carries."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation
from django.utils.html import escape

pytestmark = pytest.mark.django_db

PAGES = ["/", "/search/", "/help/", "/health-coverage/"]


@pytest.fixture(scope="module")
def client() -> Client:
    """One test client for the module: a new client's first request loads the middleware again, and
    WhiteNoise's scan of every static file makes that take most of a second. The pages are
    anonymous GETs, so nothing a request leaves on the client changes the next one."""
    return Client()


def _in(language: str, text: object) -> str:
    """`text` (a lazy translation) as it reads in `language`, escaped as a template prints it."""
    with translation.override(language):
        return escape(translation.gettext(text) if isinstance(text, str) else str(text))


def _html(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_english(client: Client, path: str) -> None:
    html = _html(client, path)

    assert '<html lang="en"' in html
    assert "<title>" in html
    assert "kynect" in html


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_spanish_under_es(client: Client, path: str) -> None:
    response = client.get(f"/es{path}")

    assert response.status_code == 200
    assert response["Content-Language"] == "es"
    html = response.content.decode()
    assert '<html lang="es"' in html
    assert _in("es", "Call 2-1-1") in html
    # Links on a Spanish page stay in Spanish.
    assert 'href="/es/help/"' in html
    assert 'href="/help/"' not in html


@pytest.mark.parametrize("path", PAGES)
def test_head_is_allowed_and_post_is_not(client: Client, path: str) -> None:
    assert client.head(path).status_code == 200
    assert client.head(f"/es{path}").status_code == 200
    assert client.post(path).status_code == 405


@pytest.mark.parametrize("path", [*PAGES, "/es/", "/healthz"])
def test_security_headers(client: Client, path: str) -> None:
    response = client.get(path)

    csp = response["Content-Security-Policy"]
    directives = {
        name: values
        for name, *values in (directive.split() for directive in csp.split(";") if directive.strip())
    }
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "*" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/es/", "/search/?q=food", "/help/", "/health-coverage/"])
def test_pages_need_no_inline_script_or_style(client: Client, path: str) -> None:
    """The strict CSP would block them, so the pages must not rely on them."""
    html = _html(client, path)

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts
    assert all(re.search(r'\bsrc="/static/', tag) for tag in scripts), scripts
    assert "<style" not in html
    assert not re.search(r'\sstyle="', html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "javascript:" not in html


def test_english_header_names(client: Client) -> None:
    html = _html(client, "/")

    for name in (
        "Housing",
        "Food",
        "Employment",
        "Transportation",
        "Health",
        "Financial",
        "Education",
        "Getting ready for work",
        "Computer Skills",
        "GED/HS Diploma",
        "Vocational Rehabilitation (for Disabilities)",
        "Help finding Work",
        "Help with Work Expenses",
        "Retirement",
        "Unemployment",
    ):
        assert f">{name}</a>" in html, name


@pytest.mark.parametrize("language", ["en", "es"])
def test_call_211_link_and_partnership_footer(client: Client, language: str) -> None:
    prefix = "" if language == "en" else "/es"
    html = _html(client, f"{prefix}/")

    call = _in(language, "Call 2-1-1")
    assert re.search(rf'<a [^>]*href="tel:211"[^>]*>\s*(<span>)?{re.escape(call)}', html)
    footer = html[html.index("<footer") :]
    assert _in(language, "In partnership with") in footer
    assert "United Way of Kentucky" in footer


def test_english_call_211_and_partnership_wording(client: Client) -> None:
    html = _html(client, "/")

    assert 'href="tel:211"' in html
    assert "Call 2-1-1" in html
    assert "In partnership with" in html


def test_home_page_tile_names_in_english(client: Client) -> None:
    html = _html(client, "/")

    for name in (
        "Foster Care",
        "Unemployed",
        "Elder Care",
        "Re-Entry",
        "Homeless",
        "Impacted by Substance Use",
        "Pregnant",
        "Immigrants &amp; Refugees",
        "Veteran",
    ):
        assert f"<span>{name}</span>" in html, name


def test_help_page(client: Client) -> None:
    html = _html(client, "/help/")

    assert "<h1>Help</h1>" in html
    assert "Talk to someone" in html


def test_health_coverage_page(client: Client) -> None:
    html = _html(client, "/health-coverage/")

    assert "<h1>Health Coverage</h1>" in html
    assert "Qualified Health Plans (QHP)" in html
    assert 'href="tel:211"' in html
    assert 'href="/ondemand/help/"' in html  # the On Demand request
    assert 'href="/health-coverage/"' in _html(client, "/")


def test_unknown_page_is_404(client: Client) -> None:
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/es/no-such-page/").status_code == 404
