"""kynect's category tree and life situations: shipped data, in English and Spanish.

`data/kynect_taxonomies.json` is the single source. It is read and checked once; the header menu, the
home page and the search pages read the trees from here, and `kynect_taxonomies_upsert` loads the same
data into the HSDS `taxonomy` and `taxonomy_term` tables (a data migration runs it). Ids are
deterministic: uuid5 of the term's kynect URI, so every database holds the same ids.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.utils.functional import lazy
from django.utils.translation import get_language

DATA_FILE = Path(__file__).resolve().parent / "data" / "kynect_taxonomies.json"
URI_PREFIX = "https://kynect.ky.gov/taxonomy/"
CATEGORIES_SLUG = "kynect-categories"
LIFE_SITUATIONS_SLUG = "kynect-life-situations"
MAX_DEPTH = 3


class TaxonomyDataError(ValueError):
    """The shipped taxonomy file breaks one of its rules."""


def taxonomy_uri(slug: str) -> str:
    return f"{URI_PREFIX}{slug}"


def taxonomy_id(slug: str) -> uuid.UUID:
    """The fixed id of a taxonomy or term: uuid5 of its kynect URI."""
    return uuid.uuid5(uuid.NAMESPACE_URL, taxonomy_uri(slug))


def _spanish_active() -> bool:
    return (get_language() or "").startswith("es")


def _pick(english: str, spanish: str) -> str:
    return spanish if spanish and _spanish_active() else english


# A lazy string: it reads in the language active when it is printed, not when it is looked up.
_localized = lazy(_pick, str)


@dataclass(frozen=True)
class CategoryNode:
    slug: str
    code: str
    name_en: str
    name_es: str
    description: str
    children: tuple[CategoryNode, ...] = field(default_factory=tuple)

    @property
    def id(self) -> uuid.UUID:
        return taxonomy_id(self.slug)

    @property
    def name(self) -> str:
        """The name in the active language, resolved when printed (templates, `str()`)."""
        return _localized(self.name_en, self.name_es)

    def localized_name(self) -> str:
        """The name in the language active now, as a plain string."""
        return _pick(self.name_en, self.name_es)

    def __str__(self) -> str:
        return self.localized_name()

    def walk(self) -> Iterator[CategoryNode]:
        """This node and everything under it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class SituationHeading:
    heading_en: str
    heading_es: str
    categories: tuple[str, ...]

    @property
    def heading(self) -> str:
        return _localized(self.heading_en, self.heading_es)

    def category_nodes(self) -> tuple[CategoryNode, ...]:
        return tuple(node for slug in self.categories if (node := category_find(slug)) is not None)


@dataclass(frozen=True)
class LifeSituationNode:
    slug: str
    name_en: str
    name_es: str
    icon: str  # a USWDS icon name
    description: str
    headings: tuple[SituationHeading, ...] = field(default_factory=tuple)
    code: str = ""

    @property
    def id(self) -> uuid.UUID:
        return taxonomy_id(self.slug)

    @property
    def name(self) -> str:
        """The name in the active language, resolved when printed (templates, `str()`)."""
        return _localized(self.name_en, self.name_es)

    def localized_name(self) -> str:
        return _pick(self.name_en, self.name_es)

    def __str__(self) -> str:
        return self.localized_name()


@dataclass(frozen=True)
class TaxonomyInfo:
    slug: str
    name: str
    description: str
    version: str

    @property
    def id(self) -> uuid.UUID:
        return taxonomy_id(self.slug)


@dataclass(frozen=True)
class KynectTaxonomies:
    categories_taxonomy: TaxonomyInfo
    life_situations_taxonomy: TaxonomyInfo
    categories: tuple[CategoryNode, ...]
    life_situations: tuple[LifeSituationNode, ...]
    category_index: dict[str, CategoryNode]
    category_parents: dict[str, str | None]
    life_situation_index: dict[str, LifeSituationNode]


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyDataError(f"{where}: `{key}` must be a non-empty string")
    return value


