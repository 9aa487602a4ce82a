"""Retention: N years after a resident's last referral closed and their last consent ended, their personal
fields are erased and the counts survive; access events expire as a whole after their own period; both
by the nightly recurring job, and the database refuses any other removal of an access event."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection, transaction

from kynect.core import clock, recurring
from kynect.core.audit import access_event_record, access_events_expire
from kynect.core.models import AccessEvent, AppendOnlyError
from kynect.referrals.access import Action
from kynect.referrals.models import Referral, ReferralNote
from kynect.referrals.services import Closure, referral_act, referral_note_add
from kynect.referrals.tests.factories import partner, referral, resident_input
from kynect.residents.models import Consent, HouseholdMember, Resident
from kynect.residents.retention import residents_erase, years_before
from kynect.residents.services_consent import consent_record, consent_revoke

pytestmark = pytest.mark.django_db


def closed_referral_years_ago(years: int, **resident_fields: str) -> Referral:
    sender, receiver = partner(), partner()
    with time_machine.travel(years_before(clock.now(), years), tick=False):
        made = referral(sender, receiver, resident=resident_input(**resident_fields))
        referral_note_add(actor=receiver.user, referral_id=made.pk, body="Called Ana about the food box.")
        referral_act(
            actor=receiver.user,
            referral_id=made.pk,
            action=Action.CLOSE,
            closure=Closure(experience="up", resource_provided=True, reason=""),
        )
        HouseholdMember.objects.create(resident=made.resident, name="Mateo Reyes", age=9, relationship="son")
        access_event_record(actor=receiver.user, subject_type="resident", subject_id=str(made.resident_id))
    return made


def test_a_resident_still_for_the_retention_period_is_erased_and_the_counts_survive(settings):
    settings.RESIDENT_RETENTION_YEARS = 7
    old = closed_referral_years_ago(8)
    recent = closed_referral_years_ago(2, first_name="Rosa", client_id="R-2")
    counts_before = (Referral.objects.count(), Referral.objects.filter(status="completed").count())

    assert residents_erase(now=clock.now()) == 1

    erased = Resident.objects.get(pk=old.resident_id)
    assert erased.erased_at is not None
    assert (erased.first_name, erased.last_name, erased.email, erased.mobile_phone, erased.birth_date) == (
        "",
        "",
        "",
        "",
        None,
    )
    assert erased.county_fips  # kept for the metrics
    assert not HouseholdMember.objects.filter(resident=erased).exists()
    assert not ReferralNote.objects.filter(referral=old).exists()
    old.refresh_from_db()
    assert (old.status, old.need, old.resource_provided, old.note) == ("completed", "food", True, "")
    # The counts survive.
    assert (Referral.objects.count(), Referral.objects.filter(status="completed").count()) == counts_before
    kept = Resident.objects.get(pk=recent.resident_id)
    assert (kept.first_name, kept.erased_at) == ("Rosa", None)
    # Erasing twice changes nothing more.
    assert residents_erase(now=clock.now()) == 0


def test_an_active_or_recently_ended_consent_keeps_the_record(settings):
    settings.RESIDENT_RETENTION_YEARS = 7
    made = closed_referral_years_ago(8)
    assert made.sending_organization is not None
    consent = consent_record(
        actor=made.created_by,
        resident=made.resident,
        organization=made.sending_organization,
        channel="phone",
        note="Yes.",
    )
    assert residents_erase(now=clock.now()) == 0
    consent_revoke(actor=made.created_by, consent_id=consent.pk, note="Withdrawn.")
    assert residents_erase(now=clock.now()) == 0  # ended today, not 7 years ago
    assert Consent.objects.get().status == Consent.Status.INACTIVE


def test_access_events_expire_as_a_whole_after_their_own_period(settings):
    settings.ACCESS_EVENT_RETENTION_YEARS = 10
    with time_machine.travel(years_before(clock.now(), 11), tick=False):
        old = access_event_record(actor=None, subject_type="resident", subject_id="1")
    recent = access_event_record(actor=None, subject_type="resident", subject_id="1")
    assert access_events_expire(before=years_before(clock.now(), settings.ACCESS_EVENT_RETENTION_YEARS)) == 1
    assert list(AccessEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk != recent.pk
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()


def test_the_nightly_job_is_registered_and_does_both(settings):
    settings.RESIDENT_RETENTION_YEARS = 7
    settings.ACCESS_EVENT_RETENTION_YEARS = 7
    made = closed_referral_years_ago(8)
    job = recurring.jobs()["residents.retention"]
    now = clock.now()
    job.handler(period=now.date(), due_at=now)
    assert Resident.objects.get(pk=made.resident_id).erased_at is not None
    assert not AccessEvent.objects.filter(occurred_at__lt=years_before(now, 7)).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigger")
def test_postgresql_refuses_any_other_delete_of_an_access_event():
    from django.db import DatabaseError

    with time_machine.travel(years_before(clock.now(), 20), tick=False):
        event = access_event_record(actor=None, subject_type="resident", subject_id="1")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM core_accessevent WHERE id = %s", [event.pk])
    assert AccessEvent.objects.filter(pk=event.pk).exists()
