"""Writes of consent (DESIGN §5.2): requested by a signed link sent by text or email, answered by the
resident without signing in; recorded in person or by phone with the staff member's attestation;
revoked by the resident, or recorded as revoked by the organization. Every change is a transition of
`lifecycles.CONSENT`, with its event; revocation takes effect on the next request because every page,
export and API call asks `access.decide`, which reads the consent afresh."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.notifications.delivery import send_time_context_register
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import message_queue
from kynect.residents.access import Action, Decision, decide, staff_organization_ids
from kynect.residents.lifecycles import CONSENT
from kynect.residents.models import CONSENT_REQUEST_LINK, Consent, ConsentEvent, ConsentRequest, Resident
from kynect.residents.part2 import PART2_LONGEST, PART2_SHARES

# How long a consent request's link works (issue: "a signed, expiring link (7 days)").
CONSENT_REQUEST_LIFETIME = timedelta(days=7)
CONSENT_REQUEST_TEMPLATE = "residents/consent_request"
# What the outbox keeps in place of the link's secret, put in only when the message is sent.
MASKED_SECRET = "hidden-until-sent"  # noqa: S105  (not a secret: what stands in for one)
ATTESTATION_MAX_LENGTH = 500
PURPOSE_MAX_LENGTH = 300


def _require(decision: Decision) -> None:
    if decision != Decision.ALLOWED:
        raise PermissionDenied


def _staff_organization(actor: User, organization: Organization) -> None:
    if organization.pk not in staff_organization_ids(user=actor):
        raise PermissionDenied


@dataclass(frozen=True)
class Part2Terms:
    """What a 42 CFR Part 2 consent names besides its recipient (§2.31): why, what, until when."""

    purpose: str
    expires_at: datetime


def part2_terms_check(*, purpose: str, expires_at: datetime | None, now: datetime) -> Part2Terms:
    """The terms of a Part 2 consent, or ValidationError (by field) saying what is missing."""
    errors: dict[str, list[str]] = {}
    purpose = purpose.strip()
    if not purpose:
        errors["purpose"] = [_("Say why your organization needs these records.")]
    elif len(purpose) > PURPOSE_MAX_LENGTH:
        errors["purpose"] = [_("Keep the purpose under 300 characters.")]
    if expires_at is None:
        errors["expires_at"] = [_("Give the date this consent ends.")]
    elif expires_at <= now:
        errors["expires_at"] = [_("The consent must end after today.")]
    elif expires_at > now + PART2_LONGEST + timedelta(days=1):  # the last day is a whole day
        errors["expires_at"] = [_("A Part 2 consent may last one year at most.")]
    if errors:
        raise ValidationError(errors)
    assert expires_at is not None
    return Part2Terms(purpose=purpose, expires_at=expires_at)


def _consent_for(
    *,
    resident: Resident,
    organization: Organization,
    channel: str,
    actor: User,
    terms: Part2Terms | None,
    now: datetime,
) -> Consent:
    """The organization's consent of this kind (general, or Part 2 with `terms`), made proposed if it has
    none; a Part 2 consent past its expiry is marked so first. Terms are the new request's."""
    kind = Consent.Kind.GENERAL if terms is None else Consent.Kind.PART2
    defaults: dict[str, Any] = {"channel": channel, "recorded_by": actor}
    if terms is not None:
        defaults |= {"purpose": terms.purpose, "expires_at": terms.expires_at, "shares": str(PART2_SHARES)}
    consent, created = Consent.objects.get_or_create(
        resident=resident, organization=organization, kind=kind, defaults=defaults
    )
    if consent.status == Consent.Status.ACTIVE and not consent.in_force(now):
        CONSENT.apply("expire", instance=consent, now=now, event={"from_status": consent.status})
    if consent.status == Consent.Status.ACTIVE:
        raise ValidationError({"channel": [_("This resident has already given your organization consent.")]})
    if terms is not None and not created:
        consent.purpose, consent.expires_at, consent.shares = (
            terms.purpose,
            terms.expires_at,
            str(PART2_SHARES),
        )
        consent.save(update_fields=["purpose", "expires_at", "shares", "updated_at"])
    return consent


