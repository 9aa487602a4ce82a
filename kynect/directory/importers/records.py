"""Shared by every HSDS import format: the row checks and the bulk upsert.

A source (tabular datapackage or HSDS JSON) turns its input into `SourceRow`s, one per record, grouped
by HSDS entity. `RowLoader` then converts the values to the models' field types, checks references
against the rows of this import and the database, and writes the good rows with bulk operations.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.directory import models as hsds
from kynect.directory.importers.report import ERROR, WARNING, EntityCounts, ImportReport
from kynect.directory.importers.values import (
    BadValueError,
    field_is_required,
    parse_uuid,
    value_convert,
    value_empty,
    value_is_empty,
)

CHUNK_SIZE = 500

# Dependency order: every entity comes after the entities it refers to.
ENTITY_MODELS: dict[str, type[hsds.HsdsModel]] = {
    "taxonomy": hsds.Taxonomy,
    "taxonomy_term": hsds.TaxonomyTerm,
    "organization": hsds.Organization,
    "organization_identifier": hsds.OrganizationIdentifier,
    "program": hsds.Program,
    "service": hsds.Service,
    "location": hsds.Location,
    "service_at_location": hsds.ServiceAtLocation,
    "address": hsds.Address,
    "contact": hsds.Contact,
    "phone": hsds.Phone,
    "schedule": hsds.Schedule,
    "service_area": hsds.ServiceArea,
    "language": hsds.Language,
    "cost_option": hsds.CostOption,
    "required_document": hsds.RequiredDocument,
    "accessibility": hsds.Accessibility,
    "funding": hsds.Funding,
    "attribute": hsds.Attribute,
    "metadata": hsds.Metadata,
}
ENTITY_ORDER: tuple[str, ...] = tuple(ENTITY_MODELS)
_ENTITY_BY_MODEL = {model: entity for entity, model in ENTITY_MODELS.items()}
# Generic links: (id field, entity-name field) whose target is named by the row itself.
_GENERIC_LINKS = {"attribute": ("link_id", "link_entity"), "metadata": ("resource_id", "resource_type")}
# Filled by the importer, not read from HSDS input.
_COMPUTED_FIELDS = {"location": {"time_zone"}}

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SourceRow:
    """One incoming record: where it came from and its raw values keyed by HSDS field name. `defect`
    says why the reader could not read it as a whole record; such a row is an error and skipped."""

    file: str
    line: str
    values: dict[str, Any]
    defect: str = ""


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK_SIZE):
        yield items[start : start + CHUNK_SIZE]


@dataclass
class _Candidate:
    row: SourceRow
    id: uuid.UUID
    values: dict[str, Any] = field(default_factory=dict)  # attname -> model value
    absent_required: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _AddressHint:
    postal_code: str
    address_type: str


class RowLoader:
    """Validates and upserts the rows of one import, entity by entity, in dependency order."""

    def __init__(
        self,
        *,
        rows: dict[str, list[SourceRow]],
        report: ImportReport,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.rows = rows
        self.report = report
        self.on_progress = on_progress
        self.counts = {entity: EntityCounts() for entity in ENTITY_ORDER}
        self.accepted: dict[str, set[uuid.UUID]] = {entity: set() for entity in ENTITY_ORDER}
        self.skipped: dict[str, set[uuid.UUID]] = {entity: set() for entity in ENTITY_ORDER}
        self.feed_ids: dict[str, set[uuid.UUID]] = {entity: set() for entity in ENTITY_ORDER}
        self.now = timezone.now()

    def load_all(self) -> None:
        for entity in ENTITY_ORDER:
            self._load_entity(entity, self.rows.get(entity, []))

    def _problem(self, entity: str, severity: str, row: SourceRow, field_name: str, reason: str) -> None:
        counts = self.counts[entity]
        if severity == ERROR:
            counts.errors += 1
        else:
            counts.warnings += 1
        self.report.add(severity=severity, file=row.file, line=row.line, field=field_name, reason=reason)

    def _existing_ids(self, model: type[models.Model], ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        wanted = sorted(set(ids), key=str)
        found: set[uuid.UUID] = set()
        for chunk in _chunks(wanted):
            found.update(model._default_manager.filter(pk__in=chunk).values_list("pk", flat=True))
        return found

    def _load_entity(self, entity: str, rows: list[SourceRow]) -> None:
        model = ENTITY_MODELS[entity]
        counts = self.counts[entity]
        if self.on_progress is not None:
            self.on_progress(entity, 0, len(rows))
        candidates = self._convert_rows(entity, model, rows)
        existing = self._fetch_existing(model, [candidate.id for candidate in candidates])
        candidates = [c for c in candidates if self._complete(entity, c, exists=c.id in existing)]
        self._check_references(entity, model, candidates)
        if entity == "location":
            self._place_locations(candidates, existing)
        self._write(entity, model, candidates, existing)
        counts.skipped = len(rows) - len(candidates)

    def _convert_rows(
        self, entity: str, model: type[hsds.HsdsModel], rows: list[SourceRow]
    ) -> list[_Candidate]:
        fields = [
            f
            for f in model._meta.concrete_fields
            if f.name not in {"id", "imported_at"} and f.name not in _COMPUTED_FIELDS.get(entity, set())
        ]
        candidates: list[_Candidate] = []
        seen: set[uuid.UUID] = set()
        for row in rows:
            raw_id = row.values.get("id")
            if row.defect:
                # Its id still counts as in the feed: a full feed must not retire a service whose row
                # was only malformed.
                row_id = parse_uuid(raw_id)
                if row_id is not None:
                    self.feed_ids[entity].add(row_id)
                self._reject(entity, row, row_id, "", row.defect)
                continue
            if value_is_empty(raw_id):
                self._reject(entity, row, None, "id", "the id is missing")
                continue
            row_id = parse_uuid(raw_id)
            if row_id is None:
                self._reject(entity, row, None, "id", f"{raw_id!r} is not a UUID")
                continue
            self.feed_ids[entity].add(row_id)
            if row_id in seen:
                self._reject(entity, row, None, "id", f"the id {row_id} appears more than once")
                continue
            seen.add(row_id)
            candidate = _Candidate(row=row, id=row_id)
            if self._convert_fields(entity, fields, candidate):
                candidates.append(candidate)
            else:
                self.skipped[entity].add(row_id)
        return candidates

    def _reject(
        self, entity: str, row: SourceRow, row_id: uuid.UUID | None, field_name: str, reason: str
    ) -> None:
        self._problem(entity, ERROR, row, field_name, f"{reason}; row skipped")
        if row_id is not None:
            self.skipped[entity].add(row_id)

    def _convert_fields(
        self, entity: str, fields: list[models.Field[Any, Any]], candidate: _Candidate
    ) -> bool:
        row = candidate.row
        for model_field in fields:
            key = model_field.column if model_field.is_relation else model_field.name
            if key not in row.values:
                if field_is_required(model_field):
                    candidate.absent_required.append(key)
                continue
            raw = row.values[key]
            if value_is_empty(raw):
                if field_is_required(model_field):
                    self._reject(entity, row, None, key, f"the required field {key} is empty")
                    return False
                candidate.values[model_field.attname] = value_empty(model_field)
                continue
            target = model_field.target_field if isinstance(model_field, models.ForeignKey) else model_field
            try:
                value = value_convert(target, raw)
            except BadValueError as exc:
                if field_is_required(model_field):
                    self._reject(entity, row, None, key, str(exc))
                    return False
                fallback = value_empty(model_field)
                shown = "null" if fallback is None else repr(fallback) if fallback else "blank"
                self._problem(entity, WARNING, row, key, f"{exc}; set to {shown}")
                value = fallback
            candidate.values[model_field.attname] = value
        return True

    def _fetch_existing(
        self, model: type[hsds.HsdsModel], ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        attnames = [f.attname for f in model._meta.concrete_fields if f.name != "imported_at"]
        existing: dict[uuid.UUID, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for values in model._default_manager.filter(pk__in=chunk).values(*attnames):
                existing[values["id"]] = values
        return existing

    def _complete(self, entity: str, candidate: _Candidate, *, exists: bool) -> bool:
        if candidate.absent_required and not exists:
            missing = ", ".join(candidate.absent_required)
            self._reject(
                entity, candidate.row, candidate.id, missing, f"the required field {missing} is missing"
            )
            return False
        return True

    def _check_references(
        self, entity: str, model: type[hsds.HsdsModel], candidates: list[_Candidate]
    ) -> None:
        relations = [f for f in model._meta.concrete_fields if f.is_relation]
        known: dict[str, set[uuid.UUID]] = {}
        for relation in relations:
            assert relation.related_model is not None
            target = _ENTITY_BY_MODEL[relation.related_model]  # type: ignore[index]
            wanted: set[uuid.UUID] = {
                ref for c in candidates if (ref := c.values.get(relation.attname)) is not None
            }
            in_import = {c.id for c in candidates} if target == entity else self.accepted[target]
            known[relation.attname] = in_import | self._existing_ids(
                relation.related_model,  # type: ignore[arg-type]
                wanted - in_import,
            )
        generic = _GENERIC_LINKS.get(entity)
        kept: list[_Candidate] = []
        for candidate in candidates:
            if all(self._reference_ok(entity, candidate, rel, known[rel.attname]) for rel in relations):
                if generic is not None:
                    self._check_generic_link(entity, candidate, *generic)
                kept.append(candidate)
            else:
                self.skipped[entity].add(candidate.id)
        candidates[:] = kept
        self.accepted[entity].update(candidate.id for candidate in kept)

    def _reference_ok(
        self, entity: str, candidate: _Candidate, relation: models.Field[Any, Any], known: set[uuid.UUID]
    ) -> bool:
        ref = candidate.values.get(relation.attname)
        if ref is None or ref in known:
            return True
        assert relation.related_model is not None
        target = _ENTITY_BY_MODEL[relation.related_model]  # type: ignore[index]
        if ref in self.skipped[target]:
            reason = f"{relation.column} {ref}: that {target} was skipped because of an error"
        else:
            reason = f"{relation.column} {ref}: no such {target} in the import or the database"
        if field_is_required(relation):
            self._reject(entity, candidate.row, candidate.id, relation.column, reason)
            return False
        self._problem(entity, WARNING, candidate.row, relation.column, f"{reason}; set to null")
        candidate.values[relation.attname] = None
        return True

    def _check_generic_link(self, entity: str, candidate: _Candidate, id_field: str, name_field: str) -> None:
        target = str(candidate.values.get(name_field) or "")
        link = candidate.values.get(id_field)
        if target not in ENTITY_MODELS:
            reason = f"{target!r} is not an HSDS entity, so {id_field} {link} cannot be checked"
            self._problem(entity, WARNING, candidate.row, name_field, reason)
            return
        if not isinstance(link, uuid.UUID) or link in self.accepted[target]:
            return
        if self._existing_ids(ENTITY_MODELS[target], [link]):
            return
        reason = f"{id_field} {link}: no such {target} in the import or the database"
        self._problem(entity, WARNING, candidate.row, id_field, f"{reason}; kept as given")

    def _address_hints(self, location_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[_AddressHint]]:
        hints: dict[uuid.UUID, list[_AddressHint]] = {}
        for row in self.rows.get("address", []):
            location_id = parse_uuid(row.values.get("location_id") or "")
            if location_id in location_ids:
                hints.setdefault(location_id, []).append(
                    _AddressHint(
                        postal_code=str(row.values.get("postal_code") or ""),
                        address_type=str(row.values.get("address_type") or "").strip().lower(),
                    )
                )
        stored = sorted(location_ids - set(hints), key=str)
        for chunk in _chunks(stored):
            for location_id, postal_code, address_type in (
                hsds.Address.objects.filter(location_id__in=chunk)
                .order_by("pk")
                .values_list("location_id", "postal_code", "address_type")
            ):
                hints.setdefault(location_id, []).append(_AddressHint(postal_code, address_type))
        return hints

    def _place_locations(
        self, candidates: list[_Candidate], existing: dict[uuid.UUID, dict[str, Any]]
    ) -> None:
        """Time zone from the first physical address's ZIP; the ZIP centroid for missing or impossible
        coordinates."""
        hints = self._address_hints({candidate.id for candidate in candidates})
        for candidate in candidates:
            zips = []
            addresses = hints.get(candidate.id, [])
            ordered = [a for a in addresses if a.address_type == "physical"] + [
                a for a in addresses if a.address_type != "physical"
            ]
            for address in ordered:
                try:
                    zips.append((address.address_type, zip_lookup(address.postal_code)))
                except UnknownZipCodeError:
                    continue
            physical = next((info for kind, info in zips if kind == "physical"), None)
            if physical is not None:
                candidate.values["time_zone"] = physical.time_zone
            centroid = zips[0][1] if zips else None
            values = candidate.values
            stored = existing.get(candidate.id, {})
            latitude = values.get("latitude", stored.get("latitude"))
            longitude = values.get("longitude", stored.get("longitude"))
            impossible = (latitude is not None and not -90 <= latitude <= 90) or (
                longitude is not None and not -180 <= longitude <= 180
            )
            if impossible:
                reason = f"impossible coordinates ({latitude}, {longitude})"
                if centroid is not None:
                    reason += f"; used the centroid of ZIP {centroid.zip_code}"
                else:
                    reason += "; set to null (no address with a valid ZIP code)"
                self._problem("location", WARNING, candidate.row, "latitude", reason)
            if impossible or latitude is None or longitude is None:
                values["latitude"] = centroid.latitude if centroid else None
                values["longitude"] = centroid.longitude if centroid else None

    def _write(
        self,
        entity: str,
        model: type[hsds.HsdsModel],
        candidates: list[_Candidate],
        existing: dict[uuid.UUID, dict[str, Any]],
    ) -> None:
        counts = self.counts[entity]
        new_objects: list[hsds.HsdsModel] = []
        changed_objects: list[hsds.HsdsModel] = []
        changed_fields: set[str] = set()
        for candidate in candidates:
            stored = existing.get(candidate.id)
            if stored is None:
                new_objects.append(model(id=candidate.id, imported_at=self.now, **candidate.values))
                continue
            differing = {name for name, value in candidate.values.items() if stored.get(name) != value}
            if not differing:
                counts.unchanged += 1
                continue
            changed_fields |= differing
            changed_objects.append(model(**{**stored, **candidate.values, "imported_at": self.now}))
        names = {f.attname: f.name for f in model._meta.concrete_fields}
        total = len(candidates)
        with transaction.atomic():
            for done, chunk in enumerate(_chunks(new_objects), start=1):
                model._default_manager.bulk_create(chunk)
                if done * CHUNK_SIZE < total:
                    self._progress(entity, done * CHUNK_SIZE, total)
            update_fields = [*sorted(names[attname] for attname in changed_fields), "imported_at"]
            for chunk in _chunks(changed_objects):
                model._default_manager.bulk_update(chunk, update_fields)
        counts.created += len(new_objects)
        counts.updated += len(changed_objects)
        self._progress(entity, total, total)

    def _progress(self, entity: str, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(entity, done, total)


def services_deactivate_missing(*, feed_service_ids: set[uuid.UUID], now: datetime) -> int:
    """Mark imported services that a full feed no longer carries inactive; returns how many."""
    missing = [
        service_id
        for service_id in hsds.Service.objects.filter(imported_at__isnull=False)
        .exclude(status=hsds.Service.Status.INACTIVE)
        .values_list("pk", flat=True)
        if service_id not in feed_service_ids
    ]
    with transaction.atomic():
        for chunk in _chunks(missing):
            hsds.Service.objects.filter(pk__in=chunk).update(
                status=hsds.Service.Status.INACTIVE, imported_at=now
            )
    return len(missing)
