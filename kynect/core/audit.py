"""Recording who viewed whose personal data (ADR 0011).

Pages and endpoints that show personal data read it through `audited_read`, which returns the data and
records the access in one call; `access_event_record` is for services that record other access.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from kynect.core import clock
from kynect.core.logging import mask_link_secrets
from kynect.core.models import AccessEvent

if TYPE_CHECKING:
    from kynect.accounts.models import User

T = TypeVar("T")


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: what every rate limit per address and every AccessEvent uses.

    `REMOTE_ADDR`, unless the request came from a proxy listed in `TRUSTED_PROXIES`: then the proxies'
    `X-Forwarded-For` is walked from the right, past the trusted proxies, and the first address that is
    not one is the client (the leftmost, if every hop is trusted). Anyone can send the header, so it is
    read only from a trusted proxy, and only as far as the hops that trusted proxies added; entries that
    are not IP addresses are ignored.
    """
    remote = _ip_address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    client = remote
    if _is_trusted(remote, trusted):
        for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            address = _ip_address(hop)
            if address is None:
                continue
            client = address
            if not _is_trusted(address, trusted):
                break
    return str(client)


def _ip_address(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is 192.0.2.1
    return address


@lru_cache(maxsize=8)
def _networks(entries: Sequence[str]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: IpAddress, trusted: Sequence[IpNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def access_event_record(
    *,
    actor: User | None,
    subject_type: str,
    subject_id: str,
    action: str = AccessEvent.Action.VIEW,
    detail: str = "",
    request: HttpRequest | None = None,
    consent_id: Any = None,
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
        consent_id=consent_id,
    )
    if request is not None:
        event.ip_address = client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:255]
        event.path = mask_link_secrets(request.path)[:255]  # the record must not be a key to the page
    # The actor is the signed-in user and the id is new: checking either would cost a query on every
    # audited read for nothing.
    event.full_clean(exclude=["actor"], validate_unique=False)
    event.save(force_insert=True)
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
    consent_id: Any = None,
) -> T:
    """Run `read` and record that `actor` saw what it returned, in one transaction; return the result.

    Who is `actor` (None for someone not signed in, such as a requester on a secret link; not always
    `request.user`: a helper on an offer's link is not signed in); whose is `subject_type` and
    `subject_id`; what is `action` and `detail` (a text, or a function of the read's result, like "page 2:
    50 helpers"); when and from where come from the clock and `request`; under which consent, when the data
    was shown because of a resident's consent, is `consent_id`.

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
            consent_id=consent_id,
        )
    return result


def audited_denial(
    *, request: HttpRequest, actor: User | None, subject_type: str, subject_id: str, detail: str
) -> None:
    """Record that `actor` asked for data they may not see (the page answers 404, as if it did not exist):
    guessing another organization's ids leaves a trace."""
    access_event_record(
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        action=AccessEvent.Action.DENIED,
        detail=detail,
        request=request,
    )


def access_events_expire(*, before: datetime) -> int:
    """Delete the access events older than `before` (the retention job's): returns how many. On
    PostgreSQL the append-only trigger lets a delete through only for events older than the moment this
    transaction names, so nothing else can remove one."""
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('kynect.access_events_expire_before', %s, true)", [before.isoformat()]
                )
        return AccessEvent.objects.expire_before(before)
