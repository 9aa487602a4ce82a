"""High-entropy secrets handed out once and kept only as keyed hashes: requesters' secret links and
API keys. Their entropy makes a fast keyed hash (HMAC-SHA256 under the site's secret key) enough."""

from __future__ import annotations

import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

_REQUEST_LINK_SALT = "kynect.ondemand.help-request.link"
_API_KEY_SALT = "kynect.ondemand.api-key"
API_KEY_MARK = "kod"


def secret_new() -> str:
    return secrets.token_urlsafe(32)


def request_token_hash(*, request_id: str, token: str) -> str:
    return salted_hmac(_REQUEST_LINK_SALT, f"{request_id}:{token}", algorithm="sha256").hexdigest()


def request_token_matches(*, request_id: str, stored_hash: str, token: str) -> bool:
    return constant_time_compare(request_token_hash(request_id=request_id, token=token), stored_hash)


def api_key_new() -> tuple[str, str]:
    """A new key and its prefix: 'kod_<prefix>_<secret>'."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_MARK}_{prefix}_{secret_new()}", prefix


def api_key_prefix(key: str) -> str | None:
    mark, _sep, rest = key.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if mark != API_KEY_MARK or len(prefix) != 8 or not secret:
        return None
    return prefix


def api_key_hash(key: str) -> str:
    return salted_hmac(_API_KEY_SALT, key, algorithm="sha256").hexdigest()


def api_key_matches(*, stored_hash: str, key: str) -> bool:
    return constant_time_compare(api_key_hash(key), stored_hash)
