"""Reads of accounts, and the one place role questions are answered (DESIGN §5.6a).

Every "may this user…" question about roles and organizations is asked here; other apps call these
selectors rather than filtering `Membership` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar, Token
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from kynect.accounts.agreements import PRIVACY_TRAINING_VERSION
from kynect.accounts.models import Invitation, Membership, Organization, Role, TrainingAttestation, User

RoleArg = str | Iterable[str]

# The roles an organization's admin may hand out within it, by the organization's type.
ORGANIZATION_INVITABLE_ROLES: dict[str, tuple[Role, ...]] = {
    Organization.Type.NOT_FOR_PROFIT: (Role.PARTNER_USER, Role.PARTNER_ADMIN),
    Organization.Type.FOR_PROFIT: (Role.PARTNER_USER, Role.PARTNER_ADMIN),
    Organization.Type.OTHER: (Role.PARTNER_USER, Role.PARTNER_ADMIN),
    Organization.Type.HOSPITAL: (Role.PROVIDER_USER, Role.PARTNER_ADMIN),
    Organization.Type.MCO: (Role.MCO_USER, Role.PARTNER_ADMIN),
    Organization.Type.STATE_AGENCY: (Role.STATE_STAFF, Role.PARTNER_ADMIN),
}

# The roles only a state administrator hands out, in any onboarded organization.
STATE_ADMIN_INVITABLE_ROLES: tuple[Role, ...] = (Role.REFERRAL_SPECIALIST, Role.STATE_ADMIN)

# The roles that may see resident data without their organization being onboarded: the state's own.
STATEWIDE_ROLES: tuple[Role, ...] = (Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST)

# The roles of kynect resources that work with residents' data, and so attest the privacy and security
# training. On Demand's helpers (agents, kynectors, agency admins) see a requester's details under On
# Demand's own rules (DESIGN §5.4) and are not asked.
RESIDENT_DATA_ROLES: tuple[Role, ...] = (
    Role.PARTNER_USER,
    Role.PARTNER_ADMIN,
    Role.PROVIDER_USER,
    Role.MCO_USER,
    Role.STATE_STAFF,
    *STATEWIDE_ROLES,
)
# Kynectors also refer residents in kynect resources: they attest the training when they first open a
# page with a resident's data, not at every sign-in as On Demand helpers.
SEE_RESIDENT_DATA_ROLES: tuple[Role, ...] = (*RESIDENT_DATA_ROLES, Role.KYNECTOR)


def _role_list(role: RoleArg) -> list[str]:
    return [role] if isinstance(role, str) else list(role)


# A page asks several role questions of its user (the resident-data gate, the access decision, the
# header's tabs). While a request is handled (`MembershipsReadOncePerRequest` opens and closes it), the
# user's active memberships are read once, with their organizations, and every question below is answered
# from them. Outside a request (a worker, a shell, a test calling a selector) each question reads the
# database. Saving or deleting a membership or an organization empties it (`accounts.apps`).
_memberships_read: ContextVar[dict[Any, tuple[Membership, ...]] | None] = ContextVar(
    "memberships_read", default=None
)


def memberships_read_open() -> Token[dict[Any, tuple[Membership, ...]] | None]:
    return _memberships_read.set({})


def memberships_read_close(token: Token[dict[Any, tuple[Membership, ...]] | None]) -> None:
    _memberships_read.reset(token)


def memberships_read_forget() -> None:
    """Memberships or organizations changed: the next question reads them again."""
    read = _memberships_read.get()
    if read is not None:
        read.clear()


def memberships_held(*, user: User, role: RoleArg | None = None) -> tuple[Membership, ...]:
    """The user's active memberships (of `role`, one or several, when given), each with its organization:
    read once per request, and none for anonymous or deactivated users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ()
    read = _memberships_read.get()
    held = read.get(user.pk) if read is not None else None
    if held is None:
        held = tuple(active_memberships(user=user).select_related("organization"))
        if read is not None:
            read[user.pk] = held
    if role is None:
        return held
    roles = set(_role_list(role))
    return tuple(membership for membership in held if membership.role in roles)


