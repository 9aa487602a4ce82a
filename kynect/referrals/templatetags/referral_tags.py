"""Connect on search results and service pages: the referral form for people who may refer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from kynect.referrals.access import Action, Decision, decide

register = template.Library()

_CACHE = "_referral_create_url"


@register.simple_tag(takes_context=True)
def referral_connect_url(context: dict[str, Any], service_id: Any) -> str:
    """The referral form for this service when the signed-in user may refer (`access.decide`, asked
    once a request); "" for anyone else, who keep the service's own contact options."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return ""
    base = getattr(request, _CACHE, None)
    if base is None:
        allowed = decide(user=request.user, action=Action.CREATE) == Decision.ALLOWED
        base = reverse("referrals:new") if allowed else ""
        setattr(request, _CACHE, base)
    if not base:
        return ""
    return f"{base}?{urlencode({'service': str(service_id)})}"
