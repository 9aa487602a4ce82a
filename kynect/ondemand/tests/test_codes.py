"""On Demand's links, codes and passcodes on `kynect.core.codes` hash and derive exactly as the helpers
they replaced did, so every link, code and passcode already sent keeps working."""

from __future__ import annotations

import base64
import uuid

from django.utils.crypto import salted_hmac

from kynect.ondemand.models import HELP_REQUEST_LINK, OFFER_LINK, MobileVerification, OfferPasscode


def _hmac(salt: str, value: str) -> bytes:
    return salted_hmac(salt, value, algorithm="sha256").digest()


def _derived(salt: str, value: str) -> str:
    return base64.urlsafe_b64encode(_hmac(salt, value)).decode().rstrip("=")


def test_link_secrets_keep_their_derivation_and_hash():
    row_id, key = uuid.uuid4(), "a-random-key"
    for links, salt in (
        (HELP_REQUEST_LINK, "kynect.ondemand.help-request.link"),
        (OFFER_LINK, "kynect.ondemand.offer.link"),
    ):
        secret = links.derive(row_id=row_id, key=key)
        assert secret == _derived(f"{salt}.derive", f"{row_id}:{key}")
        stored = links.hash(row_id=row_id, secret=secret)
        assert stored == _hmac(salt, f"{row_id}:{secret}").hex()
        assert links.matches(row_id=str(row_id), secret=secret, stored_hash=stored)
        assert not links.matches(row_id=row_id, secret=secret + "x", stored_hash=stored)
    assert HELP_REQUEST_LINK.derive(row_id=row_id, key=key) != OFFER_LINK.derive(row_id=row_id, key=key)


def test_codes_and_passcodes_keep_their_derivation_and_hash():
    for model in (MobileVerification, OfferPasscode):
        code = model(code_key="f" * 64)
        digest = _hmac("kynect.ondemand.mobile-code.derive", f"{code.pk}:{code.code_key}")
        expected = f"{int.from_bytes(digest[:8], 'big') % 10**6:06d}"
        assert code.code_derive() == expected
        code.code_hash = _hmac("kynect.ondemand.mobile-code.hash", f"{code.pk}:{expected}").hex()
        assert code.code_matches(expected)
        assert not code.code_matches(f"{(int(expected) + 1) % 10**6:06d}")
