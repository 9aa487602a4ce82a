"""Suggested resources (issue 18): for each In-Crisis and Vulnerable domain, services near the resident's
ZIP code from the directory's search, nearest first, each a listing card with Connect.

Each domain is searched in the kynect categories that serve it; a domain no category serves (Legal,
Community Involvement) by words, as a resident would type them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise

from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.core.sdoh import SdohDomain
from kynect.directory.listings import ListingCard, listing_cards
from kynect.directory.search import Origin, SearchQuery, SortOrder, search_backend
from kynect.directory.search.index import term_tag
from kynect.directory.taxonomy import category_find

# The kynect categories (with everything beneath them) that serve each domain.
DOMAIN_CATEGORIES: dict[str, tuple[str, ...]] = {
    SdohDomain.ADULT_EDUCATION: ("adult-education", "getting-ready-for-work"),
    SdohDomain.COMMUNITY_INVOLVEMENT: ("support-groups",),
    SdohDomain.FOOD: ("food",),
    SdohDomain.HOUSING: ("housing",),
    SdohDomain.LIFE_SKILLS: ("financial-coaching",),
    SdohDomain.MENTAL_HEALTH: ("mental-health",),
    SdohDomain.MOBILITY: ("transportation",),
    SdohDomain.DISABILITIES: (
        "vocational-rehabilitation",
        "senior-disability-transportation",
        "disability-benefits",
        "accessibility-modifications",
    ),
    SdohDomain.EMPLOYMENT: ("employment",),
    SdohDomain.HEALTH_CARE_COVERAGE: ("health-insurance-help", "medical-care"),
    SdohDomain.INCOME: ("cash-assistance", "utility-bill-help", "rent-utility-help"),
    SdohDomain.CHILDCARE: ("early-childhood-child-care",),
    SdohDomain.CHILDRENS_EDUCATION: ("tutoring", "after-school-summer-programs", "school-supplies"),
    SdohDomain.PARENTING_SKILLS: ("parenting-classes", "prenatal-postnatal-home-visitation"),
    SdohDomain.SAFETY: ("domestic-violence-shelter", "crisis-support"),
    SdohDomain.SUBSTANCE_ABUSE: ("substance-use-treatment",),
    SdohDomain.FAMILY_SOCIAL_RELATIONS: ("counseling", "support-groups"),
}
# Domains no category serves: the words a resident would search for.
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {SdohDomain.LEGAL: ("legal",)}

SUGGESTED_PER_DOMAIN = 3
SUGGESTION_RADIUS_MILES = 50
NEEDING_HELP = ("in_crisis", "vulnerable")


@dataclass(frozen=True)
class Suggestions:
    domain: str
    label: str | Promise
    rating: str
    cards: list[ListingCard]


def _query(domain: str, origin: Origin) -> SearchQuery | None:
    tags = tuple(
        term_tag(node.id) for slug in DOMAIN_CATEGORIES.get(domain, ()) if (node := category_find(slug))
    )
    words = DOMAIN_WORDS.get(domain, ())
    if not tags and not words:
        return None
    return SearchQuery(
        words=words,
        tag_groups=(tags,) if tags else (),
        origin=origin,
        radius_miles=SUGGESTION_RADIUS_MILES,
        sort=SortOrder.DISTANCE,
        limit=SUGGESTED_PER_DOMAIN,
    )


def suggested_resources(*, ratings: dict[str, str], postal_code: str, now: datetime) -> list[Suggestions]:
    """For each domain rated In-Crisis (first) or Vulnerable, the nearest services that serve it; an
    unknown ZIP code suggests nothing (the page asks for one)."""
    try:
        place = zip_lookup(postal_code)
    except UnknownZipCodeError:
        return []
    origin = Origin(place.latitude, place.longitude)
    backend = search_backend()
    found = []
    for rating in NEEDING_HELP:
        for domain, label in SdohDomain.choices:
            if ratings.get(domain) != rating or (query := _query(domain, origin)) is None:
                continue
            page = backend.search(query)
            found.append(Suggestions(domain, label, rating, listing_cards(hits=page.hits, now=now)))
    return found
