"""What a search asks for, and what it finds: plain data shared by every backend."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

MAX_WORDS = 8
MAX_WORD_LENGTH = 40
COUNT_CAP = 500

# Words that carry no meaning in a directory search, in English and Spanish. Both backends drop the
# same ones, so that SQLite and PostgreSQL find the same listings.
STOPWORDS = frozenset(
    """a an and are as at be by for from help i in is it me my near of on or the to with
    al con de del el en la las los me mi para por que un una unos unas y""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    DISTANCE = "distance"


def keyword_words(text: str) -> tuple[str, ...]:
    """The words of a keyword search, lower-cased, without stop words, at most MAX_WORDS."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        word = word.strip("_")[:MAX_WORD_LENGTH]
        if word and word not in STOPWORDS and word not in words:
            words.append(word)
    return tuple(words[:MAX_WORDS])


@dataclass(frozen=True)
class Origin:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class SearchQuery:
    """A search. `tag_groups` are ANDed; the tags inside a group are ORed. `coverage` is one more such
    group, the listings that cover a place (the HSDS API's `postcode`): most listings near a place do, so
    a nearest-first search tests it on each listing as it walks outwards instead of narrowing by it."""

    words: tuple[str, ...] = ()
    tag_groups: tuple[tuple[str, ...], ...] = ()
    coverage: tuple[str, ...] = ()
    origin: Origin | None = None
    radius_miles: float | None = None
    open_at: datetime | None = None
    open_on: date | None = None
    # Services whose data changed on or after this moment (`Service.last_modified`).
    modified_after: datetime | None = None
    # The listings of this organization only.
    organization_id: uuid.UUID | None = None
    # Also the entries of inactive and temporarily closed services, which the HSDS API lists.
    unlisted: bool = False
    sort: SortOrder = SortOrder.RELEVANCE
    offset: int = 0
    limit: int = 20

    @property
    def every_tag_group(self) -> tuple[tuple[str, ...], ...]:
        """The tag groups every match must meet: `tag_groups` and `coverage`."""
        return (*self.tag_groups, self.coverage) if self.coverage else self.tag_groups


@dataclass(frozen=True)
class SearchHit:
    entry_id: int
    distance_miles: float | None


@dataclass(frozen=True)
class SearchPage:
    total: int
    total_is_capped: bool  # `total` is COUNT_CAP and there are more
    hits: list[SearchHit]
