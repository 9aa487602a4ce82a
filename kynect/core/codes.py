"""Secrets kept only as keyed hashes: the one module for one-time codes, link secrets and tokens
(DESIGN §5.6a).

Every secret here is a keyed hash (HMAC-SHA256 under the site's secret key) with a `purpose` that names
what it is for, so that a hash made for one purpose never matches another. High-entropy secrets (links,
tokens) need nothing slower. A secret that a message must carry is derived when the message is sent from
a random per-row key, so that the outbox never stores it (ADR 0014, ADR 0016).
"""

from __future__ import annotations

import base64
import enum
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.db import models, transaction
from django.db.models import F, QuerySet
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from kynect.core.models import BaseModel


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


# --- Secret links ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkSecrets:
    """One kind of secret link (a requester's status page, a helper's offer, a consent request).

    A row keeps a random `key` and the keyed hash of its link's secret; the secret itself is derived from
    the row's id and key when the message carrying it is sent, and is never stored. Wiping the key ends
    new messages' links while links already sent keep working through the hash. The derivation's purpose
    is `purpose` + ".derive", the hash's is `purpose` itself.
    """

    purpose: str

    def derive(self, *, row_id: Any, key: str) -> str:
        return secret_derive(purpose=f"{self.purpose}.derive", value=f"{row_id}:{key}")

    def hash(self, *, row_id: Any, secret: str) -> str:
        return keyed_hash(purpose=self.purpose, value=f"{row_id}:{secret}")

    def matches(self, *, row_id: Any, secret: str, stored_hash: str) -> bool:
        return keyed_hash_matches(purpose=self.purpose, value=f"{row_id}:{secret}", stored_hash=stored_hash)

    def issue(self, *, row_id: Any) -> tuple[str, str, str]:
        """A new row's key, its link's secret and the secret's hash."""
        key = secret_new()
        secret = self.derive(row_id=row_id, key=key)
        return key, secret, self.hash(row_id=row_id, secret=secret)


# --- One-time codes -------------------------------------------------------------------------------------

CODE_DIGITS = 6
MASKED_CODE = "••••••"


class OneTimeCodeBase(BaseModel):
    """A short numeric code sent by text message (ADR 0014, ADR 0022): never stored, only its keyed hash;
    the message gets the code when it is sent, derived from `code_key`, which is wiped once the code is
    used, replaced, expired or locked. Concrete models name their owner's foreign key, the field that
    records use (`USED_FIELD`), and the purposes of their hashes (`CODE_PURPOSE`: + ".derive" for the
    code, + ".hash" for its hash)."""

    CODE_PURPOSE: ClassVar[str]
    USED_FIELD: ClassVar[str] = "used_at"

    code_hash = models.CharField(max_length=64)
    code_key = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Replaced by a newer code or locked.")
    )
    message_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def code_derive(self) -> str:
        return digits_derive(
            purpose=f"{self.CODE_PURPOSE}.derive", value=f"{self.pk}:{self.code_key}", digits=CODE_DIGITS
        )

    def code_matches(self, code: str) -> bool:
        return keyed_hash_matches(
            purpose=f"{self.CODE_PURPOSE}.hash", value=f"{self.pk}:{code}", stored_hash=self.code_hash
        )


def _open(codes: QuerySet[Any], model: type[OneTimeCodeBase]) -> QuerySet[Any]:
    return codes.filter(**{f"{model.USED_FIELD}__isnull": True, "closed_at__isnull": True})


def codes_close(*, owned: QuerySet[Any], now: datetime) -> int:
    """Close the open codes of `owned` (replaced, or their purpose is gone); returns how many."""
    return _open(owned, owned.model).update(closed_at=now, code_key="", updated_at=now)


def code_cooldown_left(*, latest: OneTimeCodeBase | None, cooldown: timedelta, now: datetime) -> int:
    """Seconds before another code may be sent after `latest` (0: now)."""
    if latest is None or latest.created_at + cooldown <= now:
        return 0
    return int((latest.created_at + cooldown - now).total_seconds()) + 1


