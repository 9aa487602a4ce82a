"""Offline geography: ZIP codes to centroid, city, county and time zone; Kentucky's counties."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import zipcodes
from django.db.models import F, FloatField, Func
from django.utils.translation import gettext as _

EARTH_RADIUS_MILES = 3958.7613
METRES_PER_MILE = 1609.344
# Miles in a degree of latitude, near enough at Kentucky's latitudes for a bounding box that an exact
# distance test follows.
MILES_PER_DEGREE_LATITUDE = 69.0

# Kentucky's 120 counties. Their FIPS codes are the odd numbers 001-239 in alphabetical order.
_KENTUCKY_COUNTY_NAMES = """
Adair Allen Anderson Ballard Barren Bath Bell Boone Bourbon Boyd Boyle Bracken Breathitt
Breckinridge Bullitt Butler Caldwell Calloway Campbell Carlisle Carroll Carter Casey Christian Clark
Clay Clinton Crittenden Cumberland Daviess Edmonson Elliott Estill Fayette Fleming Floyd Franklin
Fulton Gallatin Garrard Grant Graves Grayson Green Greenup Hancock Hardin Harlan Harrison Hart
Henderson Henry Hickman Hopkins Jackson Jefferson Jessamine Johnson Kenton Knott Knox Larue Laurel
Lawrence Lee Leslie Letcher Lewis Lincoln Livingston Logan Lyon McCracken McCreary McLean Madison
Magoffin Marion Marshall Martin Mason Meade Menifee Mercer Metcalfe Monroe Montgomery Morgan
Muhlenberg Nelson Nicholas Ohio Oldham Owen Owsley Pendleton Perry Pike Powell Pulaski Robertson
Rockcastle Rowan Russell Scott Shelby Simpson Spencer Taylor Todd Trigg Trimble Union Warren
Washington Wayne Webster Whitley Wolfe Woodford
""".split()


@dataclass(frozen=True)
class County:
    name: str
    fips: str  # five digits: state 21 + county

    @property
    def label(self) -> str:
        return f"{self.name} County"


KENTUCKY_COUNTIES: tuple[County, ...] = tuple(
    County(name=name, fips=f"21{2 * index + 1:03d}") for index, name in enumerate(_KENTUCKY_COUNTY_NAMES)
)
_COUNTIES_BY_KEY = {county.name.lower(): county for county in KENTUCKY_COUNTIES}

# Kentucky ZIP codes the `zipcodes` data lists without a county (ZIP codes unique to one organization).
_KENTUCKY_ZIP_COUNTIES = {"40166": "Bullitt", "40750": "Laurel", "41021": "Boone", "41025": "Kenton"}


class UnknownZipCodeError(ValueError):
    """The ZIP code is malformed or not a real U.S. ZIP code."""


@dataclass(frozen=True)
class ZipInfo:
    zip_code: str
    city: str
    state: str
    county_name: str
    county: County | None  # set for Kentucky ZIP codes
    latitude: float
    longitude: float
    time_zone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def county_lookup(name: str) -> County | None:
    """A Kentucky county by name, with or without the word 'County', in any case."""
    key = re.sub(r"\s+county$", "", name.strip(), flags=re.IGNORECASE).lower()
    return _COUNTIES_BY_KEY.get(key)


@lru_cache(maxsize=4096)
def zip_lookup(zip_code: str) -> ZipInfo:
    """Look a ZIP code up offline. Raises UnknownZipCodeError with a message fit to show a person."""
    cleaned = (zip_code or "").strip()
    if not re.fullmatch(r"[0-9]{5}(-[0-9]{4})?", cleaned):
        raise UnknownZipCodeError(_("Enter a 5-digit ZIP code, like 40601."))
    matches = zipcodes.matching(cleaned[:5])
    if not matches or not matches[0]["lat"] or not matches[0]["timezone"]:
        raise UnknownZipCodeError(
            _("We could not find the ZIP code %(zip)s. Check it and try again.") % {"zip": cleaned}
        )
    row = matches[0]
    county = (
        county_lookup(row["county"] or _KENTUCKY_ZIP_COUNTIES.get(row["zip_code"], ""))
        if row["state"] == "KY"
        else None
    )
    return ZipInfo(
        zip_code=row["zip_code"],
        city=row["city"],
        state=row["state"],
        county_name=county.label if county else row["county"],
        county=county,
        latitude=float(row["lat"]),
        longitude=float(row["long"]),
        time_zone=row["timezone"],
    )


def kentucky_zip_codes() -> list[str]:
    return [row["zip_code"] for row in zipcodes.filter_by(state="KY") if row["lat"]]


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(a))


def bounding_box(latitude: float, longitude: float, miles: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a box that holds the circle of `miles` around the point."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(latitude)), 0.01)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


def unit_vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    """The point on the unit sphere at this latitude and longitude (x towards 0° E, z towards the north
    pole). The straight-line distance between two such points, the chord, grows with the great-circle
    distance, so ordering by chord is ordering by distance, with plain arithmetic."""
    phi, lam = math.radians(latitude), math.radians(longitude)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


class SquaredChord(Func):
    """The squared chord from a point to the unit vector a row keeps in its `x`, `y` and `z` fields: the
    one distance the database computes. It orders as the great-circle distance does, in plain
    arithmetic. One expression over three columns, so that a search compiles it cheaply."""

    output_field = FloatField()

    def __init__(self, latitude: float, longitude: float, *, prefix: str = "") -> None:
        # `prefix` is a relation path like "entry__" before the fields' names.
        super().__init__(*(F(f"{prefix}{name}") for name in "xyz"))
        self.point = unit_vector(latitude, longitude)

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, list[Any]]:
        terms: list[str] = []
        params: list[Any] = []
        for column, value in zip(self.get_source_expressions(), self.point, strict=True):
            sql, column_params = compiler.compile(column)
            terms.append(f"({sql} - %s) * ({sql} - %s)")
            params += [*column_params, value, *column_params, value]
        return "(" + " + ".join(terms) + ")", params


def chord_for_miles(miles: float) -> float:
    """The chord of the unit sphere that spans `miles` of great circle."""
    return 2 * math.sin(min(miles / EARTH_RADIUS_MILES, math.pi) / 2)


# Grid cells of latitude and longitude at six sizes, halving from 2 degrees to 1/16 (exact in binary, so
# that Python and PostgreSQL floor the same quotients). A search index stores a point's cell at every
# size; a box is then covered by a few cells of one size (ADR 0020).
CELL_SIZES = (2.0, 1.0, 0.5, 0.25, 0.125, 0.0625)
MAX_COVER_CELLS = 30


def cell_token(level: int, latitude: float, longitude: float) -> str:
    """The token of the cell of size CELL_SIZES[level] holding the point, e.g. "geo4x1025y761"."""
    size = CELL_SIZES[level]
    return f"geo{level}x{math.floor((latitude + 90) / size)}y{math.floor((longitude + 180) / size)}"


def point_cells(latitude: float, longitude: float) -> list[str]:
    """The point's cell at every size."""
    return [cell_token(level, latitude, longitude) for level in range(len(CELL_SIZES))]


