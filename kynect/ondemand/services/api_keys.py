"""Writes for the API keys of systems that submit help requests (`ondemand_api_key`)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kynect.core import clock
from kynect.ondemand import credentials
from kynect.ondemand.models import ApiKey


def api_key_create(*, name: str, rate_limited: bool = True) -> tuple[ApiKey, str]:
    """A new active key; the key itself is returned once and never stored."""
    key, prefix = credentials.api_key_new()
    api_key = ApiKey(
        name=name.strip(), prefix=prefix, key_hash=credentials.api_key_hash(key), rate_limited=rate_limited
    )
    api_key.full_clean()
    api_key.save()
    return api_key, key


def api_key_revoke(*, prefix: str) -> ApiKey:
    api_key = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is None:
        raise ValidationError(_("No API key has the prefix %(prefix)s.") % {"prefix": prefix})
    ApiKey.objects.filter(pk=api_key.pk, is_active=True).update(is_active=False, revoked_at=clock.now())
    api_key.refresh_from_db()
    return api_key


API_KEY_LAST_USED_EVERY = timedelta(minutes=1)


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key matching `key` (compared in constant time), its last use recorded; else None."""
    prefix = credentials.api_key_prefix(key or "")
    if prefix is None:
        return None
    api_key = ApiKey.objects.filter(prefix=prefix, is_active=True).first()
    if api_key is None or not credentials.api_key_matches(stored_hash=api_key.key_hash, key=key):
        return None
    now = clock.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= API_KEY_LAST_USED_EVERY:
        # At most once a minute: under a burst, every request writing the one row would queue on it.
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key