def code_issue(
    *,
    code: OneTimeCodeBase,
    owned: QuerySet[Any],
    ttl: timedelta,
    now: datetime,
    queue: Callable[[], Any],
) -> OneTimeCodeBase:
    """Save `code` (an unsaved row with its owner and fields set) as its owner's one open code: the open
    codes in `owned` are closed, the new one gets its key, hash and expiry, and `queue()` writes its text
    message (with the code masked) to the outbox. Call it in a transaction with the owner's row locked,
    so two sends at once do not both pass the caller's cooldown."""
    codes_close(owned=owned, now=now)
    code.code_key = key_new()
    code.expires_at = now + ttl
    code.code_hash = keyed_hash(purpose=f"{code.CODE_PURPOSE}.hash", value=f"{code.pk}:{code.code_derive()}")
    code.message_id = queue().pk
    code.full_clean()
    code.save(force_insert=True)
    return code


class CodeOutcome(enum.Enum):
    RIGHT = "right"
    NONE = "none"  # no open code: never sent, used, replaced or locked
    EXPIRED = "expired"
    MALFORMED = "malformed"  # not six digits, when the caller does not count that as a try
    WRONG = "wrong"
    LOCKED = "locked"  # wrong, and the attempts are used up


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    code: OneTimeCodeBase | None = None
    left: int = 0  # attempts left after a wrong one


def code_check(
    *, owned: QuerySet[Any], entered: str, max_attempts: int, now: datetime, malformed_counts: bool = True
) -> CodeCheck:
    """Check `entered` against the newest open code in `owned`: within its time, at most `max_attempts`
    tries, once. Something that is not a code at all is a wrong try unless `malformed_counts` is off.

    Call it inside a transaction and raise any error after it commits, so a wrong try stays counted. The
    code's row is locked on PostgreSQL (SQLite has one writer), and the attempt is counted by a
    conditional update, so parallel guesses never get more tries than `max_attempts` between them.
    """
    model = owned.model
    query = _open(owned, model).order_by("-created_at")
    if transaction.get_connection().features.has_select_for_update:
        query = query.select_for_update()
    code = query.first()
    if code is None:
        return CodeCheck(CodeOutcome.NONE)
    if code.expires_at <= now:
        model._default_manager.filter(pk=code.pk).update(closed_at=now, code_key="", updated_at=now)
        return CodeCheck(CodeOutcome.EXPIRED, code)
    well_formed = len(entered) == CODE_DIGITS and entered.isascii() and entered.isdigit()
    if not well_formed and not malformed_counts:
        return CodeCheck(CodeOutcome.MALFORMED, code)
    counted = _open(model._default_manager.filter(pk=code.pk, attempts__lt=max_attempts), model).update(
        attempts=F("attempts") + 1, updated_at=now
    )
    attempts = code.attempts + 1
    if not counted:
        return CodeCheck(CodeOutcome.LOCKED, code)
    if not (
        len(entered) == CODE_DIGITS and entered.isascii() and entered.isdigit() and code.code_matches(entered)
    ):
        if attempts >= max_attempts:
            model._default_manager.filter(pk=code.pk).update(closed_at=now, code_key="", updated_at=now)
            return CodeCheck(CodeOutcome.LOCKED, code)
        return CodeCheck(CodeOutcome.WRONG, code, left=max_attempts - attempts)
    model._default_manager.filter(pk=code.pk).update(**{code.USED_FIELD: now}, code_key="", updated_at=now)
    setattr(code, code.USED_FIELD, now)
    code.attempts, code.code_key = attempts, ""
    return CodeCheck(CodeOutcome.RIGHT, code)


def code_for_message(
    *, model: type[OneTimeCodeBase], message_id: Any, now: datetime
) -> OneTimeCodeBase | None:
    """The open, unexpired code a text message being sent now carries, or None (the message is then
    withdrawn): `code.code_derive()` is its code."""
    code = _open(model._default_manager.filter(message_id=message_id, expires_at__gt=now), model).first()
    return code if code is not None and code.code_key else None
