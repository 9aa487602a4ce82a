"""Recording who viewed whose personal data (ADR 0011).

Pages and endpoints that show personal data read it through `audited_read`, which returns the data and
records the access in one call; `access_event_record` is for services that record other access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.db import transaction
from django.http import HttpRequest

from kynect.core import clock
from kynect.core.logging import mask_link_secrets
from kynect.core.models import AccessEvent

if TYPE_CHECKING:
    from kynect.accounts.models import User

T = TypeVar("T")


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
        event.path = mask_link_secrets(request.path)[:255]  # the record must not be a key to the page
    event.full_clean()
    event.save()
    return event


def audited_read(
    *,
    request: HttpRequest,
    actor: User | None,
    subject_type: str,
    subject_id: str,
    read: Callable[[], T],
    detail: str | Callable[[T], str] = "",
    action: str = AccessEvent.Action.VIEW,
) -> T:
    """Run `read` and record that `actor` saw what it returned, in one transaction; return the result.

    Who is `actor` (None for someone not signed in, such as a requester on a secret link; not always
    `request.user`: a helper on an offer's link is not signed in); whose is `subject_type` and
    `subject_id`; what is `action` and `detail` (a text, or a function of the read's result, like "page 2:
    50 helpers"); when and from where come from the clock and `request`.

    A read that raises records nothing: the exception propagates and no data was handed out. A record that
    cannot be written (the database refuses it) raises too, and the data is not returned: nothing is shown
    that the audit does not know of. Once the result is returned the event stands, even if rendering the
    page fails afterwards: the data left the database.
    """
    with transaction.atomic():
        result = read()
        access_event_record(
            actor=actor,
            subject_type=subject_type,
            subject_id=subject_id,
            action=action,
            detail=detail(result) if callable(detail) else detail,
            request=request,
        )
    return result
