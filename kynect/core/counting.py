"""What the metrics count over besides a period (DESIGN §5.7): every app's counting selectors take a
`Scope`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scope:
    """Everything, or one county (the resident's), one organization type or one organization (the one
    credited with what is counted)."""

    county_fips: str = ""
    organization_type: str = ""
    organization_id: Any = None