def _requests_close(consent: Consent, now: datetime) -> None:
    """Earlier links of this consent stop working: only the newest request can be answered."""
    ConsentRequest.objects.filter(consent=consent, answered_at__isnull=True, expires_at__gt=now).update(
        expires_at=now, link_key="", updated_at=now
    )


# --- Requested by a link ---------------------------------------------------------------------------------


@transaction.atomic
def consent_request_send(
    *,
    actor: User,
    resident: Resident,
    organization: Organization,
    channel: str,
    part2: Part2Terms | None = None,
    now: datetime | None = None,
) -> ConsentRequest:
    """Ask the resident, by text or email, to let `organization` see their record (a general consent), or
    with `part2` terms their 42 CFR Part 2 data (a Part 2 consent). Raises ValidationError (by field) when
    the resident cannot be reached that way or already consented, PermissionDenied when the actor may not
    ask; nothing is written either way. The message names only the organization, never what it asks
    for: whoever sees the resident's phone learns nothing about them."""
    now = now or clock.now()
    _require(decide(user=actor, action=Action.CONSENT_REQUEST, resident=resident))
    _staff_organization(actor, organization)
    if channel == Consent.Channel.TEXT and not resident.mobile_phone:
        raise ValidationError({"channel": [_("This resident has no mobile phone number on record.")]})
    if channel == Consent.Channel.EMAIL and not resident.email:
        raise ValidationError({"channel": [_("This resident has no email address on record.")]})
    if channel not in (Consent.Channel.TEXT, Consent.Channel.EMAIL):
        raise ValidationError({"channel": [_("Choose text message or email.")]})
    consent = _consent_for(
        resident=resident, organization=organization, channel=channel, actor=actor, terms=part2, now=now
    )
    if consent.status != Consent.Status.PROPOSED:
        CONSENT.apply(
            "request",
            instance=consent,
            now=now,
            values={"channel": channel, "recorded_by": actor},
            event={"from_status": consent.status, "channel": channel, "actor": actor},
        )
    else:
        ConsentEvent.objects.create(
            consent=consent,
            transition="request",
            to_status=consent.status,
            channel=channel,
            at=now,
            actor=actor,
        )
    _requests_close(consent, now)
    request = ConsentRequest(
        id=uuid.uuid4(),
        consent=consent,
        channel=channel,
        requested_by=actor,
        expires_at=now + CONSENT_REQUEST_LIFETIME,
    )
    request.link_key, _secret, request.token_hash = CONSENT_REQUEST_LINK.issue(row_id=request.pk)
    language = resident.preferred_language or settings.LANGUAGE_CODE
    request.message = message_queue(
        channel=OutboundMessage.Channel.SMS
        if channel == Consent.Channel.TEXT
        else OutboundMessage.Channel.EMAIL,
        recipient=resident.mobile_phone if channel == Consent.Channel.TEXT else resident.email,
        template=CONSENT_REQUEST_TEMPLATE,
        context=consent_request_context(
            request=request, organization=organization, secret=None, language=language
        ),
        language=language,
    )
    request.save(force_insert=True)
    return request


def consent_request_link(*, request: ConsentRequest, secret: str, language: str) -> str:
    with translation.override(language):
        return settings.SITE_URL + reverse(
            "residents:consent_answer", kwargs={"request_id": request.pk, "secret": secret}
        )


def consent_request_context(
    *, request: ConsentRequest, organization: Organization, secret: str | None, language: str
) -> dict[str, Any]:
    """The message names the organization asking and where to answer; never the resident's details.
    Without a secret, the link is masked (what the outbox stores)."""
    return {
        "organization": organization.name,
        "link": consent_request_link(request=request, secret=secret or MASKED_SECRET, language=language),
        "days": CONSENT_REQUEST_LIFETIME.days,
    }


@send_time_context_register(CONSENT_REQUEST_TEMPLATE)
def _consent_request_send_time_context(message: OutboundMessage) -> dict[str, Any] | None:
    """The real link, or None (the message is withdrawn) once the request was answered or replaced."""
    request = (
        ConsentRequest.objects.filter(
            message_id=message.pk, answered_at__isnull=True, expires_at__gt=clock.now()
        )
        .select_related("consent__organization")
        .first()
    )
    if request is None or not request.link_key:
        return None
    secret = CONSENT_REQUEST_LINK.derive(row_id=request.pk, key=request.link_key)
    return consent_request_context(
        request=request, organization=request.consent.organization, secret=secret, language=message.language
    )


