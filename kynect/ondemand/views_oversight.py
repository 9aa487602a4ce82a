"""Oversight pages: agency admins' view of their helpers and requests, and the state On Demand dashboard.
(Being built: see issue notes.)"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def oversight(request: HttpRequest) -> HttpResponse:
    raise Http404
