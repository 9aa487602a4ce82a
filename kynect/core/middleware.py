"""Middleware of the core app."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kynect.core.logging import log_context_end, log_context_start, mask_pii

# An id a load balancer or client may hand us: letters, digits, dot, dash and underscore, 8 to 64 of them.
REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{8,64}")


def request_id_accept(incoming: str) -> str:
    """The incoming X-Request-ID when it is a well-formed id, so a request can be followed from the load
    balancer to the application; otherwise a new one. An id that looks like personal data (a phone
    number) is replaced too: it would be written into every line of the request's log."""
    if REQUEST_ID.fullmatch(incoming) and mask_pii(incoming) == incoming:
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every request an id (`request.request_id`), tags every record logged while the request is
    handled with it, and returns it in the X-Request-ID response header. First in MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_accept(request.headers.get("X-Request-ID", ""))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = log_context_start(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            log_context_end(token)
        response["X-Request-ID"] = request_id
        return response


# The session's expiry moves forward at most once this many seconds: the idle timeout runs from the last
# request give or take a minute, and a signed-in page does not write its session row every time.
SESSION_TOUCH_SECONDS = 60
SESSION_TOUCHED_KEY = "touched_at"


class SessionIdleTimeoutMiddleware:
    """The idle timeout (SESSION_COOKIE_AGE from the last request): a session in use is saved, and so its
    expiry moved forward, when a minute has passed since it last was. Right after SessionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.keys():
            return response
        now = int(time.time())
        touched = session.get(SESSION_TOUCHED_KEY)
        if not isinstance(touched, int) or not 0 <= now - touched < SESSION_TOUCH_SECONDS:
            session[SESSION_TOUCHED_KEY] = now
        return response
