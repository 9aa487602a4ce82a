"""What an import found wrong, row by row, and what it did: problems, counts and the CSV report."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

WARNING = "warning"
ERROR = "error"
REPORT_COLUMNS = ("severity", "file", "line", "field", "reason")
ProblemCallback = Callable[["Problem"], None]


class ImportInputError(Exception):
    """The input cannot be read at all (missing file, unreadable JSON, incomplete package)."""


@dataclass(frozen=True)
class Problem:
    severity: str
    file: str
    line: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        column = f" [{self.field}]" if self.field else ""
        return f"{self.severity.upper()} {where}{column}: {self.reason}"


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    warnings: int = 0
    errors: int = 0


@dataclass
class ImportResult:
    counts: dict[str, EntityCounts]
    problems: list[Problem]
    deactivated: int
    elapsed_seconds: float
    report_path: Path

    @property
    def warnings(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == WARNING)

    @property
    def errors(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == ERROR)


class ImportReport:
    """Collects problems, hands each one to `on_problem` as it is found, and writes the CSV report."""

    def __init__(self, *, on_problem: ProblemCallback | None = None) -> None:
        self.problems: list[Problem] = []
        self._on_problem = on_problem

    def add(self, *, severity: str, file: str, line: str, field: str, reason: str) -> Problem:
        problem = Problem(severity=severity, file=file, line=line, field=field, reason=reason)
        self.problems.append(problem)
        if self._on_problem is not None:
            self._on_problem(problem)
        return problem

    def write_csv(self, *, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)
            for problem in self.problems:
                writer.writerow([problem.severity, problem.file, problem.line, problem.field, problem.reason])
