from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kynect.core.taxonomy import CATEGORIES


def site(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs on every page."""
    return {"header_categories": CATEGORIES, "benefits_url": settings.BENEFITS_URL}
