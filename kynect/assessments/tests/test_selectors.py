"""The counts the metrics read: completed assessments and ratings by instrument, organization, domain,
rating, source and Kentucky's year."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kynect.accounts.models import Role
from kynect.assessments.models import Assessment
from kynect.assessments.selectors import assessment_counts, instrument_by_code, rating_counts
from kynect.assessments.services import assessment_complete, assessment_page_save, assessment_start
from kynect.core import clock
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.services import consent_grant_pre_consent

pytestmark = pytest.mark.django_db

CENTRAL = ZoneInfo("America/Chicago")


def _mco_assessment_completed_at(moment: datetime) -> Assessment:
    mco = partner()
    user = member(mco.organization, Role.MCO_USER)
    resident = referral(partner(), mco, resident=resident_input()).resident
    consent_grant_pre_consent(resident=resident, organization=mco.organization, actor=user, now=clock.now())
    instrument = instrument_by_code("mco-needs")
    assert instrument is not None
    assessment = assessment_start(
        actor=user, resident=resident, instrument=instrument, organization=mco.organization
    )
    for number, page in enumerate(instrument.parsed.pages):
        answers = {question.code: ["no"] for question in page.questions}
        answers[page.questions[0].code] = ["yes"]
        assert assessment_page_save(
            assessment=assessment, page=number, revision=assessment.revision, answers=answers
        )
    with time_machine.travel(moment, tick=False):
        assert assessment_complete(assessment=assessment, actor=user)
        assert not assessment_complete(assessment=assessment, actor=user)  # once
    return assessment


def test_a_completion_at_2330_central_on_new_years_eve_counts_in_the_next_eastern_year():
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=CENTRAL)  # 00:30 on 1 January 2027, eastern
    assessment = _mco_assessment_completed_at(moment)
    counts = assessment_counts()
    assert counts == [
        {
            "year": 2027,
            "organization_id": assessment.organization_id,
            "instrument_code": "mco-needs",
            "count": 1,
        }
    ]
    ratings = rating_counts()
    assert {row["year"] for row in ratings} == {2027}
    assert sum(row["count"] for row in ratings) == 10
    crisis = [row for row in ratings if row["rating"] == "in_crisis"]
    assert crisis == [
        {
            "domain": "housing",
            "rating": "in_crisis",
            "source": "assessment",
            "year": 2027,
            "instrument_code": "mco-needs",
            "count": 1,
        }
    ]
    assert assessment_counts(until=datetime(2027, 1, 1, tzinfo=ZoneInfo("America/New_York"))) == []