def box_cells(south: float, north: float, west: float, east: float) -> list[str]:
    """The cells of the smallest size that cover the box with at most MAX_COVER_CELLS of them."""
    for level in range(len(CELL_SIZES) - 1, -1, -1):
        size = CELL_SIZES[level]
        rows = range(math.floor((south + 90) / size), math.floor((north + 90) / size) + 1)
        columns = range(math.floor((west + 180) / size), math.floor((east + 180) / size) + 1)
        if len(rows) * len(columns) <= MAX_COVER_CELLS or level == 0:
            return [f"geo{level}x{row}y{column}" for row in rows for column in columns]
    raise AssertionError("unreachable")


def miles_for_chord(chord: float) -> float:
    """The great-circle miles spanned by a chord of the unit sphere (the haversine formula's last step:
    the haversine of the angle is (chord / 2)²)."""
    return 2 * EARTH_RADIUS_MILES * math.asin(min(max(chord, 0.0) / 2, 1.0))


class UnknownPlaceError(ValueError):
    """The text names no Kentucky ZIP code, city or county."""


@dataclass(frozen=True)
class Place:
    """A point a search is centred on, with a name to show."""

    label: str
    latitude: float
    longitude: float


@lru_cache(maxsize=1)
def _kentucky_places() -> dict[str, Place]:
    """Kentucky cities and counties by lower-case name: the mean of their ZIP code centroids."""
    points: dict[str, tuple[str, list[tuple[float, float]]]] = {}
    for row in zipcodes.filter_by(state="KY"):
        if not row["lat"] or row["zip_code_type"] != "STANDARD":
            continue
        point = (float(row["lat"]), float(row["long"]))
        county = county_lookup(row["county"] or _KENTUCKY_ZIP_COUNTIES.get(row["zip_code"], ""))
        names = [row["city"]]
        if county is not None:
            names.append(county.label)
        for name in names:
            points.setdefault(name.lower(), (name, []))[1].append(point)
    return {
        key: Place(
            label=f"{label}, KY",
            latitude=sum(point[0] for point in found) / len(found),
            longitude=sum(point[1] for point in found) / len(found),
        )
        for key, (label, found) in points.items()
    }


def place_lookup(text: str) -> Place:
    """A ZIP code, or a Kentucky city or county by name ("Frankfort", "frankfort, ky", "Franklin County").
    Raises UnknownZipCodeError or UnknownPlaceError with a message fit to show a person."""
    cleaned = " ".join((text or "").split())
    if re.fullmatch(r"[0-9-]+", cleaned):
        info = zip_lookup(cleaned)
        return Place(
            label=f"{info.zip_code} ({info.city}, {info.state})",
            latitude=info.latitude,
            longitude=info.longitude,
        )
    key = re.sub(r",?\s*(ky|kentucky)$", "", cleaned, flags=re.IGNORECASE).strip().lower()
    places = _kentucky_places()
    place = places.get(key) or places.get(f"{key} county")
    if place is None:
        raise UnknownPlaceError(
            _("We could not find “%(place)s” in Kentucky. Enter a ZIP code, a city or a county.")
            % {"place": cleaned[:60]}
        )
    return place
