"""United States phone numbers in E.164 form."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _ascii_digits(value: str) -> str:
    """The decimal digits of `value`, of any script (Arabic-Indic, Devanagari, fullwidth …), as ASCII.

    People type numbers on Arabic, Devanagari or fullwidth keyboards; reading those digits as what they
    mean keeps one number one number for every rule that compares numbers (duplicates, limits, opt-outs).
    """
    return "".join(str(unicodedata.decimal(ch)) for ch in value if unicodedata.decimal(ch, None) is not None)


def phone_normalize(value: str) -> str:
    """'(859) 288-2338' → '+18592882338'. Raises ValidationError for anything else."""
    digits = _ascii_digits(value or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        raise ValidationError(
            _("Enter a 10-digit U.S. phone number, like (502) 555-0123."), code="invalid_phone"
        )
    return f"+1{digits}"


def phone_display(e164: str) -> str:
    """'+18592882338' → '(859) 288-2338'."""
    digits = e164[-10:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
