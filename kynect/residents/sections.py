"""Sections that apps above residents add to the Resident Detail Screen and to My Plan (the referrals',
later the assessments'): residents may not import them (DESIGN §3), so they register a provider here,
for a place: `detail` (the Resident Detail Screen) or `plan` (a signed-in resident's My Plan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kynect.residents.access import View
from kynect.residents.models import Resident


@dataclass(frozen=True)
class Section:
    """A template to include, with its context, at `order` among the screen's sections."""

    order: int
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    # Whether it shows 42 CFR Part 2 data: the page then carries the §2.32 notice.
    part2: bool = False


# provider(resident=..., user=..., view=...) -> a section, or None to show nothing.
SectionProvider = Callable[..., Section | None]
_providers: dict[tuple[str, str], SectionProvider] = {}


def resident_section_register(name: str, provider: SectionProvider, *, place: str = "detail") -> None:
    _providers[(place, name)] = provider


def resident_sections(*, resident: Resident, user: Any, view: View, place: str = "detail") -> list[Section]:
    sections = [
        provider(resident=resident, user=user, view=view)
        for (provider_place, _name), provider in _providers.items()
        if provider_place == place
    ]
    return sorted((section for section in sections if section is not None), key=lambda section: section.order)


# Parts of a resident's API record that apps above residents supply: name -> provider(resident=..., user=...)
# returning the part's value (the assessments app's `risk_factors`).
_api_parts: dict[str, Callable[..., Any]] = {}


def resident_api_part_register(name: str, provider: Callable[..., Any]) -> None:
    _api_parts[name] = provider


def resident_api_part(name: str, *, resident: Resident, user: Any, default: Any) -> Any:
    provider = _api_parts.get(name)
    return provider(resident=resident, user=user) if provider else default
