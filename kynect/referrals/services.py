"""Writes for closed-loop referrals (DESIGN §5.1): making one, the receiving organization's and the
sender's actions, notes, and the referral specialists' outreach and expiry.

Every status change is a transition of `lifecycles.REFERRAL`, conditional on the status the user saw: of
two people acting at once, one wins and the other gets `ReferralChangedError` ("this referral
changed"), with nothing written. Messages go to the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.core.sdoh import SdohDomain
from kynect.directory.models import Service
from kynect.directory.selectors import service_in_category
from kynect.referrals import messages
from kynect.referrals.access import Action, Decision, decide, user_organization_ids
from kynect.referrals.lifecycles import REFERRAL
from kynect.referrals.models import (
    NOTE_MAX_LENGTH,
    ClosureReason,
    OutreachAttempt,
    Referral,
    ReferralEvent,
    ReferralNote,
)
from kynect.referrals.signals import referral_reopened
from kynect.residents.models import Resident
from kynect.residents.part2 import PART2_CATEGORY, PART2_DOMAINS
from kynect.residents.services import (
    ResidentInput,
    consent_grant_pre_consent,
    resident_find_or_create,
    resident_input_clean,
    resident_of_account,
)

OUTREACH_AFTER = timedelta(days=7)
EXPIRABLE_AFTER = timedelta(days=14)


class ReferralChangedError(Exception):
    """Someone else changed the referral since the user saw it; nothing was written."""

    def __init__(self, referral: Referral) -> None:
        super().__init__(_("This referral changed while you were looking at it. Here it is as it is now."))
        self.referral = referral


class ActionNotAllowedError(Exception):
    """The referral's state does not allow the action (the API's 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _require(decision: Decision) -> None:
    if decision == Decision.NOT_FOUND:
        raise Referral.DoesNotExist
    if decision != Decision.ALLOWED:
        raise PermissionDenied


def _receiving_organization(service: Service) -> Organization | None:
    return Organization.objects.filter(hsds_organization_id=service.organization_id).first()


@dataclass(frozen=True)
class ReferralInput:
    service_id: Any
    need: str
    note: str = ""
    urgency: str = Referral.Urgency.ROUTINE
    pre_consent: bool = False
    resident: ResidentInput | None = None
    resident_id: Any = None


@dataclass(frozen=True)
class ReferralCreated:
    referral: Referral
    # The resident already had a record (the referral was attached to it; nothing of it is shown).
    resident_matched: bool
    # The receiving organization has not completed onboarding: a specialist follows it up.
    receiver_not_onboarded: bool