def _category(raw: dict[str, Any], depth: int, where: str) -> CategoryNode:
    slug = _text(raw, "slug", where)
    where = f"category {slug}"
    if depth > MAX_DEPTH:
        raise TaxonomyDataError(f"{where}: deeper than {MAX_DEPTH} levels")
    children = raw.get("children", [])
    if not isinstance(children, list):
        raise TaxonomyDataError(f"{where}: `children` must be a list")
    return CategoryNode(
        slug=slug,
        code=_text(raw, "code", where),
        name_en=_text(raw, "name", where),
        name_es=_text(raw, "name_es", where),
        description=_text(raw, "description", where),
        children=tuple(_category(child, depth + 1, where) for child in children),
    )


def _taxonomy_info(raw: dict[str, Any]) -> TaxonomyInfo:
    slug = _text(raw, "slug", "taxonomy")
    return TaxonomyInfo(
        slug=slug,
        name=_text(raw, "name", slug),
        description=_text(raw, "description", slug),
        version=str(raw.get("version", "")),
    )


def taxonomies_parse(data: dict[str, Any]) -> KynectTaxonomies:
    """Check the shipped data and build the trees; raises TaxonomyDataError on any broken rule."""
    infos = {info.slug: info for info in (_taxonomy_info(raw) for raw in data.get("taxonomies", []))}
    if set(infos) != {CATEGORIES_SLUG, LIFE_SITUATIONS_SLUG}:
        raise TaxonomyDataError(f"expected the taxonomies {CATEGORIES_SLUG} and {LIFE_SITUATIONS_SLUG}")
    categories = tuple(_category(raw, 1, "categories") for raw in data.get("categories", []))
    if not categories:
        raise TaxonomyDataError("no categories")

    index: dict[str, CategoryNode] = {}
    parents: dict[str, str | None] = {}

    def visit(node: CategoryNode, parent: str | None) -> None:
        if node.slug in index:
            raise TaxonomyDataError(f"category slug {node.slug} appears twice")
        index[node.slug] = node
        parents[node.slug] = parent
        for child in node.children:
            visit(child, node.slug)

    for top in categories:
        visit(top, None)

    situations: list[LifeSituationNode] = []
    for raw in data.get("life_situations", []):
        slug = _text(raw, "slug", "life situation")
        where = f"life situation {slug}"
        headings = []
        for heading in raw.get("headings", []):
            slugs = tuple(heading.get("categories", []))
            unknown = [category for category in slugs if category not in index]
            if not slugs or unknown:
                raise TaxonomyDataError(f"{where}: heading categories unknown or empty: {unknown}")
            headings.append(
                SituationHeading(
                    heading_en=_text(heading, "heading", where),
                    heading_es=_text(heading, "heading_es", where),
                    categories=slugs,
                )
            )
        situations.append(
            LifeSituationNode(
                slug=slug,
                name_en=_text(raw, "name", where),
                name_es=_text(raw, "name_es", where),
                icon=_text(raw, "icon", where),
                description=_text(raw, "description", where),
                headings=tuple(headings),
                code=_text(raw, "code", where),
            )
        )
    situation_index = {situation.slug: situation for situation in situations}

    all_slugs = [*index, *situation_index, *infos]
    if len(set(all_slugs)) != len(index) + len(situations) + len(infos):
        raise TaxonomyDataError("slugs must be unique across the whole file")
    codes = [node.code for node in index.values()] + [situation.code for situation in situations]
    if len(set(codes)) != len(codes):
        raise TaxonomyDataError("codes must be unique across the whole file")

    return KynectTaxonomies(
        categories_taxonomy=infos[CATEGORIES_SLUG],
        life_situations_taxonomy=infos[LIFE_SITUATIONS_SLUG],
        categories=categories,
        life_situations=tuple(situations),
        category_index=index,
        category_parents=parents,
        life_situation_index=situation_index,
    )


@cache
def kynect_taxonomies() -> KynectTaxonomies:
    """The shipped data, read and checked once per process."""
    with DATA_FILE.open(encoding="utf-8") as data_file:
        return taxonomies_parse(json.load(data_file))


def categories() -> tuple[CategoryNode, ...]:
    """The top-level categories, in the order of the "Search By Category" menu."""
    return kynect_taxonomies().categories


def life_situations() -> tuple[LifeSituationNode, ...]:
    return kynect_taxonomies().life_situations


def category_find(slug: str) -> CategoryNode | None:
    return kynect_taxonomies().category_index.get(slug)


