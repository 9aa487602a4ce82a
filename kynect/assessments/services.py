"""Writes of assessments (DESIGN §5.3): start one with a resident, save it page by page, complete it once
with the ratings it gives. A resident alone without signing in keeps their answers in the session only
(`views`): nothing here is called for them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kynect.accounts.models import Organization, User
from kynect.assessments.lifecycles import ASSESSMENT
from kynect.assessments.models import Assessment, Instrument, RiskRating
from kynect.assessments.scoring import Answers, page_answers_merged, result_of
from kynect.assessments.selectors import instrument_offered
from kynect.core import clock
from kynect.residents.access import Action, Decision, decide, staff_organization_ids
from kynect.residents.models import Resident


@transaction.atomic
def assessment_start(
    *,
    actor: User,
    resident: Resident,
    instrument: Instrument,
    organization: Organization | None,
    now: datetime | None = None,
) -> Assessment:
    """Start `instrument` with `resident`: staff with the resident's consent (recorded against their
    `organization`), or the resident themselves (no organization). PermissionDenied for anyone else, or
    for an instrument not offered to the actor."""
    if decide(user=actor, action=Action.ASSESS, resident=resident) != Decision.ALLOWED:
        raise PermissionDenied
    if not instrument_offered(user=actor, instrument=instrument):
        raise PermissionDenied
    if organization is not None and organization.pk not in staff_organization_ids(user=actor):
        raise PermissionDenied
    if organization is None and resident.user_id != actor.pk:
        raise PermissionDenied
    assessment = Assessment(
        id=uuid.uuid4(),
        resident=resident,
        instrument=instrument,
        organization=organization,
        taken_by=actor,
    )
    assessment.save(force_insert=True)
    return assessment


def assessment_page_save(
    *, assessment: Assessment, page: int, revision: int, answers: Answers, now: datetime | None = None
) -> bool:
    """Keep one page's answers and move to the next page, once: a page posted again (its revision has
    moved on) changes nothing and returns False. The answers were checked by `scoring.page_answers_check`."""
    pages = len(assessment.instrument.parsed.pages)
    if not 0 <= page < pages:
        raise ValidationError({"page": [_("This page is not part of the assessment.")]})
    merged = page_answers_merged(
        page=assessment.instrument.parsed.pages[page], kept=assessment.answers, answers=answers
    )
    moved = Assessment.objects.filter(
        pk=assessment.pk, status=Assessment.Status.IN_PROGRESS, revision=revision
    ).update(
        answers=merged,
        page=max(assessment.page, page + 1),
        revision=F("revision") + 1,
        updated_at=now or clock.now(),
    )
    if moved:
        assessment.refresh_from_db(fields=["answers", "page", "revision", "updated_at"])
    return bool(moved)


@transaction.atomic
def assessment_complete(*, assessment: Assessment, actor: User, now: datetime | None = None) -> bool:
    """Complete the assessment once every page is saved: its ratings are written, one per domain it rates,
    as the resident's latest risk factors. Returns False when it was completed already (nothing written
    twice); ValidationError while a page is missing."""
    now = now or clock.now()
    definition = assessment.instrument.parsed
    if assessment.page < len(definition.pages):
        raise ValidationError({"page": [_("Answer every page before you finish.")]})
    if not ASSESSMENT.apply("complete", instance=assessment, now=now):
        return False
    result = result_of(definition=definition, answers=assessment.answers)
    RiskRating.objects.bulk_create(
        RiskRating(
            resident_id=assessment.resident_id,
            domain=domain,
            rating=rating,
            source=RiskRating.Source.ASSESSMENT,
            assessment=assessment,
            rated_at=now,
            rated_by=actor,
            organization_id=assessment.organization_id,
        )
        for domain, rating in result.ratings.items()
    )
    return True


def assessments_resident_erasing(*, resident_ids: list[Any], **_kwargs: Any) -> None:
    """Retention erasing residents (`residents.retention`): their answers go; the assessments and ratings
    stay, for the counts."""
    Assessment.objects.filter(resident_id__in=resident_ids).update(answers={})
