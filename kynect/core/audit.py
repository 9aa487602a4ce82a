"""Recording who viewed whose personal data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

from kynect.core import clock
from kynect.core.models import AccessEvent

if TYPE_CHECKING:
    from kynect.accounts.models import User


def client_ip(request: HttpRequest) -> str | None:
    """The client address as the web server saw it (a proxy's forwarded header is not trusted)."""
    return request.META.get("REMOTE_ADDR") or None


def access_event_record(
    *,
    actor: User | None,
    subject_type: str,
    subject_id: str,
    action: str = AccessEvent.Action.VIEW,
    detail: str = "",
    request: HttpRequest | None = None,
) -> AccessEvent:
    """Append one access event. Call it in the same transaction as the read it records."""
    event = AccessEvent(
        occurred_at=clock.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor.email if actor is not None and actor.is_authenticated else "anonymous",
        subject_type=subject_type,
        subject_id=str(subject_id),
        action=action,
        detail=detail[:255],
    )
    if request is not None:
        event.ip_address = client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:255]
        event.path = request.path[:255]
    event.full_clean()
    event.save()
    return event