def _input_errors(data: ReferralInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.need not in SdohDomain.values:
        errors["need"] = [_("Choose the need this referral is for.")]
    if data.urgency not in Referral.Urgency.values:
        errors["urgency"] = [_("Choose routine or urgent.")]
    if len(data.note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("Keep the note under %(count)s characters.") % {"count": NOTE_MAX_LENGTH}]
    if (data.resident is None) == (data.resident_id is None):
        errors["resident"] = [_("Give the resident's details, or choose a resident.")]
    return errors


def _sending_organization(actor: User, organization: Organization | None) -> Organization | None:
    mine = user_organization_ids(user=actor)
    if organization is not None:
        if organization.pk not in mine:
            raise PermissionDenied
        return organization
    if not mine:
        return None  # a resident for themselves
    return Organization.objects.filter(pk__in=mine).order_by("name").first()


def _as_typed(data: ResidentInput) -> dict[str, str]:
    """What the sender typed that identifies and reaches the resident (Referral.resident_as_typed)."""
    cleaned = resident_input_clean(data, today=clock.now().date())
    return {
        "first_name": cleaned.first_name,
        "last_name": cleaned.last_name,
        "birth_date": cleaned.birth_date.isoformat(),
        "mobile_phone": cleaned.mobile_phone,
        "email": cleaned.email,
        "postal_code": cleaned.postal_code,
        "preferred_contact_method": cleaned.preferred_contact_method,
        "preferred_language": cleaned.preferred_language,
    }


def referral_is_part2(*, need: str, service_id: Any) -> bool:
    """Whether a referral holds 42 CFR Part 2 data: its need is in a Part 2 domain, or its service is
    filed under the Part 2 category (`kynect.residents.part2`)."""
    return need in PART2_DOMAINS or service_in_category(service_id=service_id, slug=PART2_CATEGORY)


@transaction.atomic
def referral_create(
    *, actor: User, data: ReferralInput, organization: Organization | None = None, now: datetime | None = None
) -> ReferralCreated:
    """Make a referral from `organization` (the actor's; their first by name if not given) to the
    organization of the service, for a resident found or made by the duplicate check.

    Raises ValidationError (by field) for bad input, PermissionDenied for someone who may not refer,
    with nothing written either way.
    """
    now = now or clock.now()
    _require(decide(user=actor, action=Action.CREATE))
    errors = _input_errors(data)
    service = None
    try:
        service = Service.objects.select_related("organization").get(pk=data.service_id, status="active")
    except (Service.DoesNotExist, ValidationError, ValueError):
        errors["service_id"] = [_("This service is not in the directory.")]
    if errors:
        raise ValidationError(errors)
    assert service is not None
    sender = _sending_organization(actor, organization)
    as_typed: dict[str, str] = {}
    if sender is None:
        # A resident refers themselves, with their own record.
        resident = Resident.objects.filter(user=actor).first()
        if resident is None and data.resident is not None:
            resident = resident_of_account(user=actor, data=data.resident)
        if resident is None or data.resident_id not in (None, resident.pk):
            raise ValidationError({"resident": [_("Complete your profile before you ask for a referral.")]})
        matched = False
    elif data.resident is not None:
        resident, matched = resident_find_or_create(data=data.resident, actor=actor, organization=sender)
        if matched:
            as_typed = _as_typed(data.resident)
    else:
        resident = _resident_for(actor=actor, resident_id=data.resident_id)
        matched = True
    receiver = _receiving_organization(service)
    onboarded = receiver is not None and receiver.onboarded_at is not None
    referral = Referral(
        resident=resident,
        service=service,
        receiving_listing=service.organization,
        receiving_organization=receiver,
        sending_organization=sender,
        created_by=actor,
        need=data.need,
        county_fips=resident.county_fips,
        note=data.note.strip(),
        resident_as_typed=as_typed,
        urgency=data.urgency,
        part2=referral_is_part2(need=data.need, service_id=service.pk),
        receiver_onboarded=onboarded,
        outreach_due_at=now + OUTREACH_AFTER,
        expiry_due_at=None if onboarded else now + EXPIRABLE_AFTER,
    )
    referral.full_clean(
        exclude=["resident", "service", "receiving_listing", "created_by"], validate_constraints=False
    )
    referral.save(force_insert=True)
    ReferralEvent.objects.create(
        referral=referral,
        transition="create",
        to_status=referral.status,
        at=now,
        actor=actor,
        organization=sender,
    )
    if data.pre_consent and receiver is not None:
        consent_grant_pre_consent(resident=resident, organization=receiver, actor=actor, now=now)
    if receiver is not None:
        messages.referral_received_notify(referral=referral)
    return ReferralCreated(referral=referral, resident_matched=matched, receiver_not_onboarded=not onboarded)


def _resident_for(*, actor: User, resident_id: Any) -> Resident:
    from kynect.referrals.selectors import resident_referable

    resident = resident_referable(user=actor, resident_id=resident_id)
    if resident is None:
        raise ValidationError({"resident_id": [_("There is no such resident.")]})
    return resident


# --- Acting on a referral ----------------------------------------------------------------------------

_TRANSITION_OF = {
    Action.ACCEPT: "accept",
    Action.START: "start",
    Action.HOLD: "hold",
    Action.REJECT: "reject",
    Action.CANCEL: "cancel",
    Action.REOPEN: "reopen",
}
REASON_REQUIRED = {Action.HOLD, Action.REJECT, Action.REOPEN}


@dataclass(frozen=True)
class Closure:
    experience: str
    resource_provided: bool | None
    reason: str = ""


def closure_errors(closure: Closure) -> dict[str, list[str]]:
    """The closing form's rules (the resources overview's "Tell us about your experience")."""
    errors: dict[str, list[str]] = {}
    if closure.experience not in Referral.Experience.values:
        errors["experience"] = [_("Tell us how your experience with the resident was.")]
    if closure.resource_provided is None:
        errors["resource_provided"] = [_("Say whether the resource was provided.")]
    elif closure.resource_provided and closure.reason:
        errors["reason"] = [_("Leave the reason empty when the resource was provided.")]
    elif not closure.resource_provided and closure.reason not in ClosureReason.values:
        errors["reason"] = [_("Choose the reason it was not provided.")]
    return errors


def referral_allowed_actions(*, user: User, referral: Referral) -> list[Action]:
    """The actions the user may take on the referral in its current state."""
    possible = {
        Action.ACCEPT: "accept",
        Action.START: "start",
        Action.HOLD: "hold",
        Action.RESUME: "resume",
        Action.REJECT: "reject",
        Action.CANCEL: "cancel",
        Action.CLOSE: "complete",
        Action.REOPEN: "reopen",
    }
    return [
        action
        for action, transition in possible.items()
        if referral.status in REFERRAL[transition].sources
        and decide(user=user, action=action, referral=referral) == Decision.ALLOWED
    ]


@transaction.atomic
def referral_act(
    *,
    actor: User,
    referral_id: Any,
    action: Action,
    seen_status: str | None = None,
    reason: str = "",
    closure: Closure | None = None,
    now: datetime | None = None,
) -> Referral:
    """Take `action` on the referral. `seen_status` is the status the user saw (the page's form carries
    it); without it, the current one. Raises Referral.DoesNotExist (not theirs), PermissionDenied,
    ValidationError (a missing reason, a bad closure), ActionNotAllowedError (the state does not allow
    it) or ReferralChangedError."""
    now = now or clock.now()
    referral = Referral.objects.select_related("resident").filter(pk=referral_id).first()
    if referral is None:
        raise Referral.DoesNotExist
    _require(decide(user=actor, action=action, referral=referral))
    seen = seen_status or referral.status
    reason = reason.strip()
    if action in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": [_("Give a reason.")]})
    if len(reason) > 500:
        raise ValidationError({"reason": [_("Keep the reason under 500 characters.")]})
    organization = _acting_organization(actor, referral, action)
    event: dict[str, Any] = {
        "actor": actor,
        "organization": organization,
        "from_status": seen,
        "detail": reason,
    }
    if action == Action.CLOSE:
        if closure is None:
            raise ValidationError({"resource_provided": [_("Say whether the resource was provided.")]})
        errors = closure_errors(closure)
        if errors:
            raise ValidationError(errors)
        transition = "complete" if closure.resource_provided else "fail"
        values: dict[str, Any] = {
            "experience": closure.experience,
            "not_provided_reason": closure.reason,
            "closed_by": actor,
        }
        if closure.reason:
            event["detail"] = closure.reason  # a code, shown in the reader's language
    elif action == Action.RESUME:
        transition, values = "resume", {}
    elif action in _TRANSITION_OF:
        transition = _TRANSITION_OF[action]
        values = {"status_reason": reason} if reason else {}
    else:
        raise ValueError(action)
    if seen not in REFERRAL[transition].sources:
        if referral.status != seen:
            raise ReferralChangedError(referral)
        raise ActionNotAllowedError(
            _("A referral that is %(status)s cannot be changed that way.")
            % {"status": referral.get_status_display()}
        )
    closed_before = referral.closed_at
    if not REFERRAL.apply(
        transition, instance=referral, now=now, where=Q(status=seen), values=values, event=event
    ):
        referral.refresh_from_db()
        raise ReferralChangedError(referral)
    if transition == "reopen":
        referral_reopened.send(sender=Referral, referral_id=referral.pk, closed_at=closed_before, now=now)
    messages.referral_changed_notify(referral=referral, transition=transition, actor=actor)
    return referral


def _acting_organization(actor: User, referral: Referral, action: Action) -> Organization | None:
    mine = user_organization_ids(user=actor)
    for organization_id in (referral.receiving_organization_id, referral.sending_organization_id):
        if organization_id is not None and organization_id in mine:
            return Organization.objects.get(pk=organization_id)
    return None


@transaction.atomic
def referral_note_add(
    *, actor: User, referral_id: Any, body: str, now: datetime | None = None
) -> ReferralNote:
    now = now or clock.now()
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None:
        raise Referral.DoesNotExist
    _require(decide(user=actor, action=Action.NOTE, referral=referral))
    body = body.strip()
    if not body:
        raise ValidationError({"body": [_("Write the note.")]})
    if len(body) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"body": [_("Keep the note under %(count)s characters.") % {"count": NOTE_MAX_LENGTH}]}
        )
    note = ReferralNote.objects.create(
        referral=referral,
        author=actor,
        organization=_acting_organization(actor, referral, Action.NOTE),
        body=body,
    )
    ReferralEvent.objects.create(
        referral=referral, transition="note", at=now, actor=actor, organization=note.organization
    )
    return note


