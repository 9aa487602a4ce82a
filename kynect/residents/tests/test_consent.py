"""Consent (DESIGN §5.2): requested by a signed link by text or email and answered once without signing
in; recorded in person or by phone with an attestation; revoked by the resident or recorded as revoked
by the organization; every change on the lifecycle, with its history."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from kynect.accounts.models import Role
from kynect.core import clock
from kynect.core.models import AccessEvent
from kynect.notifications.delivery import messages_deliver
from kynect.notifications.models import OutboundMessage
from kynect.notifications.sms import LocmemSmsBackend
from kynect.referrals.tests.factories import Partner, member, partner, referral, resident_input
from kynect.residents.access import Action, Decision, View, decide, resident_view
from kynect.residents.models import Consent, ConsentRequest, Resident
from kynect.residents.services import resident_find_or_create
from kynect.residents.services_consent import (
    LinkState,
    consent_record,
    consent_request_answer,
    consent_request_send,
    consent_revoke,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sides() -> tuple[Partner, Partner, Resident]:
    """A receiving partner holding a referral (no consent) for a resident, and its sender."""
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    return sender, receiver, made.resident


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def link_sent(request: ConsentRequest) -> str:
    """The link in the message as the resident receives it (the outbox keeps it masked)."""
    assert request.message is not None
    stored = OutboundMessage.objects.get(pk=request.message.pk)
    assert "hidden-until-sent" in stored.body
    messages_deliver(message_ids=[str(stored.pk)])
    body = LocmemSmsBackend.outbox[-1].body
    match = re.search(r"https?://[^/\s]+(/\S*consent/[0-9a-f-]{36}/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_a_request_by_text_is_answered_once_from_its_link(sides):
    _sender, receiver, resident = sides
    request = consent_request_send(
        actor=receiver.user, resident=resident, organization=receiver.organization, channel="text"
    )
    consent = request.consent
    assert (consent.status, consent.organization) == (Consent.Status.PROPOSED, receiver.organization)
    assert resident_view(user=receiver.user, resident=resident) == View.LIMITED
    path = link_sent(request)
    assert receiver.organization.name in LocmemSmsBackend.outbox[-1].body
    assert resident.first_name not in LocmemSmsBackend.outbox[-1].body

    # Opening the link (a mail scanner does) changes nothing.
    page = Client().get(path)
    assert page.status_code == 200
    assert receiver.organization.name in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    consent.refresh_from_db()
    assert consent.status == Consent.Status.PROPOSED

    granted = Client().post(path, {"answer": "grant"})
    assert "ya puede ver su perfil" in granted.content.decode()  # the link is in the resident's language
    consent.refresh_from_db()
    assert (consent.status, consent.channel) == (Consent.Status.ACTIVE, Consent.Channel.TEXT)
    assert [event.transition for event in consent.events.all()] == ["request", "grant"]
    assert resident_view(user=receiver.user, resident=resident) == View.FULL

    # Answered twice (or replayed): a clear page, nothing changes.
    again = Client().post(path, {"answer": "decline"})
    assert "ya fue respondido" in again.content.decode()
    consent.refresh_from_db()
    assert consent.status == Consent.Status.ACTIVE
    assert consent.events.count() == 2


def test_an_expired_a_tampered_and_a_replaced_link_say_so_and_change_nothing(sides):
    _sender, receiver, resident = sides
    first = consent_request_send(
        actor=receiver.user, resident=resident, organization=receiver.organization, channel="email"
    )
    secret = reverse_secret(first)
    tampered = reverse("residents:consent_answer", args=[first.pk, secret[:-2] + "xx"])
    response = Client().post(tampered, {"answer": "grant"})
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert Client().get(reverse("residents:consent_answer", args=[first.pk, "nonsense"])).status_code == 404

    second = consent_request_send(
        actor=receiver.admin, resident=resident, organization=receiver.organization, channel="email"
    )
    replaced = Client().post(
        reverse("residents:consent_answer", args=[first.pk, secret]), {"answer": "grant"}
    )
    assert "has expired" in replaced.content.decode()
    with time_machine.travel(clock.now() + timedelta(days=7, minutes=1)):
        late = Client().post(
            reverse("residents:consent_answer", args=[second.pk, reverse_secret(second)]), {"answer": "grant"}
        )
    assert "has expired" in late.content.decode()
    assert Consent.objects.get(pk=first.consent.pk).status == Consent.Status.PROPOSED


def reverse_secret(request: ConsentRequest) -> str:
    from kynect.residents.models import CONSENT_REQUEST_LINK

    return CONSENT_REQUEST_LINK.derive(row_id=request.pk, key=request.link_key)


def test_a_declined_request_can_be_asked_again(sides):
    _sender, receiver, resident = sides
    request = consent_request_send(
        actor=receiver.user, resident=resident, organization=receiver.organization, channel="text"
    )
    found = consent_request_answer(request_id=request.pk, secret=reverse_secret(request), answer="decline")
    assert found.state == LinkState.DONE
    assert Consent.objects.get().status == Consent.Status.REJECTED
    again = consent_request_send(
        actor=receiver.user, resident=resident, organization=receiver.organization, channel="text"
    )
    assert Consent.objects.get().status == Consent.Status.PROPOSED
    assert again.consent.events.count() == 3  # request, decline, request


def test_a_request_the_resident_cannot_receive_or_already_granted_is_refused(sides):
    _sender, receiver, resident = sides
    Resident.objects.filter(pk=resident.pk).update(mobile_phone="", preferred_contact_method="email")
    resident.refresh_from_db()
    with pytest.raises(ValidationError, match="no mobile phone"):
        consent_request_send(
            actor=receiver.user, resident=resident, organization=receiver.organization, channel="text"
        )
    assert not Consent.objects.exists()
    consent_record(
        actor=receiver.user,
        resident=resident,
        organization=receiver.organization,
        channel="in_person",
        note="Signed the form at the front desk.",
    )
    with pytest.raises(ValidationError, match="already given"):
        consent_request_send(
            actor=receiver.user, resident=resident, organization=receiver.organization, channel="email"
        )


def test_consent_given_in_person_is_attested_and_revoked_by_the_organization(sides):
    _sender, receiver, resident = sides
    with pytest.raises(ValidationError, match="attestation"):
        consent_record(
            actor=receiver.user,
            resident=resident,
            organization=receiver.organization,
            channel="phone",
            note=" ",
        )
    consent = consent_record(
        actor=receiver.user,
        resident=resident,
        organization=receiver.organization,
        channel="phone",
        note="Agreed on a call at 10:05.",
    )
    event = consent.events.get()
    assert (event.transition, event.channel, event.actor, event.note) == (
        "grant",
        "phone",
        receiver.user,
        "Agreed on a call at 10:05.",
    )
    assert resident_view(user=receiver.user, resident=resident) == View.FULL
    consent_revoke(actor=receiver.admin, consent_id=consent.pk, note="She called to withdraw it.")
    consent.refresh_from_db()
    assert consent.status == Consent.Status.INACTIVE
    # Revocation takes effect on the very next question.
    assert resident_view(user=receiver.user, resident=resident) == View.LIMITED


def test_the_resident_revokes_their_own_consent_and_nobody_else_can(sides):
    sender, receiver, resident = sides
    user = member(None, Role.RESIDENT)
    Resident.objects.filter(pk=resident.pk).update(user=user)
    resident.refresh_from_db()
    consent = consent_record(
        actor=receiver.user,
        resident=resident,
        organization=receiver.organization,
        channel="in_person",
        note="Yes.",
    )
    with pytest.raises(PermissionDenied):
        consent_revoke(actor=sender.user, consent_id=consent.pk, note="Not ours.")
    with pytest.raises(PermissionDenied):
        consent_revoke(actor=member(None, Role.RESIDENT), consent_id=consent.pk)
    consent_revoke(actor=user, consent_id=consent.pk)
    consent.refresh_from_db()
    assert consent.status == Consent.Status.INACTIVE
    assert consent.events.order_by("at", "id").reverse()[0].channel == Consent.Channel.RESIDENT


def test_the_consent_page_for_the_organization(sides):
    _sender, receiver, resident = sides
    client = signed_in(receiver.user)
    url = reverse("residents:consent", args=[resident.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Ask the resident for consent" in page.content.decode()
    assert AccessEvent.objects.filter(subject_id=str(resident.pk), actor=receiver.user).exists()

    missing = client.post(url, {"form": "record", "record-channel": "in_person", "record-note": ""})
    assert missing.status_code == 400
    assert not Consent.objects.exists()
    sent = client.post(url, {"form": "request", "request-channel": "text"}, follow=True)
    assert "The consent request was sent." in sent.content.decode()
    assert ConsentRequest.objects.count() == 1
    recorded = client.post(
        url, {"form": "record", "record-channel": "phone", "record-note": "On a call."}, follow=True
    )
    assert "The consent was recorded." in recorded.content.decode()
    assert Consent.objects.get().status == Consent.Status.ACTIVE
    revoked = client.post(url, {"form": "revoke", "revoke-note": "Asked us to stop."}, follow=True)
    assert "The consent was revoked." in revoked.content.decode()
    assert Consent.objects.get().status == Consent.Status.INACTIVE


def test_another_organizations_resident_is_not_found_and_the_denial_is_recorded(sides):
    _sender, _receiver, resident = sides
    outsider = partner()
    response = signed_in(outsider.user).get(reverse("residents:consent", args=[resident.pk]))
    assert response.status_code == 404
    assert AccessEvent.objects.filter(
        actor=outsider.user, subject_id=str(resident.pk), action=AccessEvent.Action.DENIED
    ).exists()
    # Roles that never hold an organization's consent are refused outright.
    for role in (Role.INSURANCE_AGENT, Role.STATE_ADMIN):
        assert (
            signed_in(member(None, role)).get(reverse("residents:consent", args=[resident.pk])).status_code
            == 403
        )


def test_a_sender_whose_referral_matched_a_record_they_had_not_seen_has_no_standing():
    receiver, sender, other = partner(), partner(), partner()
    existing, _ = resident_find_or_create(data=resident_input(), actor=other.user, organization=None)
    referral(sender, receiver)  # the duplicate check attaches it to `existing`
    assert decide(user=sender.user, action=Action.CONSENT_REQUEST, resident=existing) == Decision.NOT_FOUND
    assert decide(user=receiver.user, action=Action.CONSENT_REQUEST, resident=existing) == Decision.ALLOWED
