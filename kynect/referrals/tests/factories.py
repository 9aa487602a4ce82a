"""Referral test data: two partner organizations with directory listings, their people, and referrals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kynect.accounts.models import Membership, Organization, Role, User
from kynect.accounts.services import training_attest
from kynect.accounts.tests.factories import MembershipFactory, OrganizationFactory
from kynect.core import clock
from kynect.directory.models import Service
from kynect.directory.tests.factories import DirectoryOrganizationFactory, ServiceFactory
from kynect.referrals.models import Referral
from kynect.referrals.services import ReferralInput, referral_create
from kynect.residents.services import ResidentInput


@dataclass
class Partner:
    organization: Organization
    service: Service
    user: User
    admin: User


def partner(
    *, onboarded: bool = True, type: str = Organization.Type.NOT_FOR_PROFIT, **fields: Any
) -> Partner:
    """An organization with a directory listing offering one service, a partner user and an admin."""
    listing = DirectoryOrganizationFactory.create()
    organization = OrganizationFactory.create(
        hsds_organization=listing, type=type, onboarded_at=clock.now() if onboarded else None, **fields
    )
    service = ServiceFactory.create(organization=listing)
    user = member(organization, Role.PARTNER_USER)
    admin = member(organization, Role.PARTNER_ADMIN)
    return Partner(organization=organization, service=service, user=user, admin=admin)


def member(organization: Organization | None, role: str, *, trained: bool = True) -> User:
    """A user holding `role` (in `organization`), who attested the privacy and security training unless
    `trained` is off."""
    membership: Membership = MembershipFactory.create(organization=organization, role=role)
    if trained:
        training_attest(user=membership.user)
    return membership.user


def resident_input(**fields: Any) -> ResidentInput:
    values: dict[str, Any] = {
        "first_name": "Ana",
        "last_name": "Reyes",
        "birth_date": date(1990, 5, 17),
        "mobile_phone": "(502) 555-0199",
        "email": "ana@example.org",
        "preferred_language": "es",
        "postal_code": "40601",
    }
    values.update(fields)
    return ResidentInput(**values)


def referral(sender: Partner, receiver: Partner, **fields: Any) -> Referral:
    values: dict[str, Any] = {
        "service_id": receiver.service.pk,
        "need": "food",
        "note": "Needs groceries this week.",
        "resident": resident_input(),
    }
    values.update(fields)
    return referral_create(actor=sender.user, data=ReferralInput(**values)).referral
