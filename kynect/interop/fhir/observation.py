"""SDOH Observations, per the SDOH Clinical Care guide (FHIR R4B), both ways (DESIGN §5.3):

- **SDOHCC-ObservationScreeningResponse**: one per LOINC-coded question answered (the AHC HRSN tool),
  category `survey` and `sdoh` and the SDOHCC category of the question's domain, the LOINC question and
  answer, `POS` when the answer may show an unmet need; and one per sum rule (the safety score).
- **SDOHCC-ObservationAssessment**: one per rated domain, its code the domain in kynect's own code
  system, its value the rating in kynect's rating code system (`RATING_SYSTEM`, documented in
  docs/reference/fhir-sdoh.md), category `sdoh` and the domain's SDOHCC category.

`observation_rating` reads an Observation back into a (domain, rating), for either shape, for the KHIE
import. A Substance Abuse Observation is 42 CFR Part 2 data and carries its security labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.reference import Reference

from kynect.assessments.definitions import RATINGS, Definition, Question
from kynect.core.sdoh import SdohDomain
from kynect.interop.fhir.datatypes import KYNECT_SYSTEM
from kynect.interop.fhir.service_request import (
    NEED_CATEGORIES,
    NEED_SYSTEM,
    SDOHCC,
    SDOHCC_CODES,
    UNSPECIFIED,
    part2_security_labels,
)
from kynect.residents.part2 import domain_is_part2

SCREENING_RESPONSE_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-ObservationScreeningResponse"
ASSESSMENT_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-ObservationAssessment"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
RATING_SYSTEM = f"{KYNECT_SYSTEM}/CodeSystem/sdoh-rating"
RATING_DISPLAY = {"stable": "Stable", "vulnerable": "Vulnerable", "in_crisis": "In-Crisis", "na": "N/A"}


def _sdohcc_category(domain: str) -> CodeableConcept:
    code, display = NEED_CATEGORIES.get(domain) or UNSPECIFIED
    return CodeableConcept(coding=[Coding(system=SDOHCC_CODES, code=code, display=display)])


def _meta(profile: str, domain: str) -> Meta:
    return Meta(profile=[profile], security=part2_security_labels() if domain_is_part2(domain) else None)


SURVEY = CodeableConcept(coding=[Coding(system=OBSERVATION_CATEGORY, code="survey", display="Survey")])
SDOH = CodeableConcept(coding=[Coding(system=US_CORE_CATEGORY, code="sdoh", display="SDOH")])


def screening_response_observations(
    *,
    definition: Definition,
    answers: dict[str, list[str]],
    sums: dict[str, int],
    ids: Any,
    subject: Reference,
    when: datetime,
    derived_from: Reference,
) -> list[Observation]:
    """The LOINC-coded answers (and sum scores) as screening responses. `ids(key)` names each one."""
    found = []
    for question in definition.questions:
        chosen = [answer for code in answers.get(question.code, []) if (answer := question.answer(code))]
        if not question.loinc or not chosen or any(not answer.loinc for answer in chosen):
            continue
        domain = question.domain or _sum_domain(definition, question)
        found.append(
            Observation(
                id=ids(question.code),
                meta=_meta(SCREENING_RESPONSE_PROFILE, domain),
                status="final",
                category=[SURVEY, SDOH, _sdohcc_category(domain)],
                code=CodeableConcept(
                    coding=[Coding(system=LOINC, code=question.loinc)], text=question.text.en
                ),
                subject=subject,
                effectiveDateTime=when,
                valueCodeableConcept=CodeableConcept(
                    coding=[
                        Coding(system=LOINC, code=answer.loinc, display=answer.text.en) for answer in chosen
                    ]
                ),
                interpretation=[
                    CodeableConcept(coding=[Coding(system=INTERPRETATION, code="POS", display="Positive")])
                ]
                if any(answer.positive for answer in chosen)
                else None,
                derivedFrom=[derived_from],
            )
        )
    for rule in definition.sums:
        if rule.code not in sums or not rule.loinc:
            continue
        found.append(
            Observation(
                id=ids(rule.code),
                meta=_meta(SCREENING_RESPONSE_PROFILE, rule.domain),
                status="final",
                category=[SURVEY, SDOH, _sdohcc_category(rule.domain)],
                code=CodeableConcept(coding=[Coding(system=LOINC, code=rule.loinc)], text=rule.text.en),
                subject=subject,
                effectiveDateTime=when,
                valueInteger=sums[rule.code],
                derivedFrom=[derived_from],
            )
        )
    return found


def _sum_domain(definition: Definition, question: Question) -> str:
    """The domain of a question that rates none by itself, through the sum rule that adds it."""
    return next((rule.domain for rule in definition.sums if question.code in rule.questions), "")


def assessment_observation(
    *, domain: str, rating: str, id: str, subject: Reference, when: datetime, derived_from: list[Reference]
) -> Observation:
    label = str(SdohDomain(domain).label)
    return Observation(
        id=id,
        meta=_meta(ASSESSMENT_PROFILE, domain),
        status="final",
        category=[SDOH, _sdohcc_category(domain)],
        code=CodeableConcept(coding=[Coding(system=NEED_SYSTEM, code=domain, display=label)], text=label),
        subject=subject,
        effectiveDateTime=when,
        valueCodeableConcept=CodeableConcept(
            coding=[Coding(system=RATING_SYSTEM, code=rating, display=RATING_DISPLAY[rating])]
        ),
        derivedFrom=derived_from or None,
    )


@dataclass(frozen=True)
class ObservationRating:
    domain: str
    rating: str


def observation_rating(
    observation: Observation, *, screening: dict[str, Question]
) -> ObservationRating | None:
    """The domain and rating an Observation gives: a kynect assessment Observation directly, a screening
    response through the instrument question its LOINC code names (`screening`: LOINC code → question);
    None for an Observation that rates nothing kynect knows."""
    codings = observation.code.coding or []
    values = observation.valueCodeableConcept.coding if observation.valueCodeableConcept else []
    values = values or []
    for coding in codings:
        if coding.system == NEED_SYSTEM and coding.code in SdohDomain.values:
            rating = next(
                (v.code for v in values if v.system == RATING_SYSTEM and v.code in RATING_DISPLAY), None
            )
            return ObservationRating(coding.code, rating) if rating else None
        if coding.system == LOINC and coding.code in screening:
            question = screening[coding.code]
            ratings = [
                answer.rating
                for value in values
                if value.system == LOINC
                for answer in question.answers
                if answer.loinc == value.code and answer.rating
            ]
            if question.domain and ratings:
                worst = max(ratings, key=RATINGS.index)
                return ObservationRating(question.domain, worst)
    return _finding_rating(observation)


# An SDOHCC category back to the kynect domain it stands for (the first that maps to it).
CATEGORY_DOMAINS: dict[str, str] = {}
for _domain, _category in NEED_CATEGORIES.items():
    if _category is not None:
        CATEGORY_DOMAINS.setdefault(_category[0], _domain)


def _finding_rating(observation: Observation) -> ObservationRating | None:
    """An assessment Observation stating a finding in an SDOHCC category (a SNOMED finding such as
    "transport too expensive", true or false, or flagged positive): Vulnerable when it is present,
    Stable when it is stated absent."""
    domain = next(
        (
            CATEGORY_DOMAINS[coding.code]
            for category in observation.category or []
            for coding in category.coding or []
            if coding.system == SDOHCC_CODES and coding.code in CATEGORY_DOMAINS
        ),
        None,
    )
    if domain is None:
        return None
    positive = any(
        coding.code == "POS"
        for concept in observation.interpretation or []
        for coding in concept.coding or []
    )
    if observation.valueBoolean is True or positive:
        return ObservationRating(domain, "vulnerable")
    if observation.valueBoolean is False:
        return ObservationRating(domain, "stable")
    return None
