"""Phone numbers as people type them on keyboards whose digits are not ASCII."""

ARABIC_INDIC = "\N{ARABIC-INDIC DIGIT ZERO}"
EXTENDED_ARABIC_INDIC = "\N{EXTENDED ARABIC-INDIC DIGIT ZERO}"  # Persian, Urdu
DEVANAGARI = "\N{DEVANAGARI DIGIT ZERO}"
FULLWIDTH = "\N{FULLWIDTH DIGIT ZERO}"  # East Asian keyboards


def written_in(zero: str, text: str) -> str:
    """`text` with its ASCII digits written in the script whose digit zero is `zero`."""
    return text.translate({ord("0") + n: chr(ord(zero) + n) for n in range(10)})
