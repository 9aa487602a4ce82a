"""FHIR OperationOutcome: what went wrong with a request, in the shape FHIR clients read."""

from __future__ import annotations

from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue


def operation_outcome_not_found(*, kind: str) -> OperationOutcome:
    """The answer to a read of an unknown or malformed id. The id is not echoed back."""
    issue = OperationOutcomeIssue(severity="error", code="not-found", diagnostics=f"No {kind} with this id.")
    return OperationOutcome(issue=[issue])


def operation_outcome_invalid(*, problems: list[tuple[str, str]]) -> OperationOutcome:
    """A resource refused: each problem's path (FHIRPath-like) and reason."""
    return OperationOutcome(
        issue=[
            OperationOutcomeIssue(severity="error", code="invalid", diagnostics=reason, expression=[path])
            for path, reason in problems
        ]
    )
