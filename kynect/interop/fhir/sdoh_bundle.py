"""The SDOH exchange with KHIE as FHIR R4B Bundles (DESIGN §5.3, docs/reference/fhir-sdoh.md).

- `assessment_bundle`: a resident's completed assessments as a `collection` Bundle: the Patient, and for
  each assessment its QuestionnaireResponse, its screening responses (LOINC-coded questions) and one
  assessment Observation per rated domain. Part 2 data only for a reader allowed it.
- `khie_bundle_read`: a Bundle KHIE sends, validated by `fhir.resources`, read into the ratings it gives
  each Patient, with every problem (its path and reason); a bad bundle yields problems and no ratings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.reference import Reference
from pydantic import ValidationError

from kynect.assessments.definitions import Question
from kynect.assessments.models import Assessment
from kynect.assessments.scoring import result_of
from kynect.interop.fhir.observation import (
    assessment_observation,
    observation_rating,
    screening_response_observations,
)
from kynect.interop.fhir.patient import patient_resource
from kynect.interop.fhir.questionnaire_response import questionnaire_response_resource
from kynect.residents.models import Resident
from kynect.residents.part2 import domain_is_part2


def _urn(value: uuid.UUID) -> str:
    return f"urn:uuid:{value}"


def assessment_bundle(*, resident: Resident, assessments: list[Assessment], part2: bool) -> Bundle:
    """Needs each assessment's `instrument`. `part2`: whether the reader may see Part 2 data."""
    patient_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kynect:patient:{resident.pk}")
    subject = Reference(reference=_urn(patient_id))
    entries = [BundleEntry(fullUrl=_urn(patient_id), resource=patient_resource(resident))]
    for assessment in assessments:
        if assessment.completed_at is None:
            continue
        definition = assessment.instrument.parsed

        def ids(key: str, assessment: Assessment = assessment) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kynect:assessment:{assessment.pk}:{key}"))

        response_id = ids("questionnaire-response")
        response = Reference(reference=_urn(uuid.UUID(response_id)))
        result = result_of(definition=definition, answers=assessment.answers)
        resources: list[Any] = [
            questionnaire_response_resource(
                id=response_id,
                definition=definition,
                answers=assessment.answers,
                subject=subject,
                authored=assessment.completed_at,
                part2=part2,
            )
        ]
        screening = screening_response_observations(
            definition=definition,
            answers=assessment.answers,
            sums=result.sums,
            ids=ids,
            subject=subject,
            when=assessment.completed_at,
            derived_from=response,
        )
        resources += [observation for observation in screening if part2 or not _is_part2(observation)]
        resources += [
            assessment_observation(
                domain=domain,
                rating=rating,
                id=ids(f"rating:{domain}"),
                subject=subject,
                when=assessment.completed_at,
                derived_from=[response],
            )
            for domain, rating in result.ratings.items()
            if part2 or not domain_is_part2(domain)
        ]
        entries += [
            BundleEntry(fullUrl=_urn(uuid.UUID(resource.id)), resource=resource) for resource in resources
        ]
    return Bundle(
        id=str(uuid.uuid4()), type="collection", timestamp=datetime.now().astimezone(), entry=entries
    )


def _is_part2(observation: Observation) -> bool:
    labels = observation.meta.security if observation.meta else None
    return any(label.code == "42CFRPart2" for label in labels or [])


# --- Reading what KHIE sends --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass(frozen=True)
class PatientKey:
    """How a Bundle names its patient: by identifiers (system, value), and by name and birth date."""

    identifiers: tuple[tuple[str, str], ...]
    family: str
    given: str
    birth_date: str


@dataclass(frozen=True)
class KhieRating:
    external_id: str
    patient: PatientKey
    domain: str
    rating: str
    rated_at: datetime


@dataclass
class KhieBundle:
    ratings: list[KhieRating] = field(default_factory=list)
    skipped: int = 0  # Observations that rate nothing kynect knows
    problems: list[Problem] = field(default_factory=list)


def _patient_key(patient: Patient) -> PatientKey:
    name = patient.name[0] if patient.name else None
    return PatientKey(
        identifiers=tuple((i.system or "", i.value or "") for i in patient.identifier or []),
        family=(name.family or "") if name else "",
        given=((name.given or [""])[0] or "") if name else "",
        birth_date=str(patient.birthDate or ""),
    )


def khie_bundle_read(data: bytes, *, screening: dict[str, Question]) -> KhieBundle:
    """The ratings a Bundle gives, each with its patient; or its problems (each path and reason)."""
    read = KhieBundle()
    try:
        bundle = Bundle.model_validate_json(data)
    except ValidationError as error:
        read.problems = [
            Problem(".".join(str(part) for part in issue["loc"]) or "Bundle", issue["msg"])
            for issue in error.errors()
        ]
        return read
    except ValueError as error:
        read.problems = [Problem("Bundle", str(error))]
        return read
    patients: dict[str, PatientKey] = {}
    for entry in bundle.entry or []:
        if isinstance(entry.resource, Patient):
            key = _patient_key(entry.resource)
            if entry.fullUrl:
                patients[entry.fullUrl] = key
            if entry.resource.id:
                patients[f"Patient/{entry.resource.id}"] = key
    for index, entry in enumerate(bundle.entry or []):
        resource = entry.resource
        if not isinstance(resource, Observation):
            continue
        where = f"Bundle.entry[{index}].resource"
        rated = observation_rating(resource, screening=screening)
        if rated is None:
            read.skipped += 1
            continue
        subject = resource.subject.reference if resource.subject else None
        if subject not in patients:
            read.problems.append(Problem(f"{where}.subject", "names no Patient in this Bundle"))
            continue
        if resource.effectiveDateTime is None:
            read.problems.append(Problem(f"{where}.effectiveDateTime", "is required: when it was observed"))
            continue
        external_id = resource.id or entry.fullUrl
        if not external_id:
            read.problems.append(Problem(f"{where}.id", "is required, to take it only once"))
            continue
        when = resource.effectiveDateTime
        if not isinstance(when, datetime) or when.tzinfo is None:
            read.problems.append(Problem(f"{where}.effectiveDateTime", "needs a time with its UTC offset"))
            continue
        read.ratings.append(KhieRating(external_id, patients[subject], rated.domain, rated.rating, when))
    return read
