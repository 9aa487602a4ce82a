"""Offline geography: ZIP code lookups, Kentucky's counties and distances."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kynect.core.geo import (
    CELL_SIZES,
    KENTUCKY_COUNTIES,
    MAX_COVER_CELLS,
    County,
    UnknownPlaceError,
    UnknownZipCodeError,
    box_cells,
    cell_token,
    chord_for_miles,
    county_lookup,
    haversine_miles,
    kentucky_zip_codes,
    miles_for_chord,
    place_lookup,
    point_cells,
    unit_vector,
    zip_lookup,
)


def test_frankfort_zip_has_centroid_city_county_and_time_zone() -> None:
    info = zip_lookup("40601")

    assert info.zip_code == "40601"
    assert info.city == "Frankfort"
    assert info.state == "KY"
    assert info.county == County(name="Franklin", fips="21073")
    assert info.county_name == "Franklin County"
    assert info.latitude == pytest.approx(38.2, abs=0.2)
    assert info.longitude == pytest.approx(-84.87, abs=0.2)
    assert info.time_zone == "America/New_York"
    assert info.zone == ZoneInfo("America/New_York")


def test_bowling_green_is_in_warren_county_on_central_time() -> None:
    info = zip_lookup("42101")

    assert info.city == "Bowling Green"
    assert info.county is not None
    assert info.county.name == "Warren"
    assert info.county.fips == "21227"
    assert info.county.label == "Warren County"
    assert info.time_zone == "America/Chicago"
    assert info.zone.key == "America/Chicago"


def test_zip_plus_four_is_accepted_and_surrounding_space_ignored() -> None:
    assert zip_lookup(" 40601-1234 ").county == county_lookup("Franklin")


def test_zip_outside_kentucky_has_no_kentucky_county() -> None:
    info = zip_lookup("10001")

    assert info.state == "NY"
    assert info.county is None
    assert info.county_name  # the county name the ZIP data gives, as text
    assert info.time_zone == "America/New_York"


def test_mccracken_county_name_with_unusual_capitals_is_normalized() -> None:
    info = zip_lookup("42001")  # Paducah

    assert info.county == County(name="McCracken", fips="21145")
    assert info.time_zone == "America/Chicago"


def test_kentucky_has_exactly_120_counties_with_odd_fips_21001_to_21239() -> None:
    assert len(KENTUCKY_COUNTIES) == 120
    fips = [county.fips for county in KENTUCKY_COUNTIES]
    assert len(set(fips)) == 120
    assert fips == [f"21{number:03d}" for number in range(1, 240, 2)]
    assert len({county.name for county in KENTUCKY_COUNTIES}) == 120


@pytest.mark.parametrize(
    ("name", "fips"),
    [
        ("Adair", "21001"),
        ("Fayette", "21067"),
        ("Franklin", "21073"),
        ("Jefferson", "21111"),
        ("McCracken", "21145"),
        ("Warren", "21227"),
        ("Woodford", "21239"),
    ],
)
def test_known_county_fips_codes(name: str, fips: str) -> None:
    county = county_lookup(name)

    assert county is not None
    assert county.fips == fips


@pytest.mark.parametrize(
    "spelling",
    ["mccracken county", "McCracken County", "MCCRACKEN", "  mccracken  ", "McCracken  county"],
)
def test_county_lookup_ignores_case_and_county_suffix(spelling: str) -> None:
    assert county_lookup(spelling) == County(name="McCracken", fips="21145")


@pytest.mark.parametrize("name", ["", "County", "Cook", "Cook County", "Franklin Parish"])
def test_county_lookup_returns_none_for_non_kentucky_names(name: str) -> None:
    assert county_lookup(name) is None


@settings(deadline=None)  # no timing assertions: a busy machine must not fail this
@given(st.sampled_from(KENTUCKY_COUNTIES))
def test_every_county_is_found_by_its_label(county: County) -> None:
    assert county_lookup(county.label) == county
    assert county_lookup(county.label.upper()) == county


@pytest.mark.parametrize("bad", ["abc", "4060", "", "406011", "40601-12", "4O601"])
def test_malformed_zip_is_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(UnknownZipCodeError, match=r"Enter a 5-digit ZIP code, like 40601\."):
        zip_lookup(bad)


def test_unknown_zip_is_refused_naming_the_zip() -> None:
    with pytest.raises(UnknownZipCodeError, match=r"could not find the ZIP code 00000") as excinfo:
        zip_lookup("00000")

    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize(
    ("zip_code", "county_name"),
    [("40166", "Bullitt"), ("40750", "Laurel"), ("41021", "Boone"), ("41025", "Kenton")],
)
def test_kentucky_zip_codes_the_data_lists_without_a_county_still_get_one(
    zip_code: str, county_name: str
) -> None:
    info = zip_lookup(zip_code)

    assert info.county == county_lookup(county_name)
    assert info.county_name == f"{county_name} County"


def test_kentucky_zip_codes_all_resolve_to_a_kentucky_county() -> None:
    codes = kentucky_zip_codes()

    assert len(codes) > 500
    assert "40601" in codes
    assert "10001" not in codes
    for code in codes:
        info = zip_lookup(code)
        assert info.state == "KY"
        assert info.county in KENTUCKY_COUNTIES, code
        assert ZoneInfo(info.time_zone)


def test_haversine_is_zero_for_the_same_point_and_symmetric() -> None:
    assert haversine_miles(38.2, -85.7, 38.2, -85.7) == 0
    there = haversine_miles(38.25, -85.76, 38.04, -84.50)
    back = haversine_miles(38.04, -84.50, 38.25, -85.76)
    assert there == pytest.approx(back)


def test_haversine_louisville_to_lexington_is_about_seventy_miles() -> None:
    # Downtown to downtown, as the crow flies, is just under 70 miles (about 112 km).
    assert haversine_miles(38.2527, -85.7585, 38.0406, -84.5037) == pytest.approx(69.7, abs=0.5)

    # The ZIP centroids of downtown Louisville and Lexington land within a few miles of that.
    louisville, lexington = zip_lookup("40202"), zip_lookup("40507")
    miles = haversine_miles(
        louisville.latitude, louisville.longitude, lexington.latitude, lexington.longitude
    )
    assert 65 <= miles <= 80


def test_haversine_one_degree_of_latitude_is_about_69_miles() -> None:
    assert haversine_miles(37.0, -85.0, 38.0, -85.0) == pytest.approx(69.09, abs=0.1)


@pytest.mark.parametrize(
    "text", ["\u0664\u0660\u0666\u0660\u0661", "\uff14\uff10\uff16\uff10\uff11", "4060", "40601-12"]
)
def test_zip_codes_are_ascii_digits_only(text: str) -> None:
    # Other scripts' digits would reach the ZIP library, which cannot handle them.
    with pytest.raises(UnknownZipCodeError):
        zip_lookup(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("40601", "40601 (Frankfort, KY)"),
        ("Frankfort", "Frankfort, KY"),
        ("  frankfort,  KY ", "Frankfort, KY"),
        ("Franklin County", "Franklin County, KY"),
        ("bowling green, kentucky", "Bowling Green, KY"),
    ],
)
def test_place_lookup_takes_a_zip_code_city_or_county(text: str, label: str) -> None:
    place = place_lookup(text)

    assert place.label == label
    assert 36.4 < place.latitude < 39.2
    assert -89.6 < place.longitude < -81.9


@pytest.mark.parametrize("text", ["Atlantis", "٤٠٦٠١", "Paris, France", ""])
def test_place_lookup_explains_an_unknown_place(text: str) -> None:
    with pytest.raises(UnknownPlaceError, match="in Kentucky"):
        place_lookup(text)


@given(
    lat1=st.floats(36.0, 39.5),
    lon1=st.floats(-90.0, -81.5),
    lat2=st.floats(36.0, 39.5),
    lon2=st.floats(-90.0, -81.5),
)
def test_the_chord_between_unit_vectors_gives_the_haversine_distance(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    a, b = unit_vector(lat1, lon1), unit_vector(lat2, lon2)
    chord = math.dist(a, b)
    assert miles_for_chord(chord) == pytest.approx(haversine_miles(lat1, lon1, lat2, lon2), abs=1e-6)


@pytest.mark.parametrize("miles", [0.0, 0.1, 1, 25, 100, 500])
def test_chord_and_miles_are_inverse(miles: float) -> None:
    assert miles_for_chord(chord_for_miles(miles)) == pytest.approx(miles, abs=1e-9)


def test_unit_vectors_have_length_one() -> None:
    assert math.dist((0, 0, 0), unit_vector(37.84, -84.27)) == pytest.approx(1.0)


# --- Grid cells (the PostgreSQL search's place tokens) ------------------------------------------------


def test_a_point_has_one_cell_at_every_size() -> None:
    cells = point_cells(38.2009, -84.8733)
    assert len(cells) == len(CELL_SIZES)
    # 38.2009 + 90 = 128.2009 degrees north of the pole: cell 64 of 2 degrees, 2051 of 1/16.
    assert cells[0] == "geo0x64y47"
    assert cells[-1] == "geo5x2051y1522"


@pytest.mark.parametrize(("miles", "level"), [(5, 5), (10, 4), (25, 3), (50, 2), (500, 0)])
def test_a_box_is_covered_by_the_smallest_cells_that_stay_few(miles: int, level: int) -> None:
    south, north, west, east = (
        37.83 - miles / 69,
        37.83 + miles / 69,
        -85.76 - miles / 55,
        -85.76 + miles / 55,
    )
    cells = box_cells(south, north, west, east)
    assert {cell[: len(f"geo{level}")] for cell in cells} == {f"geo{level}"}
    assert len(cells) <= MAX_COVER_CELLS or level == 0


@settings(max_examples=200, deadline=None)
@given(
    latitude=st.floats(36.4, 39.2),
    longitude=st.floats(-89.6, -81.9),
    miles=st.sampled_from([1, 5, 10, 25, 50]),
    share_north=st.floats(0, 1),
    share_east=st.floats(0, 1),
)
def test_every_point_of_a_box_lies_in_one_of_its_cells(
    latitude: float, longitude: float, miles: int, share_north: float, share_east: float
) -> None:
    south, north = latitude - miles / 69, latitude + miles / 69
    west, east = longitude - miles / 50, longitude + miles / 50
    cells = box_cells(south, north, west, east)
    level = int(cells[0][3])
    point = (south + share_north * (north - south), west + share_east * (east - west))
    assert cell_token(level, *point) in cells
