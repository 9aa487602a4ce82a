"""Who may see and do what with a resident's data: one table (`RULES`) that the pages, the API and the
authorization test all read (DESIGN §5.2). Role questions are answered by `kynect.accounts.selectors`.

What a user may do with one resident depends on their role and on their **standing** with that resident:

- `consent`: their organization holds the resident's active (general) consent;
- `part2`: their organization holds the resident's separate 42 CFR Part 2 consent, active and unexpired;
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
from kynect.core import clock
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
    ASSESS = "assess"  # take an assessment with the resident (Start Assessment), or their own
    # 42 CFR Part 2 data (`kynect.residents.part2`): the resident, and organizations holding a Part 2
    # consent; a general consent does not unlock it.
    VIEW_PART2 = "view_part2"


class Standing(enum.StrEnum):
    CONSENT = "consent"
    PART2 = "part2"
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
    Action.ASSESS: Rule(ORGANIZATION_ROLES | {Role.RESIDENT}, frozenset({Standing.CONSENT, Standing.SELF})),
    Action.SEND_EMAIL: _STAFF_WITH_CONSENT,
    Action.VIEW_PART2: Rule(ORGANIZATION_ROLES | {Role.RESIDENT}, frozenset({Standing.PART2, Standing.SELF})),
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
        for kind in Consent.objects.filter(
            in_force_q(), resident=resident, organization_id__in=organizations
        ).values_list("kind", flat=True):
            found.add(Standing.PART2 if kind == Consent.Kind.PART2 else Standing.CONSENT)
        if Resident.objects.filter(
            referral_party_q(organizations, prefix="referrals__"), pk=resident.pk
        ).exists():
            found.add(Standing.REFERRAL)
    return found


def referral_party_q(organizations: Any, *, prefix: str = "") -> Q:
    """Referrals (reached through `prefix`) to which one of `organizations` is a party: it received them,
    or sent them about a record it had seen (a referral the duplicate check attached to an existing
    record does not make its sender a party to that record: it saw only what it typed)."""
    return Q(**{f"{prefix}sending_organization__in": organizations, f"{prefix}resident_as_typed": {}}) | Q(
        **{f"{prefix}receiving_organization__in": organizations}
    )


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
            in_force_q(), resident=resident, organization_id__in=organizations, kind=Consent.Kind.GENERAL
        )
        .order_by("granted_at")
        .first()
    )


def in_force_q() -> Q:
    """Consents in force now: active and, for a Part 2 consent, not past its expiry (read at every
    request, so an expiry takes effect on the next one as a revocation does)."""
    return Q(status=Consent.Status.ACTIVE) & (Q(expires_at__isnull=True) | Q(expires_at__gt=clock.now()))