def life_situation_find(slug: str) -> LifeSituationNode | None:
    return kynect_taxonomies().life_situation_index.get(slug)


# The one category whose tree the header's "Search By Category" menu opens out, as the resources
# overview shows it.
HEADER_MENU_SLUG = "employment"


def header_menu_tree() -> CategoryNode:
    found = category_find(HEADER_MENU_SLUG)
    if found is None:  # pragma: no cover - the shipped data is checked by the taxonomy tests
        raise LookupError(f"the shipped categories have no {HEADER_MENU_SLUG!r}")
    return found


def category_parent(slug: str) -> CategoryNode | None:
    """The category above this one (None for a top-level or unknown category)."""
    parent = kynect_taxonomies().category_parents.get(slug)
    return category_find(parent) if parent else None


def category_descendant_slugs(slug: str) -> list[str]:
    """The category and every category under it (empty for an unknown slug)."""
    node = category_find(slug)
    return [item.slug for item in node.walk()] if node else []


# Loading into HSDS tables ---------------------------------------------------------------------------


def kynect_term_rows() -> Iterator[tuple[uuid.UUID, dict[str, Any]]]:
    """Every term's id and HSDS fields, parents before children."""
    data = kynect_taxonomies()
    for info, nodes in (
        (data.categories_taxonomy, [node for top in data.categories for node in top.walk()]),
        (data.life_situations_taxonomy, list(data.life_situations)),
    ):
        for node in nodes:
            parent = data.category_parents.get(node.slug) if isinstance(node, CategoryNode) else None
            yield (
                node.id,
                {
                    "code": node.code,
                    "name": node.name_en,
                    "name_es": node.name_es,
                    "description": node.description,
                    "parent_id": taxonomy_id(parent) if parent else None,
                    "taxonomy": info.name,
                    "taxonomy_detail_id": info.id,
                    "language": "en",
                    "term_uri": taxonomy_uri(node.slug),
                },
            )


def kynect_taxonomy_ids() -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """(taxonomy ids, term ids) of everything the shipped data loads."""
    data = kynect_taxonomies()
    return (
        [data.categories_taxonomy.id, data.life_situations_taxonomy.id],
        [term_id for term_id, _fields in kynect_term_rows()],
    )


def _upsert(model: type[models.Model], row_id: uuid.UUID, values: dict[str, Any]) -> str | None:
    """Create or update one row; 'created', 'updated', or None when it already matched."""
    instance = model._default_manager.filter(pk=row_id).first()
    if instance is None:
        model._default_manager.create(pk=row_id, **values)
        return "created"
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return None
    for name in changed:
        setattr(instance, name, values[name])
    instance.save(update_fields=changed)
    return "updated"


def kynect_taxonomies_upsert(
    taxonomy_model: type[models.Model], term_model: type[models.Model]
) -> tuple[int, int]:
    """Write both taxonomies and all their terms; returns (created, updated). A second run changes nothing.

    Takes the model classes so a migration can pass its historical models."""
    data = kynect_taxonomies()
    outcomes: list[str | None] = []
    for info in (data.categories_taxonomy, data.life_situations_taxonomy):
        values = {
            "name": info.name,
            "description": info.description,
            "uri": taxonomy_uri(info.slug),
            "version": info.version,
        }
        outcomes.append(_upsert(taxonomy_model, info.id, values))
    for term_id, values in kynect_term_rows():
        outcomes.append(_upsert(term_model, term_id, values))
    return outcomes.count("created"), outcomes.count("updated")


def kynect_taxonomies_delete(taxonomy_model: type[models.Model], term_model: type[models.Model]) -> None:
    """Remove what `kynect_taxonomies_upsert` wrote."""
    taxonomy_ids, term_ids = kynect_taxonomy_ids()
    term_model._default_manager.filter(pk__in=term_ids).delete()
    taxonomy_model._default_manager.filter(pk__in=taxonomy_ids).delete()


def kynect_taxonomies_load() -> tuple[int, int]:
    """Load the shipped taxonomies into the live tables; returns (created, updated)."""
    from kynect.directory.models import Taxonomy, TaxonomyTerm

    with transaction.atomic():
        return kynect_taxonomies_upsert(Taxonomy, TaxonomyTerm)
