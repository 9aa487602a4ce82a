"""Headers of pages that must not be kept anywhere: the one place they are set."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers


def secret_page(response: HttpResponse) -> HttpResponse:
    """A page opened by a secret link (a requester's, an offer's, a consent request's): never cached,
    never indexed. (The site-wide same-origin referrer policy already keeps its address from other sites;
    no-referrer would make browsers send `Origin: null` with its forms, which the CSRF check refuses.)"""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
