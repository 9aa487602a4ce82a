"""kynect's own FHIR code systems, published at their canonical URLs' last part under /api/fhir/CodeSystem/:
the 18 domains (`sdoh-domain`) and the four ratings (`sdoh-rating`) the SDOH Observations use."""

from __future__ import annotations

from django.utils import translation
from fhir.resources.R4B.codesystem import CodeSystem, CodeSystemConcept

from kynect.core.sdoh import SdohDomain
from kynect.interop.fhir.datatypes import KYNECT_SYSTEM
from kynect.interop.fhir.observation import RATING_DISPLAY

_DEFINITIONS = {
    "stable": "Stable: the need is met.",
    "vulnerable": "Vulnerable: the need is met for now but at risk.",
    "in_crisis": "In-Crisis: the need is unmet and help is needed now.",
    "na": "N/A: the domain does not apply to the person.",
}


def code_system_resource(name: str) -> CodeSystem | None:
    """The code system named `name`, or None."""
    with translation.override("en"):
        if name == "sdoh-domain":
            concepts = [
                CodeSystemConcept(code=code, display=str(label)) for code, label in SdohDomain.choices
            ]
            title = "kynect social drivers of health domains"
        elif name == "sdoh-rating":
            concepts = [
                CodeSystemConcept(code=code, display=display, definition=_DEFINITIONS[code])
                for code, display in RATING_DISPLAY.items()
            ]
            title = "kynect risk factor ratings"
        else:
            return None
    return CodeSystem(
        id=name,
        url=f"{KYNECT_SYSTEM}/CodeSystem/{name}",
        name=name.replace("-", "_"),
        title=title,
        status="active",
        content="complete",
        caseSensitive=True,
        count=len(concepts),
        concept=concepts,
    )
