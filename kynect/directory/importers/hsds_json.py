"""Reads HSDS JSON: compiled objects (a list, a single object or a Page envelope) flattened to rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kynect.directory.importers.records import ENTITY_MODELS, SourceRow
from kynect.directory.importers.report import ImportInputError
from kynect.directory.importers.values import parse_uuid

# Keys whose object or list values hold nested records, and the entity of those records.
NESTED_KEYS = {
    "organization": "organization",
    "organizations": "organization",
    "organization_identifiers": "organization_identifier",
    "program": "program",
    "programs": "program",
    "service": "service",
    "services": "service",
    "location": "location",
    "locations": "location",
    "service_at_location": "service_at_location",
    "service_at_locations": "service_at_location",
    "address": "address",
    "addresses": "address",
    "contact": "contact",
    "contacts": "contact",
    "phones": "phone",
    "schedules": "schedule",
    "service_areas": "service_area",
    "languages": "language",
    "cost_options": "cost_option",
    "required_documents": "required_document",
    "accessibility": "accessibility",
    "funding": "funding",
    "attributes": "attribute",
    "taxonomy_term": "taxonomy_term",
    "taxonomy_terms": "taxonomy_term",
    "taxonomy_detail": "taxonomy",
    "metadata": "metadata",
}
# Nested records that point at the record holding them through a generic link.
_GENERIC_PARENT_KEYS = {"attribute": ("link_id", "link_entity"), "metadata": ("resource_id", "resource_type")}


def hsds_json_rows(*, path: Path) -> dict[str, list[SourceRow]]:
    """The records of an HSDS JSON file by entity; one record met several times is merged."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportInputError(f"{path} is not readable JSON ({exc}).") from exc
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        items, prefix = document["contents"], "/contents"
    elif isinstance(document, list):
        items, prefix = document, ""
    elif isinstance(document, dict):
        items, prefix = [document], None
    else:
        raise ImportInputError(f"{path} holds neither HSDS objects nor a page of them.")
    flattener = _Flattener(file=path.name)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImportInputError(f"{path}: item {index} is not an HSDS object.")
        pointer = "" if prefix is None else f"{prefix}/{index}"
        flattener.add(entity=_top_level_entity(item), record=item, pointer=pointer or "/")
    return flattener.rows()


def _top_level_entity(item: dict[str, Any]) -> str:
    if "organization_id" not in item and any(
        key in item for key in ("services", "organization_identifiers", "programs")
    ):
        return "organization"
    return "service"


class _Flattener:
    def __init__(self, *, file: str) -> None:
        self.file = file
        self._rows: dict[str, dict[str, SourceRow]] = {entity: {} for entity in ENTITY_MODELS}
        self._anonymous: dict[str, list[SourceRow]] = {entity: [] for entity in ENTITY_MODELS}

    def rows(self) -> dict[str, list[SourceRow]]:
        return {
            entity: list(self._rows[entity].values()) + self._anonymous[entity] for entity in ENTITY_MODELS
        }

    def add(self, *, entity: str, record: dict[str, Any], pointer: str) -> dict[str, Any]:
        """Flattens one record and its nested records; returns the scalar values kept for it."""
        values = {key: value for key, value in record.items() if not isinstance(value, (dict, list))}
        model = ENTITY_MODELS[entity]
        for key, nested in record.items():
            child_entity = NESTED_KEYS.get(key)
            if child_entity is None:
                continue
            children = nested if isinstance(nested, list) else [nested] if isinstance(nested, dict) else []
            for index, child in enumerate(children):
                if not isinstance(child, dict):
                    continue
                child_pointer = f"{pointer.rstrip('/')}/{key}" + (
                    f"/{index}" if isinstance(nested, list) else ""
                )
                child = dict(child)
                self._link_child(entity, values, child_entity, child)
                child_values = self.add(entity=child_entity, record=child, pointer=child_pointer)
                self._link_parent(model, key, values, child_entity, child_values)
        self._store(entity, values, pointer)
        return values

    def _link_child(
        self, entity: str, values: dict[str, Any], child_entity: str, child: dict[str, Any]
    ) -> None:
        """A nested list record belongs to the record holding it (e.g. a phone to its contact)."""
        parent_id = values.get("id")
        if parent_id is None:
            return
        if child_entity in _GENERIC_PARENT_KEYS:
            id_key, entity_key = _GENERIC_PARENT_KEYS[child_entity]
            child.setdefault(id_key, parent_id)
            child.setdefault(entity_key, entity)
            return
        parent_model = ENTITY_MODELS[entity]
        for model_field in ENTITY_MODELS[child_entity]._meta.concrete_fields:
            if not model_field.is_relation or child_entity == entity:
                continue
            if model_field.related_model is parent_model:
                child.setdefault(model_field.column, parent_id)
            elif not model_field.null and values.get(model_field.column):
                # A required reference the holder shares: a service's program is its organization's.
                child.setdefault(model_field.column, values[model_field.column])

    def _link_parent(
        self, model: type[Any], key: str, values: dict[str, Any], child_entity: str, child: dict[str, Any]
    ) -> None:
        """A nested single record the holder points at (a service's organization, a term's taxonomy)."""
        child_model = ENTITY_MODELS[child_entity]
        for model_field in model._meta.concrete_fields:
            if (
                model_field.is_relation
                and model_field.related_model is child_model
                and (model_field.name == key or model_field.column == f"{key}_id")
            ):
                values.setdefault(model_field.column, child.get("id"))

    def _store(self, entity: str, values: dict[str, Any], pointer: str) -> None:
        record_id = parse_uuid(values.get("id") or "")
        if record_id is None:
            self._anonymous[entity].append(SourceRow(file=self.file, line=pointer, values=values))
            return
        known = self._rows[entity].get(str(record_id))
        if known is None:
            self._rows[entity][str(record_id)] = SourceRow(file=self.file, line=pointer, values=values)
            return
        for key, value in values.items():
            if known.values.get(key) in (None, ""):
                known.values[key] = value
