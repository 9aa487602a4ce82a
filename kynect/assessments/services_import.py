"""Ratings from outside kynect: the Medicaid application's SDoH answers (IEES). Matched to residents by
client ID only; a record whose client ID matches no resident is reported, never guessed. Idempotent: a
rating keeps its source's id (`RiskRating.external_id`), and the same one again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from kynect.assessments.models import RiskRating
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
