"""Secrets kept only as keyed hashes: the one module for one-time codes, link secrets and tokens
(DESIGN §5.6a).

Every secret here is a keyed hash (HMAC-SHA256 under the site's secret key) with a `purpose` that names
what it is for, so that a hash made for one purpose never matches another. High-entropy secrets (links,
tokens) need nothing slower. A secret that a message must carry is derived when the message is sent from
a random per-row key, so that the outbox never stores it (ADR 0014, ADR 0016).
"""

from __future__ import annotations

import base64
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac


def secret_new() -> str:
    """A random URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(32)


def key_new() -> str:
    """A random per-row key from which a secret is derived when its message is sent."""
    return secrets.token_hex(32)


def keyed_hash(*, purpose: str, value: str) -> str:
    return salted_hmac(purpose, value, algorithm="sha256").hexdigest()


def keyed_hash_matches(*, purpose: str, value: str, stored_hash: str) -> bool:
    return constant_time_compare(keyed_hash(purpose=purpose, value=value), stored_hash)


def secret_derive(*, purpose: str, value: str) -> str:
    """A URL-safe secret derived from `value` (a row's id and its random key)."""
    digest = salted_hmac(purpose, value, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def digits_derive(*, purpose: str, value: str, digits: int) -> str:
    """A numeric code of `digits` digits derived from `value` (a row's id and its random key)."""
    digest = salted_hmac(purpose, value, algorithm="sha256").digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**digits:0{digits}d}"