def user_organizations(*, user: User, role: RoleArg) -> list[Organization]:
    """The organizations in which the user actively holds `role` (one or several), by name, as rows:
    `organizations_where` is the same question as a query to build on."""
    organizations = {
        membership.organization_id: membership.organization
        for membership in memberships_held(user=user, role=role)
        if membership.organization is not None
    }
    return sorted(organizations.values(), key=lambda organization: (organization.name, str(organization.pk)))


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
    held = memberships_held(user=user, role=role)
    if organization is None:
        return bool(held)
    organization_id = organization.pk if isinstance(organization, Organization) else organization
    return any(str(membership.organization_id) == str(organization_id) for membership in held)


def user_roles(*, user: User, organization: Organization | None = None, anywhere: bool = False) -> set[str]:
    """The roles the user actively holds: in `organization` (None: the roles held without one), or in
    any organization when `anywhere`."""
    organization_id = organization.pk if organization is not None else None
    return {
        membership.role
        for membership in memberships_held(user=user)
        if anywhere or membership.organization_id == organization_id
    }


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


def organization_is_onboarded(*, organization: Organization) -> bool:
    """A KY Partner: a state administrator approved its application (DESIGN §4)."""
    return organization.status == Organization.Status.APPROVED and organization.onboarded_at is not None


def organizations_onboarded_count(*, organization_type: str = "", until: datetime | None = None) -> int:
    """The community partner network: organizations onboarded (approved) before `until` (now without it),
    of one type when given."""
    onboarded = Organization.objects.filter(status=Organization.Status.APPROVED, onboarded_at__isnull=False)
    if organization_type:
        onboarded = onboarded.filter(type=organization_type)
    if until is not None:
        onboarded = onboarded.filter(onboarded_at__lt=until)
    return onboarded.count()


def incentive_eligible_organizations() -> QuerySet[Organization]:
    """The incentive list (the resources overview, "Participation Eligibility"): approved not-for-profit
    organizations actively providing services in Kentucky, that is with a directory listing that has an
    active service. State agencies, for-profits, hospitals, MCOs and others are not on it. Not-for-profits
    join it by being approved: there is nothing to sign up for."""
    # Through the link to the directory: accounts sits below the directory and does not import it.
    serving = Organization.objects.filter(hsds_organization__services__status="active").values("pk")
    return Organization.objects.filter(
        pk__in=serving,
        type=Organization.Type.NOT_FOR_PROFIT,
        status=Organization.Status.APPROVED,
        onboarded_at__isnull=False,
    )


def user_sees_incentive_reports(*, user: User) -> bool:
    """State administrators and referral specialists (United Way) see the monthly incentive reports."""
    return user.is_authenticated and user_has_role(
        user=user, role=[Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST]
    )


def incentive_report_recipients() -> QuerySet[User]:
    """Who is emailed that a month's incentive report is ready: United Way's referral specialists."""
    return users_with_role(role=Role.REFERRAL_SPECIALIST).filter(is_active=True).order_by("email")


def onboarded_hsds_organization_ids(*, hsds_organization_ids: Iterable[UUID]) -> set[UUID]:
    """Which of these directory organizations belong to an onboarded platform organization: the KY
    Partners among them. Only onboarding makes one, never a feed's attribute."""
    return set(
        Organization.objects.filter(
            hsds_organization_id__in=list(hsds_organization_ids), status=Organization.Status.APPROVED
        ).values_list("hsds_organization_id", flat=True)
    )


def organization_applications(*, status: str | None = Organization.Status.APPLIED) -> QuerySet[Organization]:
    """Applications for the state administrators' queue, oldest first; every organization when `status`
    is None."""
    organizations = Organization.objects.select_related("applied_by", "decided_by", "hsds_organization")
    if status is not None:
        organizations = organizations.filter(status=status)
    return organizations.order_by("applied_at", "name")


def user_training_is_current(*, user: User) -> bool:
    """Whether the user attested the privacy and security training in force."""
    if not getattr(user, "is_authenticated", False):
        return False
    return TrainingAttestation.objects.filter(user=user, version=PRIVACY_TRAINING_VERSION).exists()


