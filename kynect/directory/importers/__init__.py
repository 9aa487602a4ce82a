"""Import HSDS 3.0 data (tabular datapackage or JSON) into the directory: `hsds_import`."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from kynect.directory.hours import opening_windows_rebuild
from kynect.directory.importers.datapackage import datapackage_rows
from kynect.directory.importers.hsds_json import hsds_json_rows
from kynect.directory.importers.records import (
    ENTITY_ORDER,
    ProgressCallback,
    RowLoader,
    services_deactivate_missing,
)
from kynect.directory.importers.report import ImportInputError, ImportReport, ImportResult, ProblemCallback
from kynect.directory.models import SearchEntry, Service
from kynect.directory.search import search_index_update
from kynect.directory.touched import listings_touched

__all__ = ["ENTITY_ORDER", "ImportInputError", "ImportResult", "default_report_path", "hsds_import"]


def services_unlisted() -> set[uuid.UUID]:
    """Services that still have search entries but are no longer active."""
    return set(
        SearchEntry.objects.exclude(service__status=Service.Status.ACTIVE).values_list(
            "service_id", flat=True
        )
    )


def default_report_path() -> Path:
    """In the project's git-ignored `var/`, so that imports leave no files in a checkout."""
    return (
        Path(settings.BASE_DIR)
        / "var"
        / "import-reports"
        / f"import-report-{timezone.now():%Y%m%d-%H%M%S}.csv"
    )


def hsds_import(
    *,
    path: Path,
    full_feed: bool = False,
    report_path: Path | None = None,
    on_problem: ProblemCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportResult:
    """Upsert the HSDS records at `path` by id; report problems; with `full_feed`, retire missing services.

    Raises ImportInputError, having written nothing, when the input cannot be read as a whole.
    """
    started = time.monotonic()
    if not path.exists():
        raise ImportInputError(f"{path} does not exist.")
    if report_path is None:
        report_path = default_report_path()
        report_path.parent.mkdir(parents=True, exist_ok=True)
    elif not report_path.parent.is_dir():
        raise ImportInputError(f"The report's folder {report_path.parent} does not exist.")
    report = ImportReport(on_problem=on_problem)
    if path.is_dir() or path.suffix.lower() == ".zip":
        rows = datapackage_rows(path=path, report=report)
    else:
        rows = hsds_json_rows(path=path)
    loader = RowLoader(rows=rows, report=report, on_progress=on_progress)
    loader.load_all()
    touched = listings_touched(changed=loader.accepted)
    opening_windows_rebuild(location_ids=touched.locations)
    deactivated = 0
    if full_feed:
        deactivated = services_deactivate_missing(feed_service_ids=loader.feed_ids["service"], now=loader.now)
    search_index_update(service_ids=touched.services | services_unlisted())
    report.write_csv(path=report_path)
    return ImportResult(
        counts=loader.counts,
        problems=report.problems,
        deactivated=deactivated,
        elapsed_seconds=time.monotonic() - started,
        report_path=report_path,
    )
