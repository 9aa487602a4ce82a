"""What the On Demand view modules share: form errors from a service, and the headers of pages that
show personal data."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

from kynect.core.forms import form_errors_add
from kynect.core.pages import secret_page

__all__ = ["form_errors_add", "private_page", "secret_page"]


def private_page(response: HttpResponse) -> HttpResponse:
    """A signed-in page with a requester's details: never cached. (It keeps the site's same-origin
    referrer policy, which its CSRF-protected forms need.)"""
    add_never_cache_headers(response)
    return response
