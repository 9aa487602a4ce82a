"""U.S. phone numbers in E.164 form."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kynect.core.phones import phone_display, phone_normalize
from kynect.core.tests.digits import ARABIC_INDIC, DEVANAGARI, EXTENDED_ARABIC_INDIC, FULLWIDTH, written_in


@pytest.mark.parametrize(
    "value",
    [
        "(859) 288-2338",
        "859-288-2338",
        "859.288.2338",
        "859 288 2338",
        "8592882338",
        "+18592882338",
        "+1 (859) 288-2338",
        "1-859-288-2338",
        "18592882338",
        "  859 288 2338  ",
    ],
)
def test_normalize_accepts_common_formats(value: str) -> None:
    assert phone_normalize(value) == "+18592882338"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "288-2338",  # no area code
        "859-288-233",  # nine digits
        "859-288-23380",  # eleven digits not starting with 1
        "+44 20 7946 0958",  # not a U.S. number
        "28592882338",
        "(059) 288-2338",  # area codes do not start with 0 or 1
        "(159) 288-2338",
        "(859) 088-2338",  # nor do exchanges
        "(859) 188-2338",
        "call me",
    ],
)
def test_normalize_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        phone_normalize(value)

    assert excinfo.value.code == "invalid_phone"
    assert "Enter a 10-digit U.S. phone number, like (502) 555-0123." in excinfo.value.messages


@pytest.mark.parametrize(
    "value",
    [
        written_in(ARABIC_INDIC, "502-555-3005"),
        f"5{ARABIC_INDIC}2-555-3005",  # one digit of another script among ASCII ones
        f"50{written_in(ARABIC_INDIC, '2')}-555-3005",
        f"502-{written_in(ARABIC_INDIC, '5')}55-3005",
        written_in(EXTENDED_ARABIC_INDIC, "502 555 3005"),
        written_in(DEVANAGARI, "502-555-3005"),
        written_in(FULLWIDTH, "(502) 555 3005"),
        written_in(ARABIC_INDIC, "15025553005"),  # the country code too
    ],
)
def test_digits_of_other_scripts_are_read_as_the_same_number(value: str) -> None:
    assert phone_normalize(value) == "+15025553005"


@pytest.mark.parametrize(
    "value",
    [
        f"{ARABIC_INDIC}52-555-3005",  # an area code starting with a zero
        f"(502) {written_in(ARABIC_INDIC, '1')}55-3005",  # an exchange starting with a one
        written_in(DEVANAGARI, "05025553005"),  # eleven digits not starting with a one
    ],
)
def test_the_rules_apply_to_digits_of_other_scripts(value: str) -> None:
    with pytest.raises(ValidationError):
        phone_normalize(value)


@settings(deadline=None)
@given(value=st.text(alphabet=st.characters(categories=["Nd", "Pd", "Zs", "Ps", "Pe"]), max_size=20))
def test_a_normalized_number_is_always_ascii_e164(value: str) -> None:
    try:
        e164 = phone_normalize(value)
    except ValidationError:
        return
    assert re.fullmatch(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", e164), e164
    assert phone_display(e164).isascii()


def test_normalize_treats_none_as_empty() -> None:
    with pytest.raises(ValidationError):
        phone_normalize(None)  # type: ignore[arg-type]


def test_display() -> None:
    assert phone_display("+18592882338") == "(859) 288-2338"
    assert phone_display("+15025550123") == "(502) 555-0123"


_area_or_exchange = st.integers(min_value=200, max_value=999).map(str)
_line = st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}")


@settings(deadline=None)  # no timing assertions: a busy machine must not fail this
@given(area=_area_or_exchange, exchange=_area_or_exchange, line=_line)
def test_display_and_normalize_round_trip(area: str, exchange: str, line: str) -> None:
    e164 = phone_normalize(f"{area}{exchange}{line}")

    assert e164 == f"+1{area}{exchange}{line}"
    assert phone_display(e164) == f"({area}) {exchange}-{line}"
    assert phone_normalize(phone_display(e164)) == e164