def user_needs_training(*, user: User) -> bool:
    """Someone in a role that works with residents' data who has not attested the training in force:
    asked to, after signing in."""
    in_such_a_role = bool(memberships_held(user=user, role=RESIDENT_DATA_ROLES))
    return in_such_a_role and not user_training_is_current(user=user)


def user_may_see_resident_data(*, user: User) -> bool:
    """Whether the user may be shown any resident's data at all (each page still asks about the resident):
    they attested the training in force, and either hold a statewide role (state administrator, referral
    specialist) or an active membership of an onboarded organization."""
    if not user_training_is_current(user=user):
        return False
    for membership in memberships_held(user=user, role=SEE_RESIDENT_DATA_ROLES):
        organization = membership.organization
        if membership.role in STATEWIDE_ROLES or (
            organization is not None and organization.status == Organization.Status.APPROVED
        ):
            return True
    return False


def user_sees_only_own_data(*, user: User) -> bool:
    """A resident with no role that works with other residents' data: they see their own record only
    (each page asks whose it is), with no training to attest."""
    return user_has_role(user=user, role=Role.RESIDENT) and not user_has_role(
        user=user, role=SEE_RESIDENT_DATA_ROLES
    )


def invitable_roles(*, user: User, organization: Organization) -> tuple[Role, ...]:
    """The roles `user` may invite someone to in `organization`: what the organization's type allows its
    admins, and the statewide roles for a state administrator. None until it is onboarded."""
    if not organization_is_onboarded(organization=organization):
        return ()
    roles: list[Role] = []
    if is_partner_admin(user=user, organization=organization):
        roles += ORGANIZATION_INVITABLE_ROLES[organization.type]
    if is_state_admin(user=user):
        roles += [role for role in STATE_ADMIN_INVITABLE_ROLES if role not in roles]
    return tuple(roles)


def open_invitations(*, roles: RoleArg) -> QuerySet[Invitation]:
    """Invitations of `roles`, in any organization, not yet answered nor withdrawn."""
    return (
        Invitation.objects.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, role__in=_role_list(roles)
        )
        .select_related("organization")
        .order_by("-created_at")
    )


def directory_listings_named(*, text: str, limit: int = 10) -> list[tuple[str, str]]:
    """Directory organizations whose name holds `text`, as (id, name), for an applicant to find their
    listing. Read through the link's own model: accounts sits below the directory and does not import it."""
    text = " ".join(text.split())
    if len(text) < 2:
        return []
    listing_model = Organization._meta.get_field("hsds_organization").related_model
    assert listing_model is not None
    assert not isinstance(listing_model, str)
    listings = listing_model._default_manager
    return [
        (str(pk), name)
        for pk, name in listings.filter(name__icontains=text)
        .order_by("name")
        .values_list("pk", "name")[:limit]
    ]


def organization_names_of_users(*, user_ids: Iterable[Any]) -> dict[Any, list[str]]:
    """Each user's organizations (active memberships), by name: who someone was acting for."""
    names: dict[Any, set[str]] = {}
    memberships = Membership.objects.filter(
        user_id__in=list(user_ids), is_active=True, organization__isnull=False
    )
    for user_id, name in memberships.values_list("user_id", "organization__name"):
        names.setdefault(user_id, set()).add(name)
    return {user_id: sorted(found) for user_id, found in names.items()}


def organizations_in(*, organization_ids: Iterable[Any]) -> dict[Any, Organization]:
    """These organizations, by id."""
    return Organization.objects.in_bulk(set(organization_ids))


def organizations_named(*, organization_ids: Iterable[Any]) -> dict[Any, str]:
    """The names of these organizations, by id."""
    return dict(Organization.objects.filter(pk__in=set(organization_ids)).values_list("pk", "name"))


def organization_types(*, organization_ids: Iterable[Any] | None = None) -> dict[Any, str]:
    """Each organization's type (of these organizations, or of all), by id."""
    organizations = Organization.objects.all()
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=list(organization_ids))
    return dict(organizations.values_list("pk", "type"))


def organization_ids_of_type(*, organization_type: str) -> list[Any]:
    """The ids of the organizations of one type."""
    return list(Organization.objects.filter(type=organization_type).values_list("pk", flat=True))
