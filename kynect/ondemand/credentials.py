"""High-entropy secrets kept only as keyed hashes: requesters' and helpers' secret links. Their entropy
makes a fast keyed hash (HMAC-SHA256 under the site's secret key) enough.

A requester's link secret is derived from a random per-request key, so that the confirmation message
can carry it without the outbox storing it (ADR 0016, after ADR 0014)."""

from __future__ import annotations

import base64
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

_REQUEST_LINK_SALT = "kynect.ondemand.help-request.link"
_REQUEST_LINK_DERIVE_SALT = "kynect.ondemand.help-request.link.derive"


def secret_new() -> str:
    return secrets.token_urlsafe(32)


def request_token_derive(*, request_id: str, link_key: str) -> str:
    """The secret of a requester's link, derived from the request's random `link_key` (ADR 0016)."""
    digest = salted_hmac(_REQUEST_LINK_DERIVE_SALT, f"{request_id}:{link_key}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def request_token_hash(*, request_id: str, token: str) -> str:
    return salted_hmac(_REQUEST_LINK_SALT, f"{request_id}:{token}", algorithm="sha256").hexdigest()


def request_token_matches(*, request_id: str, stored_hash: str, token: str) -> bool:
    return constant_time_compare(request_token_hash(request_id=request_id, token=token), stored_hash)


_OFFER_LINK_SALT = "kynect.ondemand.offer.link"
_OFFER_LINK_DERIVE_SALT = "kynect.ondemand.offer.link.derive"


def offer_token_derive(*, offer_id: str, link_key: str) -> str:
    """The secret of a helper's offer link, derived from the offer's random `link_key` when the message
    is sent (as for requesters' links, ADR 0016)."""
    digest = salted_hmac(_OFFER_LINK_DERIVE_SALT, f"{offer_id}:{link_key}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def offer_token_hash(*, offer_id: str, token: str) -> str:
    return salted_hmac(_OFFER_LINK_SALT, f"{offer_id}:{token}", algorithm="sha256").hexdigest()


def offer_token_matches(*, offer_id: str, stored_hash: str, token: str) -> bool:
    return constant_time_compare(offer_token_hash(offer_id=offer_id, token=token), stored_hash)
