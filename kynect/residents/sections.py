"""Sections that apps above residents add to the Resident Detail Screen (the referrals' counts, later the
assessments'): residents may not import them (DESIGN §3), so they register a provider here."""

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


# provider(resident=..., user=..., view=...) -> a section, or None to show nothing.
SectionProvider = Callable[..., Section | None]
_providers: dict[str, SectionProvider] = {}


def resident_section_register(name: str, provider: SectionProvider) -> None:
    _providers[name] = provider


def resident_sections(*, resident: Resident, user: Any, view: View) -> list[Section]:
    sections = [provider(resident=resident, user=user, view=view) for provider in _providers.values()]
    return sorted((section for section in sections if section is not None), key=lambda section: section.order)
