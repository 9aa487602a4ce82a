"""Mobile verification codes: made, hashed and put into the text message without ever being stored.

A code is derived with a keyed hash (HMAC-SHA256 under the site's secret key) from a random per-code
key, `MobileVerification.code_key`. The row keeps a different keyed hash of the code to check what the
helper types. The outbox row stores the message with the code masked; the outbox renders the real text
only when it sends it, through the send-time context registered here (ADR 0014).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.utils.crypto import constant_time_compare, salted_hmac

from kynect.core import clock
from kynect.notifications.delivery import send_time_context_register
from kynect.notifications.models import OutboundMessage

CODE_DIGITS = 6
MASKED_CODE = "••••••"
MESSAGE_TEMPLATE = "ondemand/mobile_code"
_DERIVE_SALT = "kynect.ondemand.mobile-code.derive"
_HASH_SALT = "kynect.ondemand.mobile-code.hash"


def code_key_new() -> str:
    return secrets.token_hex(32)


def code_derive(*, verification_id: str, code_key: str) -> str:
    digest = salted_hmac(_DERIVE_SALT, f"{verification_id}:{code_key}", algorithm="sha256").digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_hash(*, verification_id: str, code: str) -> str:
    return salted_hmac(_HASH_SALT, f"{verification_id}:{code}", algorithm="sha256").hexdigest()


def code_matches(*, verification_id: str, stored_hash: str, code: str) -> bool:
    return constant_time_compare(code_hash(verification_id=verification_id, code=code), stored_hash)


@send_time_context_register(MESSAGE_TEMPLATE)
def mobile_code_context(message: OutboundMessage) -> dict[str, Any] | None:
    """The code for the text message being sent now, or None once the code can no longer be used."""
    from kynect.ondemand.models import MobileVerification

    verification = MobileVerification.objects.filter(
        message_id=message.pk,
        verified_at__isnull=True,
        closed_at__isnull=True,
        expires_at__gt=clock.now(),
    ).first()
    if verification is None or not verification.code_key:
        return None
    code = code_derive(verification_id=str(verification.pk), code_key=verification.code_key)
    minutes = max(1, round((verification.expires_at - verification.created_at).total_seconds() / 60))
    return {"code": code, "minutes": minutes}
