"""API keys of systems that submit help requests, kept only as keyed hashes (HMAC-SHA256 under the site's
secret key): their entropy makes a fast keyed hash enough. Secret links and codes are `kynect.core.codes`."""

from __future__ import annotations

import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

from kynect.core.codes import secret_new

_API_KEY_SALT = "kynect.ondemand.api-key"
API_KEY_MARK = "kod"


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
