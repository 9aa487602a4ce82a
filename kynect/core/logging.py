"""A logging filter that masks personal data: emails, phone numbers, passcodes and link secrets."""

from __future__ import annotations

import logging
import re

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
PASSCODE = re.compile(r"(?i)\b(passcode|otp|one[- ]time code|code|pin|token)(\W{1,3})([A-Za-z0-9\-_]{4,})")
PHONE = re.compile(r"(?<![\w])(?:\+?1[\s.\-]?)?\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]?\d{4}(?![\w])")
SIX_DIGITS = re.compile(r"(?<![\w\-])\d{6}(?![\w\-])")
# A secret link's secret: the long URL-safe segment after an id in a path, such as a requester's
# /ondemand/help/<id>/<secret>/ or a helper's /ondemand/offer/<id>/<secret>/.
LINK_SECRET = re.compile(
    r"(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/)[A-Za-z0-9_\-]{20,}"
)


def mask_link_secrets(text: str) -> str:
    """The text with each secret link's secret written as `[secret]`, its id kept."""
    return LINK_SECRET.sub(r"\1[secret]", text)


def mask_pii(text: str) -> str:
    text = mask_link_secrets(text)
    text = EMAIL.sub("[email]", text)
    text = PASSCODE.sub(lambda match: f"{match.group(1)}{match.group(2)}[secret]", text)
    text = PHONE.sub("[phone]", text)
    return SIX_DIGITS.sub("[code]", text)


class PiiMaskingFilter(logging.Filter):
    """Rewrites each record's message with personal data masked, including exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = mask_pii(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_pii(formatted)
            record.exc_info = None
            record.msg = f"{record.msg}\n{record.exc_text}"
            record.exc_text = None
        return True