class LinkState(enum.Enum):
    OPEN = "open"  # may be answered
    DONE = "done"  # answered just now, by this request
    ANSWERED = "answered"  # answered before
    EXPIRED = "expired"  # past its 7 days, or replaced by a newer request
    INVALID = "invalid"  # no such request, or the secret does not match (a tampered or mistyped link)


@dataclass(frozen=True)
class LinkFound:
    state: LinkState
    request: ConsentRequest | None


def consent_request_find(*, request_id: Any, secret: str, now: datetime | None = None) -> LinkFound:
    """The request a link names, and whether it can still be answered. Changes nothing (mail scanners
    open links before people do)."""
    now = now or clock.now()
    try:
        request = (
            ConsentRequest.objects.select_related("consent__organization", "consent__resident")
            .filter(pk=request_id)
            .first()
        )
    except (ValidationError, ValueError):
        request = None
    if request is None or not CONSENT_REQUEST_LINK.matches(
        row_id=request.pk, secret=secret, stored_hash=request.token_hash
    ):
        return LinkFound(LinkState.INVALID, None)
    if request.answered_at is not None:
        return LinkFound(LinkState.ANSWERED, request)
    if request.expires_at <= now:
        return LinkFound(LinkState.EXPIRED, request)
    return LinkFound(LinkState.OPEN, request)


@transaction.atomic
def consent_request_answer(
    *, request_id: Any, secret: str, answer: str, signature: str = "", now: datetime | None = None
) -> LinkFound:
    """The resident's answer (grant or decline) through the link: taken once, by a conditional update,
    while the link is open; anything else changes nothing and says why. Granting a Part 2 consent takes
    the resident's signature (the name they type: 42 CFR §2.31(a)(8))."""
    now = now or clock.now()
    if answer not in ConsentRequest.Answer.values:
        raise ValidationError({"answer": [_("Choose Grant or Decline.")]})
    found = consent_request_find(request_id=request_id, secret=secret, now=now)
    if found.state != LinkState.OPEN or found.request is None:
        return found
    request = found.request
    signature = signature.strip()
    part2 = request.consent.kind == Consent.Kind.PART2
    if part2 and answer == ConsentRequest.Answer.GRANT and not signature:
        raise ValidationError({"signature": [_("Type your full name to sign this consent.")]})
    if part2 and request.consent.expires_at is not None and request.consent.expires_at <= now:
        # The terms asked for have run out before the answer: the organization must ask again.
        return LinkFound(LinkState.EXPIRED, request)
    taken = ConsentRequest.objects.filter(pk=request.pk, answered_at__isnull=True, expires_at__gt=now).update(
        answered_at=now, answer=answer, link_key="", updated_at=now
    )
    if not taken:
        return consent_request_find(request_id=request_id, secret=secret, now=now)
    consent = request.consent
    event = {"from_status": consent.status, "channel": request.channel, "actor": None}
    if answer == ConsentRequest.Answer.GRANT:
        CONSENT.apply(
            "grant",
            instance=consent,
            now=now,
            values={"channel": request.channel, "revoked_at": None, "signature": signature if part2 else ""},
            event=event,
        )
    else:
        CONSENT.apply("decline", instance=consent, now=now, event=event)
    request.answered_at, request.answer = now, answer
    return LinkFound(LinkState.DONE, request)


# --- Recorded by staff, revoked ---------------------------------------------------------------------------

RECORDED_CHANNELS = (Consent.Channel.IN_PERSON, Consent.Channel.PHONE)


def _attestation(note: str) -> str:
    note = note.strip()
    if not note:
        raise ValidationError({"note": [_("Say how the resident gave their answer (your attestation).")]})
    if len(note) > ATTESTATION_MAX_LENGTH:
        raise ValidationError({"note": [_("Keep the note under 500 characters.")]})
    return note


