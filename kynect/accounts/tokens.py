"""API tokens (DESIGN §5.6a, ADR 0023): made, revoked and checked here, for every JSON API.

A token is `kyt_<prefix>_<secret>`: the prefix finds the row, a keyed hash of the whole token proves it.
Keys made for the On Demand API before tokens existed (`kod_<prefix>_<secret>`) were moved onto tokens
with their prefix and hash unchanged; their mark selects the purpose their hash was made with, so they
keep working.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kynect.accounts.models import ApiScope, ApiToken, User
from kynect.core import clock
from kynect.core.codes import keyed_hash, keyed_hash_matches, secret_new

MARK = "kyt"
# The mark of a token says which purpose its hash was made with.
HASH_PURPOSES = {
    MARK: "kynect.accounts.api-token",
    "kod": "kynect.ondemand.api-key",
}
PREFIX_LENGTH = 8
LAST_USED_EVERY = timedelta(minutes=1)


def _token_parse(token: str) -> tuple[str, str] | None:
    """The mark and prefix of a well-formed token, else None."""
    mark, _sep, rest = token.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if mark not in HASH_PURPOSES or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    return mark, prefix


def api_token_create(
    *,
    user: User | None = None,
    client: str = "",
    scopes: Sequence[str] = (),
    rate_limited: bool = True,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user` or for the system `client` with `scopes`; the token itself is returned
    once and never stored. Raises ValidationError for an owner or scopes that do not fit."""
    client = client.strip()
    scope_list = sorted(set(scopes))
    if (user is None) == (not client):
        raise ValidationError(_("A token belongs either to a user or to a named client, not both."))
    if user is not None and scope_list:
        raise ValidationError(_("A user's token acts as its user; scopes are for client tokens."))
    if user is None and not scope_list:
        raise ValidationError(_("A client token needs at least one scope."))
    unknown = [scope for scope in scope_list if scope not in ApiScope.values]
    if unknown:
        raise ValidationError(
            _("Unknown scope %(scopes)s. Known scopes: %(known)s.")
            % {"scopes": ", ".join(unknown), "known": ", ".join(ApiScope.values)}
        )
    if user is not None and not user.is_active:
        raise ValidationError(_("%(email)s is not an active user.") % {"email": user.email})
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    token = f"{MARK}_{prefix}_{secret_new()}"
    api_token = ApiToken(
        prefix=prefix,
        token_hash=keyed_hash(purpose=HASH_PURPOSES[MARK], value=token),
        user=user,
        client=client,
        scopes=scope_list,
        rate_limited=rate_limited,
        created_by=created_by,
    )
    api_token.full_clean()
    api_token.save()
    return api_token, token


def api_token_revoke(*, prefix: str) -> ApiToken:
    """Stop the token with `prefix` at once; revoking a revoked token changes nothing."""
    api_token = ApiToken.objects.filter(prefix=prefix).first()
    if api_token is None:
        raise ValidationError(_("No API token has the prefix %(prefix)s.") % {"prefix": prefix})
    ApiToken.objects.filter(pk=api_token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    api_token.refresh_from_db()
    return api_token


def api_token_authenticate(*, token: str) -> ApiToken | None:
    """The token matching `token` (compared in constant time), its last use recorded; None when it is
    malformed, unknown, revoked, or belongs to a user who can no longer sign in."""
    parsed = _token_parse(token)
    if parsed is None:
        return None
    mark, prefix = parsed
    api_token = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_token is None or not keyed_hash_matches(
        purpose=HASH_PURPOSES[mark], value=token, stored_hash=api_token.token_hash
    ):
        return None
    if api_token.user is not None and not api_token.user.is_active:
        return None
    now = clock.now()
    if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_EVERY:
        # At most once a minute: under a burst, every request writing the one row would queue on it.
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.last_used_at = now
    return api_token


def api_token_allows(*, api_token: ApiToken, scope: str) -> bool:
    """Whether a client token has `scope`. A user's token is not limited by scopes: what its user may do
    is for the endpoint to decide, as for a signed-in user."""
    return api_token.user_id is not None or scope in api_token.scopes
