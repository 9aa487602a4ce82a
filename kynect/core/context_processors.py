from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation


def site(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs on every page."""
    other_language = "en" if translation.get_language() == "es" else "es"
    return {
        "benefits_url": settings.BENEFITS_URL,
        "other_language": other_language,
        # Resolved here, in the page's own language: Django's set_language cannot translate a
        # prefixed URL back to the unprefixed default language on its own.
        "other_language_url": translate_url(request.get_full_path(), other_language),
    }
