"""kynect's categories and life situations, as the resources overview names them.

The data lives in the directory (`kynect.directory.taxonomy`, shipped as JSON in English and Spanish and
loaded as HSDS taxonomies); this module re-exports it under the names the header's "Search By Category"
menu, the home page's tiles and the search page use. Names print in the active language.
"""

from __future__ import annotations

from kynect.directory.taxonomy import (
    CategoryNode,
    LifeSituationNode,
    categories,
    category_descendant_slugs,
    category_find,
    life_situation_find,
    life_situations,
)

Category = CategoryNode
LifeSituation = LifeSituationNode

# In the order of the resources overview's "Search By Category" menu.
CATEGORIES: tuple[Category, ...] = categories()
LIFE_SITUATIONS: tuple[LifeSituation, ...] = life_situations()


def _employment() -> Category:
    found = category_find("employment")
    if found is None:  # pragma: no cover - the shipped data is checked by the directory's tests
        raise LookupError("the shipped categories have no Employment")
    return found


# The one tree the header's menu opens out, as the resources overview shows it.
EMPLOYMENT: Category = _employment()
HEADER_MENU_TREE: Category = EMPLOYMENT

__all__ = [
    "CATEGORIES",
    "EMPLOYMENT",
    "HEADER_MENU_TREE",
    "LIFE_SITUATIONS",
    "Category",
    "LifeSituation",
    "category_descendant_slugs",
    "category_find",
    "life_situation_find",
]