# --- Referral specialists ----------------------------------------------------------------------------


@transaction.atomic
def outreach_attempt_log(
    *, actor: User, referral_id: Any, target: str, channel: str, result: str, note: str = ""
) -> OutreachAttempt:
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None:
        raise Referral.DoesNotExist
    _require(decide(user=actor, action=Action.OUTREACH, referral=referral))
    attempt = OutreachAttempt(
        referral=referral, specialist=actor, target=target, channel=channel, result=result, note=note.strip()
    )
    attempt.full_clean(exclude=["referral", "specialist"])
    attempt.save()
    ReferralEvent.objects.create(
        referral=referral,
        transition="outreach",
        at=clock.now(),
        actor=actor,
        detail=f"{attempt.target}:{attempt.result}",
    )
    return attempt


@transaction.atomic
def referral_outcome_confirm(*, actor: User, referral_id: Any, now: datetime | None = None) -> Referral:
    now = now or clock.now()
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None:
        raise Referral.DoesNotExist
    _require(decide(user=actor, action=Action.OUTREACH, referral=referral))
    if referral.closed_at is None:
        raise ActionNotAllowedError(_("Only a closed referral's outcome can be confirmed."))
    Referral.objects.filter(pk=referral.pk, outcome_confirmed_at__isnull=True).update(
        outcome_confirmed_at=now, updated_at=now
    )
    ReferralEvent.objects.create(referral=referral, transition="outcome_confirmed", at=now, actor=actor)
    referral.refresh_from_db()
    return referral


