"""The FHIR data types the resource modules share: meta, references, contact points, codes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Prefetch
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.reference import Reference

from kynect.directory import models as hsds

HSD_PROFILE = "http://hl7.org/fhir/us/hsds/StructureDefinition/hsds-{kind}"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
# The root of kynect's own code systems and identifier systems, as of its taxonomies (a name, not a page).
KYNECT_SYSTEM = "https://kynect.ky.gov/fhir"
ACT_CODES = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# The directory's text comes in English from its feeds (211, HSDS imports).
CONTENT_LANGUAGE = "en"
FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def meta(*, kind: str, last_updated: datetime | None) -> Meta:
    """The HSD profile the resource claims, and when its record last changed, where the feed said."""
    return Meta(profile=[HSD_PROFILE.format(kind=kind)], lastUpdated=last_updated)


def reference(*, kind: str, pk: object, display: str) -> Reference:
    return Reference(reference=f"{kind}/{pk}", display=display or None)


def own_phones(lookup: str = "phones") -> Prefetch:
    """A record's own numbers: a number that belongs to a contact (a named person) is not published."""
    return Prefetch(lookup, queryset=hsds.Phone.objects.filter(contact__isnull=True))


def phone_points(phones: Iterable[hsds.Phone]) -> list[ContactPoint]:
    """An organization's, location's or service's own numbers; a fax line as fax."""
    points = []
    for phone in sorted(phones, key=lambda phone: (phone.type.lower() == "fax", phone.number, str(phone.id))):
        number = phone.number.strip()
        if not number:
            continue
        if phone.extension is not None:
            number = f"{number} ext. {phone.extension}"
        system = "fax" if phone.type.lower() == "fax" else "phone"
        points.append(ContactPoint(system=system, value=number, use="work"))
    return points


def web_points(*, email: str, website: str) -> list[ContactPoint]:
    points = []
    if email:
        points.append(ContactPoint(system="email", value=email, use="work"))
    if website:
        points.append(ContactPoint(system="url", value=website, use="work"))
    return points


def term_concept(term: hsds.TaxonomyTerm) -> CodeableConcept:
    """A taxonomy term as a code of its taxonomy (by the taxonomy's URI where it has one)."""
    taxonomy_uri = term.taxonomy_detail.uri if term.taxonomy_detail is not None else ""
    coding = Coding(system=taxonomy_uri or None, code=term.code or str(term.id), display=term.name)
    return CodeableConcept(coding=[coding], text=term.name)


def language_concepts(languages: Iterable[hsds.Language]) -> list[CodeableConcept]:
    concepts = []
    for language in sorted(languages, key=lambda language: (language.code, language.name)):
        if not language.code and not language.name:
            continue
        codings = (
            [Coding(system=LANGUAGE_SYSTEM, code=language.code, display=language.name or None)]
            if language.code
            else None
        )
        concepts.append(CodeableConcept(coding=codings, text=language.name or None))
    return concepts


def fhir_days(weekdays: Iterable[int]) -> list[str | None]:
    """Weekdays (Monday is 0) as FHIR day codes, in the type fhir.resources declares for daysOfWeek."""
    return [FHIR_DAYS[weekday] for weekday in weekdays]
