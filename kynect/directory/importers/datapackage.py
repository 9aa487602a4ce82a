"""Reads an HSDS tabular datapackage: a folder or a .zip holding `datapackage.json` and its CSV files."""

from __future__ import annotations

import csv
import io
import json
import posixpath
import zipfile
from pathlib import Path
from typing import Any

from kynect.directory.importers.records import ENTITY_MODELS, SourceRow
from kynect.directory.importers.report import ImportInputError, ImportReport

DESCRIPTOR = "datapackage.json"


class _Package:
    """The files of a package, whether it sits in a folder or in a zip."""

    def __init__(self, *, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._root = ""
        if path.is_dir():
            if not (path / DESCRIPTOR).is_file():
                raise ImportInputError(f"{path} holds no {DESCRIPTOR}.")
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportInputError(f"{path} is not a readable zip file ({exc}).") from exc
        descriptors = sorted(
            (name for name in self._zip.namelist() if posixpath.basename(name) == DESCRIPTOR),
            key=lambda name: name.count("/"),
        )
        if not descriptors:
            raise ImportInputError(f"{path} holds no {DESCRIPTOR}.")
        self._root = posixpath.dirname(descriptors[0])

    def read_text(self, name: str) -> str:
        try:
            if self._zip is None:
                data = (self.path / name).read_bytes()
            else:
                data = self._zip.read(posixpath.normpath(posixpath.join(self._root, name)))
        except (OSError, KeyError) as exc:
            raise ImportInputError(f"{name} is missing from {self.path}.") from exc
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportInputError(f"{name} in {self.path} is not UTF-8 text.") from exc


def datapackage_rows(*, path: Path, report: ImportReport) -> dict[str, list[SourceRow]]:
    """Every CSV row of the package, by HSDS entity. Reads everything before anything is written."""
    package = _Package(path=path)
    try:
        descriptor: Any = json.loads(package.read_text(DESCRIPTOR))
    except json.JSONDecodeError as exc:
        raise ImportInputError(f"{DESCRIPTOR} in {path} is not valid JSON ({exc}).") from exc
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list):
        raise ImportInputError(f"{DESCRIPTOR} in {path} lists no resources.")
    rows: dict[str, list[SourceRow]] = {}
    for resource in resources:
        name = str(resource.get("name", "")) if isinstance(resource, dict) else ""
        resource_path = resource.get("path") if isinstance(resource, dict) else None
        if not isinstance(resource_path, str) or not resource_path:
            raise ImportInputError(f"{DESCRIPTOR} in {path} has a resource without a path.")
        text = package.read_text(resource_path)
        if name not in ENTITY_MODELS:
            report.add(
                severity="warning",
                file=resource_path,
                line="",
                field="",
                reason=f"resource {name!r} is not an HSDS entity kynect imports; ignored",
            )
            continue
        rows.setdefault(name, []).extend(_csv_rows(text=text, file=resource_path, package=path))
    return rows


def _csv_rows(*, text: str, file: str, package: Path) -> list[SourceRow]:
    """The records of one CSV file, each with the line it starts on (the header is line 1). A record
    whose number of fields differs from the header's is kept with its defect, to be reported and
    skipped: its values cannot be matched to columns, so loading it would put them in the wrong
    fields or blank the missing ones."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[SourceRow] = []
    try:
        header = next(reader, [])
        starts = reader.line_num + 1
        for record in reader:
            line, starts = starts, reader.line_num + 1
            if not record:  # a blank line
                continue
            defect = (
                ""
                if len(record) == len(header)
                else f"the row has {len(record)} fields; the header has {len(header)}"
            )
            values = dict(zip(header, record, strict=False))
            rows.append(SourceRow(file=file, line=str(line), values=values, defect=defect))
    except csv.Error as exc:
        raise ImportInputError(f"{file} in {package} is not readable CSV ({exc}).") from exc
    return rows
