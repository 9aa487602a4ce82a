"""Retention (issue 17, settings `RESIDENT_RETENTION_YEARS` and `ACCESS_EVENT_RETENTION_YEARS`): a
resident's personal fields are erased N years after their last referral closed and their last consent
ended, and the counts stay (the referrals, their statuses, needs and outcomes, the consents' states,
the enrolled programs); access events expire as a whole after their own period. One recurring job does
both, every night (`residents.retention`)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.dispatch import Signal

from kynect.core import recurring
from kynect.core.audit import access_events_expire
from kynect.residents.lifecycles import CONSENT
from kynect.residents.models import Consent, ConsentEvent, HouseholdMember, Resident, ResidentNote

# Sent inside the erasing transaction with `resident_ids`: apps above residents erase what their own
# tables hold about those residents in free text (DESIGN §3: residents may not import them).
resident_erasing = Signal()

ERASE_BATCH = 500


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def residents_due_for_erasure(*, now: datetime) -> QuerySet[Resident]:
    """Residents not erased yet whose record, referrals and consents have all been still for the retention
    period: no open referral, none closed since the cutoff, no active consent, none ended since."""
    cutoff = years_before(now, settings.RESIDENT_RETENTION_YEARS)
    # The referrals app's model, through the relation it declares to residents (residents may not import it).
    referral_model = cast(type[Model], Resident._meta.get_field("referrals").related_model)
    referrals = referral_model._default_manager.filter(resident=OuterRef("pk"))
    consents = Consent.objects.filter(resident=OuterRef("pk"))
    return Resident.objects.filter(erased_at__isnull=True, updated_at__lt=cutoff).exclude(
        Exists(referrals.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff)))
        | Exists(
            consents.filter(
                # Still in force, or ended (revoked, declined, or a Part 2 consent past its expiry) since.
                Q(status=Consent.Status.ACTIVE, expires_at__isnull=True)
                | Q(status=Consent.Status.ACTIVE, expires_at__gte=cutoff)
                | Q(updated_at__gte=cutoff)
            )
        )
    )


@transaction.atomic
def consents_expire(*, now: datetime) -> int:
    """Mark the Part 2 consents past their expiry inactive, each with its event; returns how many. (They
    stopped opening anything when they expired: `Consent.in_force`; this makes their state say so.)"""
    return CONSENT.apply_all(
        "expire",
        queryset=Consent.objects.filter(expires_at__lte=now),
        now=now,
        event={"from_status": Consent.Status.ACTIVE},
    )


@transaction.atomic
def residents_erase(*, now: datetime) -> int:
    """Erase the personal fields of the residents due (a batch at a time); returns how many."""
    erased = 0
    while True:
        ids = list(residents_due_for_erasure(now=now).values_list("pk", flat=True)[:ERASE_BATCH])
        if not ids:
            return erased
        resident_erasing.send(sender=Resident, resident_ids=ids)
        HouseholdMember.objects.filter(resident_id__in=ids).delete()
        ResidentNote.objects.filter(resident_id__in=ids).delete()
        Consent.objects.filter(resident_id__in=ids).update(note="", signature="")
        ConsentEvent.objects.filter(consent__resident_id__in=ids).update(note="")
        erased += Resident.objects.filter(pk__in=ids).update(
            client_id="",
            first_name="",
            last_name="",
            birth_date=None,
            gender="",
            email="",
            mobile_phone="",
            address_1="",
            address_2="",
            city="",
            postal_code="",
            match_key="",
            user=None,
            erased_at=now,
            updated_at=now,
        )


@recurring.register(
    "residents.retention",
    schedule=recurring.daily(at=time(3, 0)),
    time_zone="America/New_York",
)
def retention_nightly(*, period: date, due_at: datetime) -> None:
    consents_expire(now=due_at)
    residents_erase(now=due_at)
    access_events_expire(before=years_before(due_at, settings.ACCESS_EVENT_RETENTION_YEARS))
