"""Notes on a resident (issue 17): written by staff of an organization holding the resident's consent,
editable by that organization for 24 hours, then kept as written."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import message_queue
from kynect.residents.access import Action, Decision, decide, staff_organization_ids
from kynect.residents.models import (
    RESIDENT_NOTE_MAX_LENGTH,
    RESIDENT_NOTE_SUBJECT_MAX_LENGTH,
    Resident,
    ResidentNote,
)

# How long the author's organization may still edit a note.
NOTE_EDITABLE_FOR = timedelta(hours=24)


def _cleaned(subject: str, body: str) -> tuple[str, str]:
    subject, body = subject.strip(), body.strip()
    errors: dict[str, list[str]] = {}
    if not subject:
        errors["subject"] = [_("Give the note a subject.")]
    elif len(subject) > RESIDENT_NOTE_SUBJECT_MAX_LENGTH:
        errors["subject"] = [_("Keep the subject under 200 characters.")]
    if not body:
        errors["body"] = [_("Write the note.")]
    elif len(body) > RESIDENT_NOTE_MAX_LENGTH:
        errors["body"] = [_("Keep the note under 4,000 characters.")]
    if errors:
        raise ValidationError(errors)
    return subject, body


@transaction.atomic
def resident_note_add(
    *, actor: User, resident: Resident, organization: Organization, subject: str, body: str
) -> ResidentNote:
    """Raises PermissionDenied unless the actor's organization holds the resident's consent, and
    ValidationError (by field) for an empty or too long subject or note; nothing is written either way."""
    if decide(user=actor, action=Action.NOTE, resident=resident) != Decision.ALLOWED:
        raise PermissionDenied
    if organization.pk not in staff_organization_ids(user=actor):
        raise PermissionDenied
    subject, body = _cleaned(subject, body)
    return ResidentNote.objects.create(
        resident=resident, organization=organization, author=actor, subject=subject, body=body
    )


def resident_note_editable(*, note: ResidentNote, user: User, now: datetime | None = None) -> bool:
    """The note's organization may edit it for 24 hours, while it still holds the resident's consent; an
    email sent is never changed."""
    now = now or clock.now()
    return (
        note.kind == ResidentNote.Kind.NOTE
        and now - note.created_at < NOTE_EDITABLE_FOR
        and note.organization_id in staff_organization_ids(user=user)
        and decide(user=user, action=Action.NOTE, resident=note.resident) == Decision.ALLOWED
    )


@transaction.atomic
def resident_note_edit(
    *, actor: User, note_id: Any, subject: str, body: str, now: datetime | None = None
) -> ResidentNote:
    now = now or clock.now()
    note = ResidentNote.objects.select_for_update().select_related("resident").filter(pk=note_id).first()
    if note is None:
        raise ResidentNote.DoesNotExist
    if note.organization_id not in staff_organization_ids(user=actor):
        raise PermissionDenied
    if not resident_note_editable(note=note, user=actor, now=now):
        raise ValidationError(
            {"body": [_("A note can be changed for 24 hours; after that it is kept as written.")]}
        )
    note.subject, note.body = _cleaned(subject, body)
    note.edited_at = now
    note.save(update_fields=["subject", "body", "edited_at", "updated_at"])
    return note


RESIDENT_EMAIL_TEMPLATE = "residents/staff_message"


@transaction.atomic
def resident_email_send(
    *, actor: User, resident: Resident, organization: Organization, subject: str, body: str
) -> ResidentNote:
    """Email the resident through the outbox, in their language, naming the organization that writes; the
    message is kept on the resident's timeline. Raises PermissionDenied without consent, ValidationError
    for a resident without an email address or an empty message."""
    if decide(user=actor, action=Action.SEND_EMAIL, resident=resident) != Decision.ALLOWED:
        raise PermissionDenied
    if organization.pk not in staff_organization_ids(user=actor):
        raise PermissionDenied
    if not resident.email:
        raise ValidationError({"body": [_("This resident has no email address on record.")]})
    subject, body = _cleaned(subject, body)
    message_queue(
        channel=OutboundMessage.Channel.EMAIL,
        recipient=resident.email,
        template=RESIDENT_EMAIL_TEMPLATE,
        context={"organization": organization.name, "subject": subject, "body": body},
        language=resident.preferred_language,
    )
    return ResidentNote.objects.create(
        resident=resident,
        kind=ResidentNote.Kind.EMAIL,
        organization=organization,
        author=actor,
        subject=subject,
        body=body,
    )
