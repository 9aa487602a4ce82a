"""Who may see and do what with a resident's data: one table (`RULES`) that the pages, the API and the
authorization test all read (DESIGN §5.2). Role questions are answered by `kynect.accounts.selectors`.

What a user may do with one resident depends on their role and on their **standing** with that resident:

- `consent`: their organization holds the resident's active consent;
- `referral`: their organization sent or received a referral for the resident (a referral the duplicate
  check attached to a record its sender had not seen does not count: the sender saw only what they typed);
- `self`: the resident themselves, signed in;
- `any`: every resident (a state administrator's audited lookup, a referral specialist's outreach).

`decide` answers ALLOWED, FORBIDDEN (the role may never do it: 403) or NOT_FOUND (no standing with this
resident: 404, as if the resident did not exist). `resident_view` says how much of the record a user sees:
the full Resident Detail Screen, the limited view (name, contact and the need, for their referrals), or
nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from kynect.accounts.models import Role
from kynect.accounts.selectors import memberships_held
from kynect.residents.models import Consent, Resident

# Staff of an organization who refer residents, work referrals and ask for consent.
ORGANIZATION_ROLES = frozenset(
    {
        Role.PARTNER_USER,
        Role.PARTNER_ADMIN,
        Role.PROVIDER_USER,
        Role.STATE_STAFF,
        Role.MCO_USER,
        Role.KYNECTOR,
    }
)


class Action(enum.StrEnum):
    VIEW_FULL = "view_full"  # the Resident Detail Screen: household, programs, notes, risk factors
    VIEW_LIMITED = "view_limited"  # name, contact and the need, for the user's referrals
    CONSENT_REQUEST = "consent_request"  # a link by text or email
    CONSENT_RECORD = "consent_record"  # given in person or by phone, attested by the staff member
    CONSENT_REVOKE = "consent_revoke"  # the resident, or the organization recording the resident's wish
    CONSENTS = "consents"  # the resident's consents and their history
    ACCESS_LOG = "access_log"  # who looked at the resident's data, and when
    NOTE = "note"  # add a note (the organization's own, editable for 24 hours)
    SEND_EMAIL = "send_email"  # email the resident through the outbox, naming the organization


class Standing(enum.StrEnum):
    CONSENT = "consent"
    REFERRAL = "referral"
    SELF = "self"
    ANY = "any"


@dataclass(frozen=True)
class Rule:
    """The roles that may take an action, and the standings (any one of them) it needs."""

    roles: frozenset[str]
    standings: frozenset[Standing]


_STAFF_WITH_CONSENT = Rule(ORGANIZATION_ROLES, frozenset({Standing.CONSENT}))
_STAFF_WITH_REFERRAL = Rule(ORGANIZATION_ROLES, frozenset({Standing.CONSENT, Standing.REFERRAL}))

RULES: dict[Action, Rule] = {
    Action.VIEW_FULL: Rule(
        ORGANIZATION_ROLES | {Role.RESIDENT, Role.STATE_ADMIN},
        frozenset({Standing.CONSENT, Standing.SELF, Standing.ANY}),
    ),
    Action.VIEW_LIMITED: Rule(
        ORGANIZATION_ROLES | {Role.REFERRAL_SPECIALIST},
        frozenset({Standing.REFERRAL, Standing.ANY}),
    ),
    Action.CONSENT_REQUEST: _STAFF_WITH_REFERRAL,
    Action.CONSENT_RECORD: _STAFF_WITH_REFERRAL,
    Action.CONSENT_REVOKE: Rule(
        ORGANIZATION_ROLES | {Role.RESIDENT}, frozenset({Standing.CONSENT, Standing.SELF})
    ),
    Action.CONSENTS: Rule(
        ORGANIZATION_ROLES | {Role.RESIDENT, Role.STATE_ADMIN},
        frozenset({Standing.CONSENT, Standing.REFERRAL, Standing.SELF, Standing.ANY}),
    ),
    Action.NOTE: _STAFF_WITH_CONSENT,
    Action.SEND_EMAIL: _STAFF_WITH_CONSENT,
    Action.ACCESS_LOG: Rule(
        frozenset({Role.RESIDENT, Role.STATE_ADMIN}), frozenset({Standing.SELF, Standing.ANY})
    ),
}

# The roles whose standing is `any`: every resident, for what their rules allow.
_ANY_RESIDENT = frozenset({Role.STATE_ADMIN, Role.REFERRAL_SPECIALIST})


class Decision(enum.Enum):
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"


class View(enum.StrEnum):
    FULL = "full"
    LIMITED = "limited"
    NONE = "none"


def staff_organization_ids(*, user: Any) -> set[Any]:
    """The organizations in which the user holds a staff role."""
    return {
        membership.organization_id
        for membership in memberships_held(user=user, role=ORGANIZATION_ROLES)
        if membership.organization_id is not None
    }


def standings(*, user: Any, resident: Resident, roles: frozenset[str] | None = None) -> set[Standing]:
    """The user's standings with this resident, through the memberships of `roles` (all when None)."""
    held = memberships_held(user=user)
    if roles is not None:
        held = tuple(membership for membership in held if membership.role in roles)
    found: set[Standing] = set()
    role_names = {membership.role for membership in held}
    if role_names & _ANY_RESIDENT:
        found.add(Standing.ANY)
    if Role.RESIDENT in role_names and resident.user_id is not None and resident.user_id == user.pk:
        found.add(Standing.SELF)
    organizations = {
        membership.organization_id
        for membership in held
        if membership.role in ORGANIZATION_ROLES and membership.organization_id is not None
    }
    if organizations:
        if Consent.objects.filter(
            resident=resident, organization_id__in=organizations, status=Consent.Status.ACTIVE
        ).exists():
            found.add(Standing.CONSENT)
        if Resident.objects.filter(
            Q(referrals__sending_organization__in=organizations, referrals__resident_as_typed={})
            | Q(referrals__receiving_organization__in=organizations),
            pk=resident.pk,
        ).exists():
            found.add(Standing.REFERRAL)
    return found


def decide(*, user: Any, action: Action, resident: Resident) -> Decision:
    """May `user` take `action` with `resident`'s data?"""
    rule = RULES[action]
    roles = {membership.role for membership in memberships_held(user=user)} & rule.roles
    if not roles:
        return Decision.FORBIDDEN
    if standings(user=user, resident=resident, roles=frozenset(roles)) & rule.standings:
        return Decision.ALLOWED
    return Decision.NOT_FOUND


def resident_view(*, user: Any, resident: Resident) -> View:
    """How much of the resident's record the user sees: full, limited, or none."""
    if decide(user=user, action=Action.VIEW_FULL, resident=resident) == Decision.ALLOWED:
        return View.FULL
    if decide(user=user, action=Action.VIEW_LIMITED, resident=resident) == Decision.ALLOWED:
        return View.LIMITED
    return View.NONE


def consent_in_force(*, user: Any, resident: Resident) -> Consent | None:
    """The active consent the user's organization holds for the resident (the first, if several of
    theirs do), under which they see the full record; None without one."""
    organizations = staff_organization_ids(user=user)
    if not organizations:
        return None
    return (
        Consent.objects.filter(
            resident=resident, organization_id__in=organizations, status=Consent.Status.ACTIVE
        )
        .order_by("granted_at")
        .first()
    )
