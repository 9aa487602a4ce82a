"""Which postcodes a listing covers, as search-index tags (HSDS service coverage).

A service with a service area that names a place (a Kentucky county, with or without "County" and a
trailing ", KY" / ", Kentucky", or the whole state; case and spaces ignored) covers the places its areas
name. Any other service covers where its location is: the postcodes of the location's addresses or,
searching within a circle, the circle. The index keeps this as tags, so that the HSDS API's `postcode`
filter is one more tag group of the search, indexed on both databases, rather than a pattern matched
against every candidate's service areas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kynect.core.geo import County, UnknownZipCodeError, county_lookup, zip_lookup

STATEWIDE_NAMES = frozenset({"kentucky", "ky", "statewide", "state of kentucky", "all of kentucky"})
_COUNTY_NAME = re.compile(r"(?P<name>.+?)(?:\s+county)?(?:\s*,\s*(?:ky|kentucky))?")

STATEWIDE_TAG = "areaky0"
# The tag of a listing whose service names no place: it covers where it is.
WHERE_IT_IS_TAG = "areanone0"


def _county_tag(county: County) -> str:
    # Tags end in a digit so that no stemmer changes them.
    return "area" + "".join(ch for ch in county.name.lower() if ch.isalnum()) + "0"


def _postcode_tag(postcode: str) -> str:
    return "zip" + "".join(ch for ch in postcode.strip()[:5] if ch.isalnum()) + "0"


def area_tag(name: str) -> str | None:
    """The tag of the place a service area names, or None when it names no place this reads."""
    text = " ".join(name.lower().split())
    if text in STATEWIDE_NAMES:
        return STATEWIDE_TAG
    match = _COUNTY_NAME.fullmatch(text)
    county = county_lookup(match["name"]) if match else None
    if county is None:
        return None
    return _county_tag(county)


def coverage_tags(*, area_names: Iterable[str], postcodes: Iterable[str]) -> list[str]:
    """The tags of what a listing covers: the places its service's areas name, or else where it is."""
    places = sorted({tag for tag in map(area_tag, area_names) if tag is not None})
    if places:
        return places
    return [WHERE_IT_IS_TAG, *sorted({_postcode_tag(code) for code in postcodes if code.strip()})]


def covering_tags(postcode: str, *, in_circle: bool) -> tuple[str, ...]:
    """The tags of the listings that cover a postcode, any one of which is enough. `in_circle`: the
    search keeps a circle around the postcode, which stands for "where it is"."""
    tags = [WHERE_IT_IS_TAG if in_circle else _postcode_tag(postcode)]
    try:
        county = zip_lookup(postcode.strip()[:5]).county
    except UnknownZipCodeError:
        county = None
    if county is not None:
        # Only a Kentucky postcode lies in a county or the state that a service area can name.
        tags += [STATEWIDE_TAG, _county_tag(county)]
    return tuple(tags)
