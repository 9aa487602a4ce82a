"""Referral services: making a referral (duplicate check, pre-consent, messages), the lifecycle's
actions and their races, closing, notes, and the specialists' expiry and deadlines."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from kynect.accounts.models import Role
from kynect.core import clock
from kynect.notifications.models import OutboundMessage
from kynect.referrals.access import Action
from kynect.referrals.models import Referral, ReferralEvent
from kynect.referrals.services import (
    ActionNotAllowedError,
    Closure,
    ReferralChangedError,
    ReferralInput,
    outreach_attempt_log,
    referral_act,
    referral_create,
    referral_note_add,
    referrals_expire,
    referrals_expiry_sweep,
    referrals_outreach_sweep,
)
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.residents.models import Consent, Resident

pytestmark = pytest.mark.django_db


def test_a_partner_refers_a_new_resident_and_the_receivers_are_emailed():
    sender, receiver = partner(), partner()
    created = referral_create(
        actor=sender.user,
        data=ReferralInput(
            service_id=receiver.service.pk,
            need="housing",
            note="Eviction notice",
            urgency="urgent",
            resident=resident_input(),
            pre_consent=True,
        ),
    )
    made = created.referral
    assert made.status == Referral.Status.REQUESTED
    assert made.box == Referral.Box.NEW
    assert made.sending_organization == sender.organization
    assert made.receiving_organization == receiver.organization
    assert made.receiving_listing == receiver.service.organization
    assert not created.resident_matched
    assert not created.receiver_not_onboarded
    assert made.resident.mobile_phone == "+15025550199"
    assert made.resident.county_fips == "21073"
    assert [event.transition for event in made.events.all()] == ["create"]
    consent = Consent.objects.get(resident=made.resident, organization=receiver.organization)
    assert consent.status == Consent.Status.ACTIVE
    assert consent.channel == Consent.Channel.PRE_CONSENT
    assert [e.to_status for e in consent.events.all()] == [Consent.Status.ACTIVE]
    emails = OutboundMessage.objects.filter(channel="email").order_by("recipient")
    assert sorted(m.recipient for m in emails) == sorted([receiver.user.email, receiver.admin.email])
    assert all("urgent" in m.subject for m in emails)
    assert all(f"/referrals/{made.pk}/" in m.body for m in emails)
    assert all("Ana" not in m.body for m in emails)  # the message never names the resident


def test_a_user_who_prefers_texts_is_texted_too_in_their_language():
    sender, receiver = partner(), partner()
    receiver.user.notify_by = "email_and_text"
    receiver.user.phone = "+15025550111"
    receiver.user.preferred_language = "es"
    receiver.user.save()
    referral(sender, receiver)
    text = OutboundMessage.objects.get(channel="sms")
    assert text.recipient == "+15025550111"
    assert text.language == "es"
    assert "/es/" in text.body


def test_the_duplicate_check_attaches_to_the_existing_resident():
    sender, other, receiver = partner(), partner(), partner()
    first = referral(sender, receiver)
    created = referral_create(
        actor=other.user,
        data=ReferralInput(
            service_id=receiver.service.pk,
            need="food",
            resident=resident_input(
                first_name=" ANA ", last_name="réyes", email="", mobile_phone="502-555-0100"
            ),
        ),
    )
    assert created.resident_matched
    assert created.referral.resident == first.resident
    assert Resident.objects.count() == 1
    # The existing record is not changed by what the second referrer typed.
    assert Resident.objects.get().mobile_phone == "+15025550199"


def test_the_same_client_id_is_the_same_resident():
    sender, receiver = partner(), partner()
    first = referral(sender, receiver, resident=resident_input(client_id="KY-123"))
    second = referral(sender, receiver, resident=resident_input(client_id="KY-123", first_name="Anita"))
    assert second.resident == first.resident


def test_a_referral_to_an_organization_not_onboarded_is_flagged():
    sender, receiver = partner(), partner(onboarded=False)
    created = referral_create(
        actor=sender.user,
        data=ReferralInput(service_id=receiver.service.pk, need="food", resident=resident_input()),
    )
    assert created.receiver_not_onboarded
    assert not created.referral.receiver_onboarded
    assert created.referral.expiry_due_at is not None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"need": "groceries"}, "need"),
        ({"service_id": "00000000-0000-0000-0000-000000000000"}, "service_id"),
        ({"service_id": "not-a-uuid"}, "service_id"),
        ({"note": "x" * 1_000_000}, "note"),
        ({"urgency": "soon"}, "urgency"),
        ({"resident": resident_input(birth_date=date(2999, 1, 1))}, "birth_date"),
        ({"resident": resident_input(birth_date=date(1800, 1, 1))}, "birth_date"),
        ({"resident": resident_input(mobile_phone="12", email="")}, "mobile_phone"),
        ({"resident": resident_input(first_name="A\u202eB")}, "first_name"),
    ],
)
def test_bad_input_is_refused_with_nothing_saved(fields, field):
    sender, receiver = partner(), partner()
    values: dict[str, Any] = {"service_id": receiver.service.pk, "need": "food", "resident": resident_input()}
    values.update(fields)
    with pytest.raises(ValidationError) as caught:
        referral_create(actor=sender.user, data=ReferralInput(**values))
    assert field in caught.value.message_dict
    assert Referral.objects.count() == 0
    assert Resident.objects.count() == 0
    assert OutboundMessage.objects.count() == 0


def test_roles_that_do_not_refer_are_refused():
    receiver = partner()
    for role in (Role.INSURANCE_AGENT, Role.AGENCY_ADMIN, Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST):
        user = member(None if role != Role.AGENCY_ADMIN else receiver.organization, role)
        with pytest.raises(PermissionDenied):
            referral_create(
                actor=user,
                data=ReferralInput(service_id=receiver.service.pk, need="food", resident=resident_input()),
            )


def test_the_receiver_accepts_starts_and_closes_with_a_reason():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    referral_act(actor=receiver.user, referral_id=made.pk, action=Action.ACCEPT)
    referral_act(actor=receiver.user, referral_id=made.pk, action=Action.START)
    closed = referral_act(
        actor=receiver.admin,
        referral_id=made.pk,
        action=Action.CLOSE,
        closure=Closure(experience="down", resource_provided=False, reason="unreachable"),
    )
    assert closed.status == Referral.Status.FAILED
    assert closed.box == Referral.Box.CLOSED
    assert closed.not_provided_reason == "unreachable"
    assert closed.closed_at is not None
    assert [e.transition for e in closed.events.all()] == ["create", "accept", "start", "fail"]
    # The sender is told.
    assert OutboundMessage.objects.filter(recipient=sender.user.email).count() == 2  # accepted, closed


@pytest.mark.parametrize(
    ("closure", "field"),
    [
        (Closure(experience="down", resource_provided=False, reason=""), "reason"),
        (Closure(experience="up", resource_provided=True, reason="other"), "reason"),
        (Closure(experience="", resource_provided=True), "experience"),
        (Closure(experience="up", resource_provided=None), "resource_provided"),
        (Closure(experience="up", resource_provided=False, reason="bored"), "reason"),
    ],
)
def test_closing_needs_the_overviews_form(closure, field):
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    with pytest.raises(ValidationError) as caught:
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.CLOSE, closure=closure)
    assert field in caught.value.message_dict
    made.refresh_from_db()
    assert made.status == Referral.Status.REQUESTED
    assert made.events.count() == 1


def test_the_sender_cannot_accept_and_the_receiver_cannot_cancel():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    with pytest.raises(PermissionDenied):
        referral_act(actor=sender.user, referral_id=made.pk, action=Action.ACCEPT)
    with pytest.raises(PermissionDenied):
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.CANCEL)
    stranger = partner()
    with pytest.raises(Referral.DoesNotExist):
        referral_act(actor=stranger.user, referral_id=made.pk, action=Action.ACCEPT)


def test_an_action_the_state_does_not_allow_is_refused():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    referral_act(actor=sender.user, referral_id=made.pk, action=Action.CANCEL)
    with pytest.raises(ActionNotAllowedError):
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.ACCEPT)
    with pytest.raises(ValidationError):
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.REJECT, reason="")


def test_two_people_acting_on_what_they_saw_one_wins_the_other_is_told():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    referral_act(actor=receiver.user, referral_id=made.pk, action=Action.ACCEPT, seen_status="requested")
    with pytest.raises(ReferralChangedError) as caught:
        referral_act(
            actor=receiver.admin,
            referral_id=made.pk,
            action=Action.REJECT,
            reason="Full",
            seen_status="requested",
        )
    assert caught.value.referral.status == Referral.Status.ACCEPTED
    assert ReferralEvent.objects.filter(referral=made, transition__in=["accept", "reject"]).count() == 1


def test_notes_are_kept_on_the_timeline_and_a_1_mb_note_is_refused():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    referral_note_add(actor=receiver.user, referral_id=made.pk, body="Called, left a message.")
    with pytest.raises(ValidationError):
        referral_note_add(actor=receiver.user, referral_id=made.pk, body="x" * 1_000_000)
    assert [n.body for n in made.notes.all()] == ["Called, left a message."]
    assert made.events.filter(transition="note").count() == 1


def test_the_worker_flags_7_and_14_day_referrals_and_a_specialist_expires_them():
    sender, onboarded, not_onboarded = partner(), partner(), partner(onboarded=False)
    start = clock.now()
    with time_machine.travel(start, tick=False):
        to_partner = referral(sender, onboarded)
        to_outsider = referral(sender, not_onboarded)
    assert referrals_outreach_sweep(now=start + timedelta(days=6)) == 0
    assert referrals_outreach_sweep(now=start + timedelta(days=7, seconds=1)) == 2
    assert referrals_outreach_sweep(now=start + timedelta(days=8)) == 0  # once
    assert referrals_expiry_sweep(now=start + timedelta(days=13)) == 0
    assert referrals_expiry_sweep(now=start + timedelta(days=14, seconds=1)) == 1
    specialist = member(None, Role.REFERRAL_SPECIALIST)
    assert referrals_expire(actor=specialist, referral_ids=[to_partner.pk, to_outsider.pk]) == 1
    to_outsider.refresh_from_db()
    to_partner.refresh_from_db()
    assert to_outsider.status == Referral.Status.CANCELLED
    assert to_outsider.not_provided_reason == "expired"
    assert to_partner.status == Referral.Status.REQUESTED
    with pytest.raises(PermissionDenied):
        referrals_expire(actor=sender.user, referral_ids=[to_partner.pk])


def test_closure_reasons_and_outreach_results_are_kept_as_codes_and_shown_in_the_readers_language():
    from django.utils import translation

    sender, receiver = partner(), partner()
    specialist = member(None, Role.REFERRAL_SPECIALIST)
    made = referral(sender, receiver)
    with translation.override("es"):  # the receiver works in Spanish
        referral_act(
            actor=receiver.user,
            referral_id=made.pk,
            action=Action.CLOSE,
            closure=Closure(experience="down", resource_provided=False, reason="unreachable"),
        )
        outreach_attempt_log(
            actor=specialist, referral_id=made.pk, target="resident", channel="phone", result="no_answer"
        )
    fail = ReferralEvent.objects.get(referral=made, transition="fail")
    outreach = ReferralEvent.objects.get(referral=made, transition="outreach")
    assert (fail.detail, outreach.detail) == ("unreachable", "resident:no_answer")
    with translation.override("en"):
        assert fail.detail_display() == "Unable to reach client"
        assert outreach.detail_display() == "Resident: No answer"
    with translation.override("es"):
        assert fail.detail_display() != "Unable to reach client"
        assert fail.detail_display() == translation.gettext("Unable to reach client")


def test_the_migration_turns_earlier_labels_into_codes_in_either_language():
    import importlib

    from django.apps import apps
    from django.utils import translation

    migration = importlib.import_module("kynect.referrals.migrations.0005_referral_event_detail_codes")
    made = referral(partner(), partner())
    with translation.override("es"):
        spanish_reason = str(translation.gettext("Unable to reach client"))
    at = clock.now()
    events = [
        ReferralEvent.objects.create(referral=made, transition=transition, at=at, detail=detail)
        for transition, detail in (
            ("fail", spanish_reason),
            ("outreach", "Resident: No answer"),
            ("expire", "Expired"),
            ("hold", "Waiting for papers"),
        )
    ]
    migration.labels_to_codes(apps, None)
    assert [ReferralEvent.objects.get(pk=event.pk).detail for event in events] == [
        "unreachable",
        "resident:no_answer",
        "expired",
        "Waiting for papers",
    ]


def test_the_receiver_reopens_a_closing_made_in_error_and_closes_it_again():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    referral_act(
        actor=receiver.user,
        referral_id=made.pk,
        action=Action.CLOSE,
        closure=Closure(experience="down", resource_provided=False, reason="unreachable"),
    )
    with pytest.raises(ValidationError) as no_reason:
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.REOPEN)
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(PermissionDenied):
        referral_act(actor=sender.user, referral_id=made.pk, action=Action.REOPEN, reason="Wrong one")
    reopened = referral_act(
        actor=receiver.user, referral_id=made.pk, action=Action.REOPEN, reason="Closed the wrong referral"
    )
    assert reopened.status == Referral.Status.IN_PROGRESS
    assert (reopened.closed_at, reopened.resource_provided, reopened.not_provided_reason) == (None, None, "")
    assert reopened.experience == ""
    assert reopened.status_reason == "Closed the wrong referral"
    # An open referral cannot be reopened.
    with pytest.raises(ActionNotAllowedError):
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.REOPEN, reason="Again")
    closed = referral_act(
        actor=receiver.user,
        referral_id=made.pk,
        action=Action.CLOSE,
        closure=Closure(experience="up", resource_provided=True),
    )
    assert closed.status == Referral.Status.COMPLETED
    assert [e.transition for e in closed.events.all()] == ["create", "fail", "reopen", "complete"]


def test_only_a_closing_with_an_outcome_can_be_reopened():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    referral_act(actor=receiver.user, referral_id=made.pk, action=Action.REJECT, reason="Full")
    with pytest.raises(ActionNotAllowedError):
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.REOPEN, reason="Oops")
    assert Referral.objects.get(pk=made.pk).status == Referral.Status.REJECTED
