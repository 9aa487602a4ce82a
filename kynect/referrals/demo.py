"""Demo referrals, for `seed_demo_referrals` (after the demo directory is loaded). Demo only.

The demo partner organizations get directory listings, so that they can refer to each other; one more
organization with a listing has not onboarded. Demo residents with households and programs have
referrals in every state, some older than 7 and 14 days, with the worker's deadlines applied.
Idempotent: what exists is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from kynect.accounts.demo import ORGANIZATIONS
from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.directory import models as hsds
from kynect.directory.search.index import search_index_update
from kynect.referrals.access import Action
from kynect.referrals.models import Referral
from kynect.referrals.services import (
    Closure,
    ReferralInput,
    referral_act,
    referral_create,
    referrals_expire,
    referrals_expiry_sweep,
    referrals_outreach_sweep,
)
from kynect.residents.models import EnrolledProgram, HouseholdMember, Resident
from kynect.residents.services import ResidentInput

NOT_ONBOARDED = (
    "Harlan County Food Pantry (demo)",
    Organization.Type.NOT_FOR_PROFIT,
    "Harlan",
    "40831",
)

# Organization key (accounts.demo, or "pantry" for the one not onboarded): the listing's service, its
# street address, latitude and longitude.
LISTINGS = {
    "partner": ("Emergency food and utility help (demo)", "372 W Vine St", 38.0456, -84.4990),
    "hospital": ("Community health worker visits (demo)", "101 Hospital Dr", 38.2009, -84.8733),
    "kynector_agency": ("Health coverage enrollment help (demo)", "55 Main St", 37.2512, -83.1932),
    "pantry": ("Weekly food boxes (demo)", "12 Central St", 36.8565, -83.3218),
}

# The demo users who refer, by organization key.
SENDERS = {
    "partner": "partner@example.org",
    "hospital": "provider@example.org",
    "kynector_agency": "kynector@example.org",
}
SPECIALIST = "specialist@example.org"


@dataclass(frozen=True)
class DemoResident:
    first_name: str
    last_name: str
    birth_date: date
    phone: str
    language: str
    postal_code: str
    household: tuple[tuple[str, int, str], ...]
    programs: tuple[str, ...]


RESIDENTS = [
    DemoResident(
        "Maria", "Lopez", date(1986, 3, 14), "+15025550121", "es", "40508",
        (("Luis Lopez", 9, "Son"), ("Elena Lopez", 6, "Daughter")), ("medicaid", "snap"),
    ),
    DemoResident(
        "James", "Carter", date(1958, 11, 2), "+15025550122", "en", "40601",
        (("Ruth Carter", 63, "Spouse"),), ("medicaid", "liheap"),
    ),
    DemoResident(
        "Aisha", "Brown", date(1995, 7, 30), "+15025550123", "en", "41701",
        (("Jordan Brown", 2, "Son"),), ("wic", "ktap", "ccap"),
    ),
    DemoResident(
        "Tom", "Hensley", date(1972, 1, 19), "+15025550124", "en", "40831",
        (), ("snap",),
    ),
]  # fmt: skip


@dataclass(frozen=True)
class DemoReferral:
    """A referral `days_ago` old from `sender` to `receiver`, then what happened to it."""

    resident: int
    sender: str
    receiver: str
    need: str
    days_ago: int
    steps: tuple[str, ...] = ()  # accept, start, hold, resume, reject, cancel, complete, fail, expire
    urgency: str = Referral.Urgency.ROUTINE


REFERRALS = [
    DemoReferral(0, "hospital", "partner", "food", 1, urgency=Referral.Urgency.URGENT),  # New
    DemoReferral(1, "partner", "hospital", "health_care_coverage", 9),  # New, open more than 7 days
    DemoReferral(2, "partner", "kynector_agency", "health_care_coverage", 3, ("accept",)),
    DemoReferral(3, "kynector_agency", "partner", "income", 5, ("accept", "start")),
    DemoReferral(0, "kynector_agency", "hospital", "health_care_coverage", 12, ("start", "hold")),
    DemoReferral(1, "hospital", "partner", "income", 20, ("accept", "start", "complete")),
    DemoReferral(2, "hospital", "partner", "food", 25, ("accept", "fail")),
    DemoReferral(3, "partner", "hospital", "health_care_coverage", 6, ("reject",)),
    DemoReferral(0, "partner", "kynector_agency", "health_care_coverage", 4, ("cancel",)),
    DemoReferral(3, "partner", "pantry", "food", 18),  # not onboarded, 14 days old: may be expired
    DemoReferral(2, "hospital", "pantry", "food", 16),  # not onboarded, 14 days old
    DemoReferral(1, "kynector_agency", "pantry", "food", 9),  # not onboarded, 7 days old
    DemoReferral(0, "partner", "pantry", "food", 30, ("expire",)),  # closed as Expired
]


def _note(index: int) -> str:
    return f"Demo referral {index + 1}."


@transaction.atomic
def demo_referrals_seed() -> int:
    """Listings, residents and referrals that are missing; returns how many referrals were made."""
    organizations = _organizations()
    services = _listings(organizations)
    users = {key: User.objects.get(email=email) for key, email in SENDERS.items()}
    specialist = User.objects.get(email=SPECIALIST)
    made = 0
    now = clock.now()
    for index, spec in enumerate(REFERRALS):
        if Referral.objects.filter(note=_note(index), service=services[spec.receiver]).exists():
            continue
        sender = users[spec.sender]
        at = now - timedelta(days=spec.days_ago)
        demo = RESIDENTS[spec.resident]
        created = referral_create(
            actor=sender,
            organization=organizations[spec.sender],
            data=ReferralInput(
                service_id=services[spec.receiver].pk,
                need=spec.need,
                note=_note(index),
                urgency=spec.urgency,
                # The duplicate check attaches a resident's later referrals to their one record.
                resident=_resident_input(demo),
            ),
            now=at,
        )
        _household(created.referral.resident, demo)
        referral = created.referral
        Referral.objects.filter(pk=referral.pk).update(created_at=at)
        receiver = users.get(spec.receiver)
        for step_number, step in enumerate(spec.steps, start=1):
            when = at + timedelta(hours=6 * step_number)
            if step == "expire":
                referrals_expiry_sweep(now=at + timedelta(days=14, minutes=1))
                referrals_expire(actor=specialist, referral_ids=[referral.pk], now=when + timedelta(days=14))
            elif step == "cancel":
                referral_act(actor=sender, referral_id=referral.pk, action=Action.CANCEL, now=when)
            else:
                assert receiver is not None
                referral_act(actor=receiver, now=when, **_act(referral, step))
        made += 1
    referrals_outreach_sweep(now=now)
    referrals_expiry_sweep(now=now)
    return made


def _act(referral: Referral, step: str) -> dict[str, Any]:
    closures = {
        "complete": Closure(experience=Referral.Experience.UP, resource_provided=True),
        "fail": Closure(experience=Referral.Experience.DOWN, resource_provided=False, reason="no_funding"),
    }
    if step in closures:
        return {"referral_id": referral.pk, "action": Action.CLOSE, "closure": closures[step]}
    reasons = {"hold": "Waiting for the resident's documents.", "reject": "Outside our service area."}
    return {"referral_id": referral.pk, "action": Action(step), "reason": reasons.get(step, "")}


def _resident_input(demo: DemoResident) -> ResidentInput:
    return ResidentInput(
        first_name=demo.first_name,
        last_name=demo.last_name,
        birth_date=demo.birth_date,
        mobile_phone=demo.phone,
        email=f"{demo.first_name.lower()}.{demo.last_name.lower()}@example.org",
        preferred_language=demo.language,
        postal_code=demo.postal_code,
    )


def _household(resident: Resident, demo: DemoResident) -> None:
    for name, age, relationship in demo.household:
        HouseholdMember.objects.get_or_create(
            resident=resident, name=name, defaults={"age": age, "relationship": relationship}
        )
    for program in demo.programs:
        EnrolledProgram.objects.get_or_create(
            resident=resident, program=program, defaults={"started_on": date(2025, 1, 1)}
        )


def _organizations() -> dict[str, Organization]:
    """The demo organizations that get listings; all onboarded but the pantry."""
    organizations = {
        key: Organization.objects.get(name=ORGANIZATIONS[key][0]) for key in LISTINGS if key != "pantry"
    }
    now = clock.now()
    # Onboarded organizations are approved ones where onboarding has an application status.
    statuses = getattr(Organization, "Status", None)
    onboard: dict[str, object] = {"onboarded_at": now}
    if statuses is not None:
        onboard["status"] = statuses.APPROVED
    for organization in organizations.values():
        if organization.onboarded_at is None:
            Organization.objects.filter(pk=organization.pk).update(**onboard)
    name, org_type, city, postal_code = NOT_ONBOARDED
    organizations["pantry"], _ = Organization.objects.get_or_create(
        name=name, defaults={"type": org_type, "city": city, "postal_code": postal_code}
    )
    return organizations


def _listings(organizations: dict[str, Organization]) -> dict[str, hsds.Service]:
    """Each organization's listing (made once) and its service."""
    services: dict[str, hsds.Service] = {}
    made: list[hsds.Service] = []
    for key, (service_name, street, latitude, longitude) in LISTINGS.items():
        organization = organizations[key]
        if organization.hsds_organization_id is not None:
            service = hsds.Service.objects.filter(
                organization_id=organization.hsds_organization_id, name=service_name
            ).first()
            if service is not None:
                services[key] = service
                continue
        listing = hsds.Organization.objects.create(
            name=organization.name,
            description=f"{organization.name}: a demo organization of kynect resources.",
            email=f"{key.replace('_', '-')}-listing@example.org",
        )
        Organization.objects.filter(pk=organization.pk).update(hsds_organization=listing)
        organization.hsds_organization = listing
        service = hsds.Service.objects.create(
            organization=listing, name=service_name, description=service_name, status="active"
        )
        location = hsds.Location.objects.create(
            organization=listing,
            location_type="physical",
            name=organization.name,
            latitude=latitude,
            longitude=longitude,
            time_zone="America/New_York",
        )
        hsds.Address.objects.create(
            location=location,
            address_1=street,
            city=organization.city,
            state_province="KY",
            postal_code=organization.postal_code,
            country="US",
            address_type="physical",
        )
        hsds.ServiceAtLocation.objects.create(service=service, location=location)
        services[key] = service
        made.append(service)
    if made:
        search_index_update(service_ids=[service.pk for service in made])
    return services
