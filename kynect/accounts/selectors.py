from __future__ import annotations

from django.db.models import QuerySet

from kynect.accounts.models import Invitation, Membership, Organization, Role, User


def organizations_administered(*, user: User) -> QuerySet[Organization]:
    """Organizations in which `user` is an active community-partner admin."""
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    return Organization.objects.filter(
        memberships__user=user, memberships__role=Role.PARTNER_ADMIN, memberships__is_active=True
    ).distinct()


def is_partner_admin(*, user: User, organization: Organization) -> bool:
    return organizations_administered(user=user).filter(pk=organization.pk).exists()


def organization_memberships(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("-is_active", "user__last_name", "user__first_name", "user__email")
    )


def organization_open_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
    )
