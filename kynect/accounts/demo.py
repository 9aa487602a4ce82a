"""Demo organizations and one demo user for every role, for the demo app's `seed_demo`, and the onboarded
organizations behind the demo directory's KY Partner listings. Demo only."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction

from kynect.accounts.lifecycles import ORGANIZATION_ONBOARDING
from kynect.accounts.models import Membership, Organization, Role, User
from kynect.core import clock

DEMO_PASSWORD = "kynect-demo-2026"  # noqa: S105  (published in the README; demo environment only)

ORGANIZATIONS = {
    "chfs": (
        "Cabinet for Health and Family Services (demo)",
        Organization.Type.STATE_AGENCY,
        "Frankfort",
        "40621",
    ),
    "united_way": ("United Way of Kentucky (demo)", Organization.Type.NOT_FOR_PROFIT, "Louisville", "40202"),
    "partner": ("Bluegrass Community Action (demo)", Organization.Type.NOT_FOR_PROFIT, "Lexington", "40508"),
    "hospital": ("Capital Regional Hospital (demo)", Organization.Type.HOSPITAL, "Frankfort", "40601"),
    "mco": ("Commonwealth Health Plan (demo)", Organization.Type.MCO, "Louisville", "40202"),
    "agency": (
        "Kentucky Health Insurance Agency (demo)",
        Organization.Type.FOR_PROFIT,
        "Bowling Green",
        "42101",
    ),
    "kynector_agency": (
        "Community kynector Agency (demo)",
        Organization.Type.NOT_FOR_PROFIT,
        "Hazard",
        "41701",
    ),
}

DEMO_TAX_STATUS = {
    Organization.Type.NOT_FOR_PROFIT: Organization.TaxStatus.NONPROFIT_501C3,
    Organization.Type.FOR_PROFIT: Organization.TaxStatus.TAXABLE,
    Organization.Type.STATE_AGENCY: Organization.TaxStatus.GOVERNMENT,
    Organization.Type.HOSPITAL: Organization.TaxStatus.NONPROFIT_501C3,
    Organization.Type.MCO: Organization.TaxStatus.TAXABLE,
    Organization.Type.OTHER: Organization.TaxStatus.OTHER_EXEMPT,
}

DEMO_STATE_ADMIN_EMAIL = "state-admin@example.org"
DEMO_RESIDENT_EMAIL = "resident@example.org"
DEMO_RESIDENT_PHONE = "+15025550110"  # fictional: 555-01xx numbers are reserved for fiction

# email, first name, last name, role, organization key (None: no organization)
USERS = [
    (DEMO_RESIDENT_EMAIL, "Rosa", "Resident", Role.RESIDENT, None),
    ("partner@example.org", "Paul", "Partner", Role.PARTNER_USER, "partner"),
    ("partner-admin@example.org", "Pam", "Partner-Admin", Role.PARTNER_ADMIN, "partner"),
    ("specialist@example.org", "Sam", "Specialist", Role.REFERRAL_SPECIALIST, "united_way"),
    ("provider@example.org", "Priya", "Provider", Role.PROVIDER_USER, "hospital"),
    ("dcbs@example.org", "Dana", "Caseworker", Role.STATE_STAFF, "chfs"),
    ("mco@example.org", "Morgan", "Care-Manager", Role.MCO_USER, "mco"),
    (DEMO_STATE_ADMIN_EMAIL, "Sonia", "Administrator", Role.STATE_ADMIN, "chfs"),
    ("agent@example.org", "Andre", "Agent", Role.INSURANCE_AGENT, "agency"),
    ("kynector@example.org", "Kim", "Kynector", Role.KYNECTOR, "kynector_agency"),
    ("agency-admin@example.org", "Alex", "Agency-Admin", Role.AGENCY_ADMIN, "kynector_agency"),
]


@transaction.atomic
def demo_accounts_seed() -> int:
    """Create the demo organizations and users that are missing; returns how many users were created."""
    created_users = 0
    organizations = {}
    for key, (name, org_type, city, postal_code) in ORGANIZATIONS.items():
        organizations[key], _ = Organization.objects.get_or_create(
            name=name,
            defaults={
                "type": org_type,
                "city": city,
                "postal_code": postal_code,
                "tax_status": DEMO_TAX_STATUS[org_type],
                "applied_at": clock.now(),
            },
        )
    # Every demo organization is onboarded, so its demo users can work with residents' data.
    ORGANIZATION_ONBOARDING.apply_all(
        "approve",
        queryset=Organization.objects.filter(
            pk__in=[organization.pk for organization in organizations.values()]
        ),
        now=clock.now(),
    )
    for email, first_name, last_name, role, org_key in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                first_name=first_name,
                last_name=last_name,
                is_staff=role == Role.STATE_ADMIN,
                is_superuser=role == Role.STATE_ADMIN,
                phone=DEMO_RESIDENT_PHONE if email == DEMO_RESIDENT_EMAIL else "",
            )
            created_users += 1
        Membership.objects.get_or_create(
            user=user, organization=organizations[org_key] if org_key else None, role=role
        )
    return created_users


def demo_state_admin() -> User:
    return User.objects.get(email=DEMO_STATE_ADMIN_EMAIL)


def demo_partner_chosen(*, listing_id: UUID) -> bool:
    """About two in five directory organizations are KY Partners in the demo; always the same ones."""
    return listing_id.int % 5 < 2


@transaction.atomic
def demo_partners_onboard(*, listings: Iterable[tuple[UUID, str]]) -> set[UUID]:
    """Give the chosen directory organizations (id, name) an onboarded platform organization of the same
    name, as if each had applied and been approved; returns the directory ids that became KY Partners.
    Names already on the platform, and listings already linked, are left alone."""
    taken = {name.lower() for name in Organization.objects.values_list("name", flat=True)}
    linked = set(
        Organization.objects.exclude(hsds_organization=None).values_list("hsds_organization_id", flat=True)
    )
    now = clock.now()
    applicants = []
    for listing_id, name in listings:
        if not demo_partner_chosen(listing_id=listing_id) or listing_id in linked or name.lower() in taken:
            continue
        taken.add(name.lower())
        applicants.append(
            Organization(
                name=name[:200],
                type=Organization.Type.NOT_FOR_PROFIT,
                tax_status=Organization.TaxStatus.NONPROFIT_501C3,
                hsds_organization_id=listing_id,
                applied_at=now,
            )
        )
    created = Organization.objects.bulk_create(applicants, batch_size=500)
    ORGANIZATION_ONBOARDING.apply_all(
        "approve",
        queryset=Organization.objects.filter(
            hsds_organization_id__in=[o.hsds_organization_id for o in created]
        ),
        now=now,
    )
    return {
        organization.hsds_organization_id for organization in created if organization.hsds_organization_id
    }
