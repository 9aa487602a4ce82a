"""The Resident Detail Screen: full with consent, limited with only a referral, 404 (recorded) otherwise;
notes added by an organization with consent, editable by it for 24 hours, then kept as written."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from kynect.core import clock
from kynect.core.models import AccessEvent
from kynect.referrals.tests.factories import Partner, partner, referral
from kynect.residents.models import EnrolledProgram, HouseholdMember, Resident, ResidentNote
from kynect.residents.services_consent import consent_record, consent_revoke
from kynect.residents.services_notes import resident_note_add, resident_note_edit

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sides() -> tuple[Partner, Partner, Resident]:
    sender, receiver = partner(), partner()
    resident = referral(sender, receiver).resident
    HouseholdMember.objects.create(resident=resident, name="Mateo Reyes", age=9, relationship="son")
    EnrolledProgram.objects.create(resident=resident, program="snap", started_on=date(2025, 3, 1))
    return sender, receiver, resident


def with_consent(the_partner: Partner, resident: Resident) -> Any:
    return consent_record(
        actor=the_partner.user,
        resident=resident,
        organization=the_partner.organization,
        channel="in_person",
        note="Signed the form.",
    )


def test_with_consent_the_full_screen_and_the_read_is_recorded(sides):
    _sender, receiver, resident = sides
    with_consent(receiver, resident)
    page = signed_in(receiver.user).get(reverse("residents:detail", args=[resident.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    for text in ("Client Information", "Mateo Reyes", "SNAP", "Risk Factors", "Add Note", "Referrals"):
        assert text in body, text
    # 17 domains, and Substance Abuse withheld: a general consent does not open 42 CFR Part 2 data.
    assert body.count("Not rated yet") == 17
    assert "Shown only with the resident's 42 CFR Part 2 consent" in body
    assert "New: <strong>1</strong>" in body
    assert AccessEvent.objects.filter(
        actor=receiver.user, subject_id=str(resident.pk), detail="resident detail screen (full)"
    ).exists()


def test_with_a_referral_only_the_limited_view_and_a_request_for_consent(sides):
    sender, _receiver, resident = sides
    body = signed_in(sender.user).get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert resident.email in body
    assert "Mateo Reyes" not in body
    assert "SNAP" not in body
    assert "Request consent" in body
    assert "Food" in body  # the need of their referral


def test_a_revoked_consent_shows_the_limited_view_on_the_next_request(sides):
    _sender, receiver, resident = sides
    consent = with_consent(receiver, resident)
    client = signed_in(receiver.user)
    assert "Mateo Reyes" in client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    consent_revoke(actor=receiver.admin, consent_id=consent.pk, note="She asked us to stop.")
    assert "Mateo Reyes" not in client.get(reverse("residents:detail", args=[resident.pk])).content.decode()


def test_anyone_else_gets_404_and_the_denial_is_recorded(sides):
    _sender, _receiver, resident = sides
    outsider = partner()
    assert signed_in(outsider.user).get(reverse("residents:detail", args=[resident.pk])).status_code == 404
    assert AccessEvent.objects.filter(actor=outsider.user, action=AccessEvent.Action.DENIED).exists()


def test_notes_are_added_and_edited_for_24_hours_then_kept_as_written(sides):
    _sender, receiver, resident = sides
    with_consent(receiver, resident)
    client = signed_in(receiver.user)
    url = reverse("residents:detail", args=[resident.pk])
    empty = client.post(url, {"form": "note", "note-subject": "", "note-body": ""})
    assert empty.status_code == 400
    assert not ResidentNote.objects.exists()
    client.post(
        url, {"form": "note", "note-subject": "First call", "note-body": "Needs a food box by Friday."}
    )
    note = ResidentNote.objects.get()
    assert (note.author, note.organization) == (receiver.user, receiver.organization)
    edit = reverse("residents:note_edit", args=[resident.pk, note.pk])
    assert (
        client.post(edit, {"subject": "First call", "body": "Needs a food box by Thursday."}).status_code
        == 302
    )
    note.refresh_from_db()
    assert (note.body, note.edited_at is not None) == ("Needs a food box by Thursday.", True)
    with time_machine.travel(clock.now() + timedelta(hours=24, minutes=1)):
        assert signed_in(receiver.user).get(edit).status_code == 403  # a new session: the old one expired
        with pytest.raises(ValidationError, match="24 hours"):
            resident_note_edit(actor=receiver.user, note_id=note.pk, subject="x", body="y")
    note.refresh_from_db()
    assert note.body == "Needs a food box by Thursday."


def test_only_an_organization_with_consent_writes_notes(sides):
    from django.core.exceptions import PermissionDenied

    sender, receiver, resident = sides
    with pytest.raises(PermissionDenied):
        resident_note_add(
            actor=sender.user, resident=resident, organization=sender.organization, subject="Hi", body="There"
        )
    with_consent(receiver, resident)
    note = resident_note_add(
        actor=receiver.user, resident=resident, organization=receiver.organization, subject="Hi", body="There"
    )
    # Another organization, even with consent, does not edit it.
    with_consent(sender, resident)
    with pytest.raises(PermissionDenied):
        resident_note_edit(actor=sender.user, note_id=note.pk, subject="Changed", body="By someone else")


def test_each_view_records_the_consent_it_was_shown_under(sides):
    sender, receiver, resident = sides
    consent = with_consent(receiver, resident)
    signed_in(receiver.user).get(reverse("residents:detail", args=[resident.pk]))
    signed_in(sender.user).get(reverse("residents:detail", args=[resident.pk]))
    full = AccessEvent.objects.get(actor=receiver.user, detail="resident detail screen (full)")
    limited = AccessEvent.objects.get(actor=sender.user, detail="resident detail screen (limited)")
    assert (full.consent_id, limited.consent_id) == (consent.pk, None)


def test_the_access_log_for_a_state_administrator_and_for_the_resident(sides):
    from kynect.accounts.models import Role
    from kynect.referrals.tests.factories import member

    _sender, receiver, resident = sides
    with_consent(receiver, resident)
    signed_in(receiver.user).get(reverse("residents:detail", args=[resident.pk]))
    url = reverse("residents:access_log", args=[resident.pk])

    admin = member(None, Role.STATE_ADMIN)
    response = signed_in(admin).get(url)
    body = response.content.decode()
    assert response.status_code == 200, response.status_code
    assert receiver.user.email in body
    assert receiver.organization.name in body
    assert AccessEvent.objects.filter(
        actor=admin, action=AccessEvent.Action.LOOKUP, detail="access log"
    ).exists()

    own = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=own)
    mine = signed_in(own).get(url).content.decode()
    assert receiver.organization.name in mine
    assert receiver.user.email not in mine

    assert signed_in(receiver.user).get(url).status_code == 403
    assert signed_in(member(None, Role.RESIDENT)).get(url).status_code == 404


def test_send_email_goes_through_the_outbox_names_the_organization_and_is_kept_on_the_timeline(sides):
    from kynect.notifications.models import OutboundMessage

    sender, receiver, resident = sides
    url = reverse("residents:detail", args=[resident.pk])
    refused = signed_in(sender.user).post(
        url, {"form": "email", "email-subject": "Hi", "email-body": "Hello"}
    )
    assert refused.status_code == 403  # the limited view: no email
    with_consent(receiver, resident)
    client = signed_in(receiver.user)
    assert "Send Email" in client.get(url).content.decode()
    client.post(url, {"form": "email", "email-subject": "Your appointment", "email-body": "Tuesday at 10."})
    message = OutboundMessage.objects.get(template="residents/staff_message")
    assert (message.recipient, message.language) == (resident.email, resident.preferred_language)
    assert receiver.organization.name in message.subject
    assert "Tuesday at 10." in message.body
    kept = ResidentNote.objects.get()
    assert (kept.kind, kept.subject) == (ResidentNote.Kind.EMAIL, "Your appointment")
    body = client.get(url).content.decode()
    assert "Your appointment" in body
    assert reverse("residents:note_edit", args=[resident.pk, kept.pk]) not in body  # an email never changes


# --- View All -----------------------------------------------------------------------------------------------


def test_the_screen_shows_the_first_five_and_view_all_shows_every_one_a_page_at_a_time(sides):
    _sender, receiver, resident = sides
    with_consent(receiver, resident)
    for number in range(30):
        resident_note_add(
            actor=receiver.user,
            resident=resident,
            organization=receiver.organization,
            subject=f"Visit {number:02d}",
            body="Talked about next steps.",
        )
    client = signed_in(receiver.user)
    screen = client.get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert screen.count("Visit ") == 5
    notes_url = reverse("residents:list", args=[resident.pk, "notes"])
    assert notes_url in screen
    first = client.get(notes_url).content.decode()
    second = client.get(notes_url + "?page=2").content.decode()
    shown = {f"Visit {n:02d}" for n in range(30) if f"Visit {n:02d}" in first}
    shown_after = {f"Visit {n:02d}" for n in range(30) if f"Visit {n:02d}" in second}
    assert (len(shown), len(shown_after)) == (25, 5)
    assert shown | shown_after == {f"Visit {n:02d}" for n in range(30)}
    household = client.get(reverse("residents:list", args=[resident.pk, "household"])).content.decode()
    assert "Mateo Reyes" in household
    programs = client.get(reverse("residents:list", args=[resident.pk, "programs"])).content.decode()
    assert "SNAP" in programs
    reads = AccessEvent.objects.filter(
        actor=receiver.user, detail__startswith="resident ", consent_id__isnull=False
    )
    assert {"resident notes", "resident household", "resident programs"} <= set(
        reads.values_list("detail", flat=True)
    )


def test_view_my_plan_shows_the_referrals_with_their_history(sides):
    _sender, receiver, resident = sides
    with_consent(receiver, resident)
    page = signed_in(receiver.user).get(reverse("residents:list", args=[resident.pk, "plan"]))
    body = page.content.decode()
    assert page.status_code == 200
    assert receiver.service.name in body
    assert "Referrals and their history" in body
    screen = signed_in(receiver.user).get(reverse("residents:detail", args=[resident.pk])).content.decode()
    assert reverse("residents:list", args=[resident.pk, "plan"]) in screen


def test_view_all_needs_the_full_view(sides):
    sender, _receiver, resident = sides
    for part in ("notes", "household", "programs", "plan"):
        page = signed_in(sender.user).get(reverse("residents:list", args=[resident.pk, part]))
        assert page.status_code == 404, part
    assert AccessEvent.objects.filter(actor=sender.user, action=AccessEvent.Action.DENIED).count() == 4
    with_consent(sender, resident)
    unknown = signed_in(sender.user).get(f"/residents/{resident.pk}/everything/")
    assert unknown.status_code == 404
