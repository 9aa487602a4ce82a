"""What the APIs of every app share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def in_request_language(view: Callable[..., Any]) -> Callable[..., Any]:
    """Labels and messages in `?lang=en|es`, else in the Accept-Language header's choice. The site's
    LocaleMiddleware does not read the header for paths without a language prefix, as the API's are."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        language = request.GET.get("lang", "")
        if language not in dict(settings.LANGUAGES):
            language = translation.get_language_from_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            return view(request, *args, **kwargs)

    return wrapped
