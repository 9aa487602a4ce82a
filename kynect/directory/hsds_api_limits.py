"""What keeps the public HSDS API from tying up the server (docs/reference/hsds_api.md, "Limits"): a
rate limit per API token or, without one, per client address, and a cap on the size of nested pages.
Whole exports (format=ndjson) are for token holders; `hsds_api` streams them in chunks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from ninja.errors import HttpError

from kynect.accounts.api_auth import api_rate_limit_hit, api_token_optional
from kynect.accounts.models import ApiScope

MAX_PER_PAGE = 500
# Nested pages cost a query set and much serialising per record: 500 organizations with their services
# fully nested took most of a minute. Whole exports are for token holders, with format=ndjson.
MAX_FULL_PER_PAGE = 25
MAX_FULL_SERVICE_PER_PAGE = 5


@dataclass(frozen=True)
class Nesting:
    """How heavy each record of a list is: the largest page allowed, and the parameters that make it so."""

    cap: int = MAX_PER_PAGE
    by: str = ""


FLAT = Nesting()
FULL = Nesting(MAX_FULL_PER_PAGE, "full=true")
FULL_SERVICE = Nesting(MAX_FULL_SERVICE_PER_PAGE, "full=true and full_service=true")


def page_size(request: HttpRequest, per_page: int, nesting: Nesting) -> int:
    if "per_page" not in request.GET:
        return min(per_page, nesting.cap)
    if per_page > nesting.cap:
        raise HttpError(
            400,
            f"per_page is at most {nesting.cap} with {nesting.by}, because every nested object makes a page "
            "heavy. Read the following pages with page, or export every record with format=ndjson and an "
            "API token.",
        )
    return per_page


def api_rate_limited(view: Callable[..., Any]) -> Callable[..., Any]:
    """Every operation: who calls (an optional token with hsds.read, as `request.auth`), counted against
    the limit of that token, or of the client address without one."""

    @functools.wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        api_token = api_token_optional(request, scope=ApiScope.HSDS_READ)
        hit = api_rate_limit_hit(
            request,
            api_token=api_token,
            name="hsds-api",
            limit_per_client=settings.HSDS_API_LIMIT_PER_CLIENT,
            limit_per_token=settings.HSDS_API_LIMIT_PER_TOKEN,
            window_seconds=settings.HSDS_API_WINDOW_SECONDS,
        )
        if hit is not None and not hit.allowed:
            who = (
                "with this API token"
                if api_token
                else "from this client; an API token has a limit of its own"
            )
            detail = f"Too many requests {who}. Try again in {hit.retry_after_seconds} seconds."
            response = JsonResponse({"detail": detail}, status=429)
            response["Retry-After"] = str(hit.retry_after_seconds)
            return response
        request.auth = api_token  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return limited
