"""Reads for referrals: the organizations' Inbox and Outbox, a referral with its timeline, and the
referral specialists' workspace. Pages read a resident's details through `kynect.core.audit`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet

from kynect.referrals.access import user_organization_ids
from kynect.referrals.models import Referral
from kynect.residents.access import ORGANIZATION_ROLES, Standing, View, referral_party_q, standings
from kynect.residents.models import Resident
from kynect.residents.part2 import part2_unlocked
from kynect.residents.sections import Section


@dataclass(frozen=True)
class BoxFilters:
    box: str = ""  # Referral.Box: new, in_progress, closed
    need: str = ""
    urgency: str = ""
    created_from: date | None = None
    created_to: date | None = None


def _filtered(referrals: QuerySet[Referral], filters: BoxFilters) -> QuerySet[Referral]:
    if filters.box in Referral.BOX_STATUSES:
        referrals = referrals.filter(status__in=Referral.BOX_STATUSES[filters.box])
    if filters.need:
        referrals = referrals.filter(need=filters.need)
    if filters.urgency:
        referrals = referrals.filter(urgency=filters.urgency)
    if filters.created_from:
        referrals = referrals.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        referrals = referrals.filter(created_at__date__lte=filters.created_to)
    return referrals


def referrals_box(*, organization_id: Any, outbox: bool, filters: BoxFilters) -> QuerySet[Referral]:
    """An organization's Inbox (received) or Outbox (sent), newest first, with what a row shows."""
    side = (
        Q(sending_organization_id=organization_id) if outbox else Q(receiving_organization_id=organization_id)
    )
    return _filtered(
        Referral.objects.filter(side).select_related(
            "resident", "service", "receiving_listing", "receiving_organization", "sending_organization"
        ),
        filters,
    ).order_by("-created_at", "-id")


def referrals_box_counts(*, organization_id: Any, outbox: bool, filters: BoxFilters) -> dict[str, int]:
    """New, In Progress and Closed counts of the box (with the other filters applied)."""
    side = (
        Q(sending_organization_id=organization_id) if outbox else Q(receiving_organization_id=organization_id)
    )
    rows = (
        _filtered(
            Referral.objects.filter(side),
            BoxFilters(
                need=filters.need,
                urgency=filters.urgency,
                created_from=filters.created_from,
                created_to=filters.created_to,
            ),
        )
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, int] = dict.fromkeys(Referral.BOX_STATUSES, 0)
    for row in rows:
        for box, statuses in Referral.BOX_STATUSES.items():
            if row["status"] in statuses:
                counts[box] += row["n"]
    return counts


def referral_with_timeline(*, referral_id: Any) -> Referral | None:
    return (
        Referral.objects.select_related(
            "resident",
            "service",
            "receiving_listing",
            "receiving_organization",
            "sending_organization",
            "created_by",
        )
        .prefetch_related("events__actor", "events__organization", "notes__author", "outreach__specialist")
        .filter(pk=referral_id)
        .first()
    )


def resident_referable(*, user: Any, resident_id: Any) -> Resident | None:
    """An existing resident the user may refer: one with whom their organization has a referral or a
    consent standing (`kynect.residents.access.standings`, DESIGN §5.2); None for any other."""

    try:
        resident = Resident.objects.filter(pk=resident_id).first()
    except (ValidationError, ValueError):
        return None
    if resident is None:
        return None
    held = standings(user=user, resident=resident, roles=ORGANIZATION_ROLES)
    return resident if held & {Standing.CONSENT, Standing.REFERRAL} else None


def resident_shown(*, referral: Referral, user: Any) -> Resident:
    """The resident as `user` may see them on this referral. The sending side of a referral the
    duplicate check attached to an existing record sees what it typed (`Referral.resident_as_typed`,
    an unsaved record with the real one's id), never the record (DESIGN §5.2); everyone else the record."""

    typed = referral.resident_as_typed
    if not typed:
        return referral.resident
    organizations = user_organization_ids(user=user)
    sender = referral.sending_organization_id in organizations
    if not sender or referral.receiving_organization_id in organizations:
        return referral.resident
    return Resident(
        pk=referral.resident_id,
        first_name=typed["first_name"],
        last_name=typed["last_name"],
        birth_date=date.fromisoformat(typed["birth_date"]),
        mobile_phone=typed.get("mobile_phone", ""),
        email=typed.get("email", ""),
        postal_code=typed.get("postal_code", ""),
        preferred_contact_method=typed.get("preferred_contact_method", ""),
        preferred_language=typed.get("preferred_language", "en"),
        state_province="",
    )