@transaction.atomic
def consent_record(
    *,
    actor: User,
    resident: Resident,
    organization: Organization,
    channel: str,
    note: str,
    part2: Part2Terms | None = None,
    now: datetime | None = None,
) -> Consent:
    """Consent the resident gave in person or by phone, attested by the staff member who recorded it
    (who and when are the event's, how its channel, and their note). A Part 2 consent (`part2` terms)
    is written and signed (42 CFR §2.31), so only in person, the note saying where the signed form is."""
    now = now or clock.now()
    _require(decide(user=actor, action=Action.CONSENT_RECORD, resident=resident))
    _staff_organization(actor, organization)
    if channel not in RECORDED_CHANNELS:
        raise ValidationError({"channel": [_("Choose in person or by phone.")]})
    if part2 is not None and channel != Consent.Channel.IN_PERSON:
        raise ValidationError({"channel": [_("A Part 2 consent is signed in writing: record it in person.")]})
    note = _attestation(note)
    consent = _consent_for(
        resident=resident, organization=organization, channel=channel, actor=actor, terms=part2, now=now
    )
    CONSENT.apply(
        "grant",
        instance=consent,
        now=now,
        values={"channel": channel, "recorded_by": actor, "note": note, "revoked_at": None},
        event={"from_status": consent.status, "channel": channel, "actor": actor, "note": note},
    )
    _requests_close(consent, now)
    return consent


@transaction.atomic
def consent_revoke(*, actor: User, consent_id: Any, note: str = "", now: datetime | None = None) -> Consent:
    """End a consent: the resident themselves, or a staff member of the organization recording the
    resident's wish (with a note saying how it was expressed). Takes effect on the next request."""
    now = now or clock.now()
    consent = Consent.objects.select_related("resident", "organization").filter(pk=consent_id).first()
    if consent is None:
        raise Consent.DoesNotExist
    if decide(user=actor, action=Action.CONSENT_REVOKE, resident=consent.resident) == Decision.FORBIDDEN:
        raise PermissionDenied
    by_resident = consent.resident.user_id is not None and consent.resident.user_id == actor.pk
    if not (by_resident or consent.organization_id in staff_organization_ids(user=actor)):
        raise PermissionDenied
    if consent.status != Consent.Status.ACTIVE:
        raise ValidationError({"consent": [_("This consent is not active.")]})
    if not by_resident:
        note = _attestation(note)
    channel = Consent.Channel.RESIDENT if by_resident else ""
    if not CONSENT.apply(
        "revoke",
        instance=consent,
        now=now,
        event={"from_status": consent.status, "channel": channel, "actor": actor, "note": note},
    ):
        raise ValidationError({"consent": [_("This consent is not active.")]})
    return consent


@transaction.atomic
def consent_grant_by_resident(*, actor: User, consent_id: Any, now: datetime | None = None) -> Consent:
    """The resident, signed in, grants a consent an organization asked for (or one they declined or
    revoked before), from My Plan."""
    now = now or clock.now()
    consent = Consent.objects.select_related("resident").filter(pk=consent_id).first()
    if consent is None:
        raise Consent.DoesNotExist
    if decide(user=actor, action=Action.CONSENT_REVOKE, resident=consent.resident) != Decision.ALLOWED or (
        consent.resident.user_id != actor.pk
    ):
        raise PermissionDenied
    if consent.status == Consent.Status.ACTIVE:
        raise ValidationError({"consent": [_("This consent is already granted.")]})
    signature = ""
    if consent.kind == Consent.Kind.PART2:
        # Signed in, the resident's Grant is their electronic signature, in the name on their record.
        if consent.expires_at is None or consent.expires_at <= now:
            raise ValidationError(
                {"consent": [_("This request has ended. Ask the organization to send it again.")]}
            )
        signature = f"{consent.resident.first_name} {consent.resident.last_name}".strip()
    CONSENT.apply(
        "grant",
        instance=consent,
        now=now,
        values={"channel": Consent.Channel.RESIDENT, "revoked_at": None, "signature": signature},
        event={"from_status": consent.status, "channel": Consent.Channel.RESIDENT, "actor": actor},
    )
    _requests_close(consent, now)
    return consent
