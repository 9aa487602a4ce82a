"""kynect's categories and life situations, as the resources overview names them.

The header's "Search By Category" menu and the home page's tiles read them from here. The directory
ships the full trees as HSDS taxonomies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Category:
    slug: str
    name: str | Promise
    children: tuple[Category, ...] = field(default_factory=tuple)


def _leaf(slug: str, name: str | Promise) -> Category:
    return Category(slug=slug, name=name)


EMPLOYMENT = Category(
    slug="employment",
    name=_("Employment"),
    children=(
        Category(
            slug="getting-ready-for-work",
            name=_("Getting ready for work"),
            children=(
                _leaf("computer-skills", _("Computer Skills")),
                _leaf("ged-hs-diploma", _("GED/HS Diploma")),
                _leaf("interview-preparation", _("Interview Preparation")),
                _leaf("resume-preparation", _("Resume Preparation")),
                _leaf("skills-assessment", _("Skills Assessment")),
                _leaf("specialized-training", _("Specialized Training")),
                _leaf("vocational-rehabilitation", _("Vocational Rehabilitation (for Disabilities)")),
            ),
        ),
        _leaf("help-finding-work", _("Help finding Work")),
        _leaf("help-with-work-expenses", _("Help with Work Expenses")),
        _leaf("retirement", _("Retirement")),
        _leaf("unemployment", _("Unemployment")),
    ),
)

# In the order of the resources overview's "Search By Category" menu.
CATEGORIES: tuple[Category, ...] = (
    Category(slug="housing", name=_("Housing")),
    Category(slug="food", name=_("Food")),
    EMPLOYMENT,
    Category(slug="transportation", name=_("Transportation")),
    Category(slug="health", name=_("Health")),
    Category(slug="financial", name=_("Financial")),
    Category(slug="education", name=_("Education")),
)


@dataclass(frozen=True)
class LifeSituation:
    slug: str
    name: str | Promise
    icon: str  # a USWDS icon name


LIFE_SITUATIONS: tuple[LifeSituation, ...] = (
    LifeSituation("foster-care", _("Foster Care"), "groups"),
    LifeSituation("unemployed", _("Unemployed"), "work"),
    LifeSituation("elder-care", _("Elder Care"), "people"),
    LifeSituation("re-entry", _("Re-Entry"), "directions_walk"),
    LifeSituation("homeless", _("Homeless"), "hotel"),
    LifeSituation("substance-use", _("Impacted by Substance Use"), "support"),
    LifeSituation("pregnant", _("Pregnant"), "favorite"),
    LifeSituation("immigrants-refugees", _("Immigrants & Refugees"), "public"),
    LifeSituation("veteran", _("Veteran"), "military_tech"),
)


def category_find(slug: str) -> Category | None:
    def walk(nodes: tuple[Category, ...]) -> Category | None:
        for node in nodes:
            if node.slug == slug:
                return node
            found = walk(node.children)
            if found:
                return found
        return None

    return walk(CATEGORIES)


def life_situation_find(slug: str) -> LifeSituation | None:
    return next((situation for situation in LIFE_SITUATIONS if situation.slug == slug), None)
