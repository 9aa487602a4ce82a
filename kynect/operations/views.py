"""`GET /metrics`: the operational metrics for Prometheus, for an API token with the metrics.read scope
(or a state administrator's own token)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from ninja.errors import HttpError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from kynect.accounts.api_auth import api_token_optional
from kynect.accounts.models import ApiScope
from kynect.accounts.selectors import is_state_admin
from kynect.core import clock
from kynect.operations.metrics import PlatformCollector

MISSING_DETAIL = "An API token with the metrics.read scope is needed, as Authorization: Bearer <token>."
NOT_ALLOWED_DETAIL = "Only a state administrator's token, or a client token with metrics.read, reads metrics."


def _refused(detail: str, status: int) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    try:
        api_token = api_token_optional(request, scope=ApiScope.METRICS_READ)
    except HttpError as refusal:  # 401 for a bad token, 403 for a client token without the scope
        return _refused(refusal.message, refusal.status_code)
    if api_token is None:
        return _refused(MISSING_DETAIL, 401)
    if api_token.user is not None and not is_state_admin(user=api_token.user):
        return _refused(NOT_ALLOWED_DETAIL, 403)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector(now=clock.now()))
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