def resident_of_user(*, user: Any) -> Resident | None:
    """The resident record of a signed-in resident (they refer themselves with it)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Resident.objects.filter(user=user).first()


PAIRED_WITHIN = timedelta(days=30)


def services_paired(*, service_id: Any, limit: int = 3) -> list[Any]:
    """The active services most often referred for the same residents as `service_id` within 30 days of
    a referral to it: the ids of at most `limit`, by the number of such residents, most first (the
    directory's "Frequently Paired Together", DESIGN §4). Referrals entered in error do not count."""
    counted = [status for status in Referral.Status.values if status != Referral.Status.ENTERED_IN_ERROR]
    rows = (
        Referral.objects.filter(
            resident__referrals__service_id=service_id,
            resident__referrals__status__in=counted,
            resident__referrals__created_at__gte=F("created_at") - PAIRED_WITHIN,
            resident__referrals__created_at__lte=F("created_at") + PAIRED_WITHIN,
            status__in=counted,
            service__status="active",
        )
        .exclude(service_id=service_id)
        .values("service_id")
        .annotate(residents=Count("resident_id", distinct=True))
        .order_by("-residents", "service_id")[:limit]
    )
    return [row["service_id"] for row in rows]


def resident_referrals_section(*, resident: Any, user: Any, view: Any) -> Any:
    """The Resident Detail Screen's referrals: with the full view, the resident's New / In Progress /
    Closed counts; with the limited view, the user's organizations' referrals for them and their needs."""
    if view == View.FULL:
        counts = dict.fromkeys(Referral.BOX_STATUSES, 0)
        shown = referrals_part2_masked(
            Referral.objects.filter(resident=resident), user=user, resident=resident
        )
        part2 = False
        for row in shown.values("status", "part2").annotate(n=Count("id")):
            part2 = part2 or row["part2"]
            for box, statuses in Referral.BOX_STATUSES.items():
                if row["status"] in statuses:
                    counts[box] += row["n"]
        return Section(
            order=50,
            template="referrals/_resident_counts.html",
            context={"counts": [(label, counts[box]) for box, label in Referral.Box.choices]},
            part2=part2,
        )
    organizations = user_organization_ids(user=user)
    referrals = (
        Referral.objects.filter(referral_party_q(organizations), resident=resident)
        .select_related("service")
        .order_by("-created_at")
    )
    listed = list(referrals)
    return Section(
        order=50,
        template="referrals/_resident_limited.html",
        context={"referrals": listed},
        part2=any(referral.part2 for referral in listed),
    )


def resident_plan_section(*, resident: Any, user: Any, view: Any) -> Any:
    """My Plan's referrals: every referral for the resident, newest first, each with its full history (as
    staff with consent see the plan, less the Part 2 ones they may not see)."""
    referrals = (
        referrals_part2_masked(Referral.objects.filter(resident=resident), user=user, resident=resident)
        .select_related("service", "receiving_organization", "receiving_listing", "sending_organization")
        .prefetch_related("events")
        .order_by("-created_at")
    )
    listed = list(referrals)
    return Section(
        order=10,
        template="referrals/_plan_referrals.html",
        context={"referrals": listed},
        part2=any(referral.part2 for referral in listed),
    )


def referrals_part2_masked(referrals: QuerySet[Referral], *, user: Any, resident: Any) -> QuerySet[Referral]:
    """One resident's `referrals` less the 42 CFR Part 2 ones `user` may not see: the resident and
    organizations holding the resident's Part 2 consent see them all; anyone else only those their
    organization is a party to (`kynect.residents.part2`). Every list of a resident's referrals shown
    beyond their parties goes through here."""
    if part2_unlocked(user=user, resident=resident):
        return referrals
    return referrals.filter(Q(part2=False) | referral_party_q(user_organization_ids(user=user)))
