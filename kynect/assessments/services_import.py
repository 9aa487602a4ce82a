"""Ratings from outside kynect: the Medicaid application's SDoH answers (IEES), and KHIE's SDOH
Observations (FHIR Bundles). Medicaid records are matched to residents by
client ID only; a record whose client ID matches no resident is reported, never guessed. Idempotent: a
rating keeps its source's id (`RiskRating.external_id`), and the same one again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from kynect.assessments.definitions import Question
from kynect.assessments.models import Instrument, RiskRating
from kynect.assessments.selectors import resident_by_identifier
from kynect.interop.fhir.patient import CLIENT_ID_SYSTEM, RESIDENT_SYSTEM
from kynect.interop.fhir.sdoh_bundle import PatientKey, Problem, khie_bundle_read
from kynect.interop.iees.medicaid_sdoh import MedicaidRecord
from kynect.residents.models import Resident


@dataclass
class ImportSummary:
    stored: int = 0
    unchanged: int = 0
    matched_records: int = 0
    unmatched: list[MedicaidRecord] = field(default_factory=list)


@transaction.atomic
def medicaid_sdoh_import(*, records: list[MedicaidRecord]) -> ImportSummary:
    """Store each matched record's ratings with source "Medicaid application", dated when it was answered."""
    summary = ImportSummary()
    residents = dict(
        Resident.objects.filter(
            client_id__in={record.client_id for record in records}, erased_at__isnull=True
        ).values_list("client_id", "pk")
    )
    wanted = {
        f"{record.record_id}:{domain}": (record, domain, rating)
        for record in records
        if record.client_id in residents
        for domain, rating in record.ratings.items()
    }
    existing = set(
        RiskRating.objects.filter(source=RiskRating.Source.MEDICAID, external_id__in=wanted).values_list(
            "external_id", flat=True
        )
    )
    RiskRating.objects.bulk_create(
        RiskRating(
            resident_id=residents[record.client_id],
            domain=domain,
            rating=rating,
            source=RiskRating.Source.MEDICAID,
            rated_at=record.answered_at,
            external_id=external_id,
        )
        for external_id, (record, domain, rating) in wanted.items()
        if external_id not in existing
    )
    summary.stored = len(wanted) - len(existing)
    summary.unchanged = len(existing)
    summary.matched_records = sum(1 for record in records if record.client_id in residents)
    summary.unmatched = [record for record in records if record.client_id not in residents]
    return summary


# --- KHIE ---------------------------------------------------------------------------------------------------


@dataclass
class KhieSummary:
    stored: int = 0
    unchanged: int = 0
    skipped: int = 0  # Observations that rate nothing kynect knows
    unmatched: list[str] = field(default_factory=list)  # the Observations whose patient matched no resident
    problems: list[Problem] = field(default_factory=list)


def _screening_questions() -> dict[str, Question]:
    """Every LOINC-coded question that rates a domain, of every instrument version: how a screening
    response from elsewhere is read."""
    found: dict[str, Question] = {}
    for instrument in Instrument.objects.order_by("code", "-version"):
        for question in instrument.parsed.questions:
            if question.loinc and question.domain:
                found.setdefault(question.loinc, question)
    return found


def _resident_for(patient: PatientKey) -> Any:
    """The resident a Bundle's Patient is: by kynect's resident id or the client ID, else by name and
    date of birth when exactly one resident has them; None otherwise (reported, never guessed)."""
    for system, value in patient.identifiers:
        if system in (CLIENT_ID_SYSTEM, RESIDENT_SYSTEM) and value:
            named = resident_by_identifier(system=system, value=value)
            return named.pk if named else None
    if not (patient.family and patient.given and patient.birth_date):
        return None
    found = list(
        Resident.objects.filter(
            first_name__iexact=patient.given,
            last_name__iexact=patient.family,
            birth_date=patient.birth_date,
            erased_at__isnull=True,
        ).values_list("pk", flat=True)[:2]
    )
    return found[0] if len(found) == 1 else None


@transaction.atomic
def khie_bundle_import(*, data: bytes) -> KhieSummary:
    """Store the ratings a KHIE Bundle gives, with source KHIE; a bad bundle stores nothing and lists its
    problems. The same Observation again changes nothing."""
    read = khie_bundle_read(data, screening=_screening_questions())
    summary = KhieSummary(skipped=read.skipped, problems=read.problems)
    if read.problems:
        return summary
    residents = {rating.patient: _resident_for(rating.patient) for rating in read.ratings}
    matched = [rating for rating in read.ratings if residents[rating.patient] is not None]
    summary.unmatched = [rating.external_id for rating in read.ratings if residents[rating.patient] is None]
    existing = set(
        RiskRating.objects.filter(
            source=RiskRating.Source.KHIE, external_id__in=[rating.external_id for rating in matched]
        ).values_list("external_id", flat=True)
    )
    new = {rating.external_id: rating for rating in matched if rating.external_id not in existing}
    RiskRating.objects.bulk_create(
        RiskRating(
            resident_id=residents[rating.patient],
            domain=rating.domain,
            rating=rating.rating,
            source=RiskRating.Source.KHIE,
            rated_at=rating.rated_at,
            external_id=rating.external_id,
        )
        for rating in new.values()
    )
    summary.stored, summary.unchanged = len(new), len(matched) - len(new)
    return summary
