"""People's names as typed: letters of any script, and nothing invisible that changes how text reads."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Embeddings, overrides and isolates reorder the text around them on screen (a name shown to a helper, a
# message, a CSV report); nobody types them in a name. The marks LRM, RLM and ALM are left alone: right-
# to-left keyboards insert them, and they reorder nothing beyond the next neutral character.
_DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Cc: C0 and C1 controls such as ESC, which terminals and log viewers obey; Cs: lone surrogates, which
# JSON can carry but no database encoding stores.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs"})


def name_validate(value: str) -> None:
    """Raise ValidationError if `value` holds a control or text-direction character."""
    if any(ch in _DIRECTION_CONTROLS or unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in value):
        raise ValidationError(
            _(
                "The name has a hidden control or text-direction character. "
                "Type it again rather than pasting it."
            ),
            code="hidden_character",
        )