@transaction.atomic
def referrals_expire(*, actor: User, referral_ids: list[Any], now: datetime | None = None) -> int:
    """Close open referrals to organizations not onboarded, 14 days old or more, as cancelled with
    reason Expired (one or many); returns how many were closed. Others are left as they are."""
    now = now or clock.now()
    _require(decide(user=actor, action=Action.EXPIRE))
    due = Referral.objects.filter(pk__in=referral_ids, receiver_onboarded=False, expirable_at__isnull=False)
    closed = REFERRAL.apply_all(
        "expire",
        queryset=due,
        now=now,
        values={"closed_by": actor},
        event={"actor": actor, "detail": ClosureReason.EXPIRED},
    )
    return closed


# --- Deadlines (the worker's sweeps, DESIGN §5.6) -----------------------------------------------------


def referrals_outreach_sweep(*, now: datetime) -> int:
    """Open referrals 7 days old: flagged for a specialist's outreach to the receiving partner."""
    return Referral.objects.filter(
        outreach_flagged_at__isnull=True, outreach_due_at__lte=now, status__in=Referral.OPEN_STATUSES
    ).update(outreach_flagged_at=now, updated_at=now)


def referrals_expiry_sweep(*, now: datetime) -> int:
    """Open referrals to organizations not onboarded, 14 days old: a specialist may close them."""
    return Referral.objects.filter(
        expirable_at__isnull=True, expiry_due_at__lte=now, status__in=Referral.OPEN_STATUSES
    ).update(expirable_at=now, updated_at=now)


def referrals_resident_erasing(*, resident_ids: list[Any], **_kwargs: Any) -> None:
    """Retention erases these residents: what referrals keep about them in free text goes too (the note,
    what a sender typed, notes, outreach notes, reasons typed); statuses, needs and outcomes stay."""
    referrals = Referral.objects.filter(resident_id__in=resident_ids)
    referrals.update(note="", resident_as_typed={}, status_reason="")
    ReferralNote.objects.filter(referral__in=referrals).delete()
    OutreachAttempt.objects.filter(referral__in=referrals).update(note="")
    ReferralEvent.objects.filter(referral__in=referrals, transition__in=("hold", "reject", "cancel")).update(
        detail=""
    )
