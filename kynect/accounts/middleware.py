"""Middleware of the accounts app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kynect.accounts.selectors import memberships_read_close, memberships_read_open


class MembershipsReadOncePerRequest:
    """While a request is handled, the user's memberships are read once for all of its role questions
    (`selectors.memberships_held`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = memberships_read_open()
        try:
            return self.get_response(request)
        finally:
            memberships_read_close(token)
