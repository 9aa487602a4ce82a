"""django-ninja authentication with API tokens, for every JSON API (ADR 0023).

A router lists `token_auth(scope=...)`: `Authorization: Bearer <token>` first, then the `X-API-Key`
header that On Demand clients used before tokens existed. A bad or revoked token is 401 and a client
token without the scope is 403, each with a JSON `detail`. An API that only people use (the Referral
API) lists `user_token_auth()`: a client token, whatever its scopes, is 403 there. `request.auth` is the
token, and `request.user` is the token's user, or anonymous for a client token, whatever cookies came
along.

A public API, which anyone may call without a token, reads an optional bearer token with
`api_token_optional` and counts each call with `api_rate_limit_hit`: against the token when one came,
else against the client address.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.security import APIKeyHeader, HttpBearer

from kynect.accounts.models import ApiToken, User
from kynect.accounts.selectors import user_may_see_resident_data, user_sees_only_own_data
from kynect.accounts.tokens import api_token_allows, api_token_authenticate
from kynect.core.audit import client_ip
from kynect.core.ratelimit import RateLimitResult, rate_limit_hit, rate_limit_key

API_KEY_HEADER = "X-API-Key"
INVALID_DETAIL = "The API token is not valid or has been revoked."
USER_ONLY_DETAIL = "This API acts for a person: use a user's API token, not a client token."


def _token_check(request: HttpRequest, *, token: str, scope: str | None) -> ApiToken:
    """`scope` None: only a user's token will do."""
    api_token = api_token_authenticate(token=token)
    if api_token is None:
        raise AuthenticationError(message=INVALID_DETAIL)
    if scope is None and api_token.user is None:
        raise AuthorizationError(message=USER_ONLY_DETAIL)
    if scope is not None and not api_token_allows(api_token=api_token, scope=scope):
        raise AuthorizationError(message=f"This API token does not have the {scope} scope.")
    request.user = api_token.user if api_token.user is not None else AnonymousUser()
    return api_token


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`."""

    def __init__(self, *, scope: str | None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        return _token_check(request, token=token, scope=self.scope)


class ApiKeyAuth(APIKeyHeader):
    """The same token in the `X-API-Key` header, as On Demand clients send it."""

    param_name = API_KEY_HEADER

    def __init__(self, *, scope: str | None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiToken | None:
        if not key:
            return None
        return _token_check(request, token=key, scope=self.scope)


def token_auth(*, scope: str) -> list[BearerAuth | ApiKeyAuth]:
    """The `auth` of a router or operation that a token with `scope` (or a user's token) may call."""
    return [BearerAuth(scope=scope), ApiKeyAuth(scope=scope)]


def user_token_auth() -> list[BearerAuth | ApiKeyAuth]:
    """The `auth` of a router or operation that only a user's token may call: it acts as its user."""
    return [BearerAuth(scope=None), ApiKeyAuth(scope=None)]


def api_token_optional(request: HttpRequest, *, scope: str) -> ApiToken | None:
    """The bearer token a call to a public API came with, or None without one. A bad token, or a client
    token without `scope`, raises as `token_auth` does (401, 403): a caller that sends a token means to
    be known, and must not silently be treated as anonymous."""
    return BearerAuth(scope=scope)(request)


def api_rate_limit_hit(
    request: HttpRequest,
    *,
    api_token: ApiToken | None,
    name: str,
    limit_per_client: int,
    limit_per_token: int,
    window_seconds: int,
) -> RateLimitResult | None:
    """Count one call to the API `name`: against `api_token` when there is one (None for a token made
    exempt from rate limits), else against the client address."""
    if api_token is None:
        key, limit = rate_limit_key(f"{name}-client", client_ip(request) or "unknown"), limit_per_client
    elif api_token.rate_limited:
        key, limit = rate_limit_key(f"{name}-token", str(api_token.pk)), limit_per_token
    else:
        return None
    return rate_limit_hit(key=key, limit=limit, window_seconds=window_seconds)


def api_resident_data_user(request: HttpRequest) -> User:
    """The user a `user_token_auth` API acts for, who must have passed onboarding's gate for resident data
    as on the pages (`decorators.resident_data_required`): 403 with a JSON `detail` otherwise."""
    user = request.user
    assert isinstance(user, User)  # user_token_auth lets only a user's token in
    if not (user_may_see_resident_data(user=user) or user_sees_only_own_data(user=user)):
        raise HttpError(
            403,
            _(
                "Attest the privacy and security training, as a member of an onboarded organization, before "
                "you use residents' data."
            ),
        )
    return user
