"""Reads of accounts, and the one place role questions are answered (DESIGN §5.6a).

Every "may this user…" question about roles and organizations is asked here; other apps call these
selectors rather than filtering `Membership` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from kynect.accounts.models import Invitation, Membership, Organization, Role, User

RoleArg = str | Iterable[str]


def _role_list(role: RoleArg) -> list[str]:
    return [role] if isinstance(role, str) else list(role)


def active_memberships(*, user: User, role: RoleArg | None = None) -> QuerySet[Membership]:
    """The user's active memberships, of `role` (one or several) when given. None for anonymous or
    deactivated users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Membership.objects.none()
    memberships = Membership.objects.filter(user=user, is_active=True)
    if role is not None:
        memberships = memberships.filter(role__in=_role_list(role))
    return memberships


def user_has_role(
    *, user: User, role: RoleArg, organization: Organization | UUID | str | None = None
) -> bool:
    """Whether the user actively holds `role` (or any of several), in `organization` when given."""
    memberships = active_memberships(user=user, role=role)
    if organization is not None:
        memberships = memberships.filter(
            organization_id=organization.pk if isinstance(organization, Organization) else organization
        )
    return memberships.exists()


def user_roles(*, user: User, organization: Organization | None = None, anywhere: bool = False) -> set[str]:
    """The roles the user actively holds: in `organization` (None: the roles held without one), or in
    any organization when `anywhere`."""
    memberships = active_memberships(user=user)
    if not anywhere:
        memberships = memberships.filter(
            Q(organization=organization) if organization is not None else Q(organization__isnull=True)
        )
    return set(memberships.values_list("role", flat=True))


def organizations_where(*, user: User, role: RoleArg) -> QuerySet[Organization]:
    """The organizations in which the user actively holds `role` (or any of several)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Organization.objects.none()
    return Organization.objects.filter(
        pk__in=active_memberships(user=user, role=role).values("organization_id")
    )


def users_with_role(
    *, role: RoleArg, organization: Organization | UUID | str | None = None
) -> QuerySet[User]:
    """The users who actively hold `role` (or any of several), in `organization` when given."""
    organizations = None if organization is None else [organization]
    memberships = memberships_with_role(role=role, organizations=organizations)
    return User.objects.filter(pk__in=memberships.values("user_id"))


def is_state_admin(*, user: User) -> bool:
    return user_has_role(user=user, role=Role.STATE_ADMIN)


def organizations_administered(*, user: User) -> QuerySet[Organization]:
    """Organizations in which `user` is an active community-partner admin."""
    return organizations_where(user=user, role=Role.PARTNER_ADMIN)


def is_partner_admin(*, user: User, organization: Organization) -> bool:
    return user_has_role(user=user, role=Role.PARTNER_ADMIN, organization=organization)


def agencies_administered(*, user: User) -> QuerySet[Organization]:
    """Organizations in which `user` is an active agency admin (kynect On Demand)."""
    return organizations_where(user=user, role=Role.AGENCY_ADMIN)


def memberships_with_role(
    *, role: RoleArg, organizations: QuerySet[Organization] | Iterable[Any] | None = None
) -> QuerySet[Membership]:
    """Everyone's active memberships of `role` (one or several), in `organizations` (rows or ids) when
    given: who holds a role, where `active_memberships` asks what one user holds."""
    memberships = Membership.objects.filter(is_active=True, role__in=_role_list(role))
    if organizations is not None:
        memberships = memberships.filter(organization__in=organizations)
    return memberships


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
