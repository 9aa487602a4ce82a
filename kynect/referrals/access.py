"""Who may do what with referrals: one table (`RULES`) that the pages, the API and the authorization test
all read (DESIGN §5.2). Role questions are answered by `kynect.accounts.selectors`.

A rule names the roles that may take an action and, for an action on one referral, which side of it
the user must be on:

- `receiving`: a member of the receiving organization (accept, start, hold, resume, reject, close);
- `sending`: a member of the sending organization, or the resident who referred themselves (cancel);
- `party`: either side, or the resident the referral is for (view, note);
- `anyone`: any referral (referral specialists' outreach, a state administrator's audited lookup).

`decide` answers ALLOWED, FORBIDDEN (the role may never do it: 403) or NOT_FOUND (a referral the user
has no part in: 404, as if it did not exist).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from kynect.accounts.models import Role
from kynect.accounts.selectors import memberships_held
from kynect.referrals.models import Referral
from kynect.residents.access import ORGANIZATION_ROLES

# Staff of an organization, who refer and work referrals: the residents' access table's.
__all__ = ["ORGANIZATION_ROLES"]


class Action(enum.StrEnum):
    CREATE = "create"  # make a referral (a resident: for themselves)
    BOXES = "boxes"  # the organization's Inbox and Outbox
    DASHBOARD = "dashboard"  # the partner referral dashboard (aggregates; state administrators: any)
    VIEW = "view"
    NOTE = "note"
    ACCEPT = "accept"
    START = "start"
    HOLD = "hold"
    RESUME = "resume"
    REJECT = "reject"
    CANCEL = "cancel"
    CLOSE = "close"
    WORKSPACE = "workspace"  # the referral specialists' workspace
    OUTREACH = "outreach"  # log an outreach attempt, confirm an outcome
    EXPIRE = "expire"
    REOPEN = "reopen"  # a closing made in error (ADR 0043)


class Side(enum.StrEnum):
    NONE = "none"  # not about one referral
    RECEIVING = "receiving"
    SENDING = "sending"
    PARTY = "party"
    ANYONE = "anyone"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    side: Side


_RECEIVING = Rule(ORGANIZATION_ROLES, Side.RECEIVING)
_SPECIALIST_ANY = Rule(frozenset({Role.REFERRAL_SPECIALIST}), Side.ANYONE)

RULES: dict[Action, Rule] = {
    Action.CREATE: Rule(ORGANIZATION_ROLES | {Role.RESIDENT}, Side.NONE),
    Action.BOXES: Rule(ORGANIZATION_ROLES, Side.NONE),
    Action.DASHBOARD: Rule(ORGANIZATION_ROLES | {Role.STATE_ADMIN}, Side.NONE),
    Action.VIEW: Rule(
        ORGANIZATION_ROLES | {Role.RESIDENT, Role.REFERRAL_SPECIALIST, Role.STATE_ADMIN}, Side.PARTY
    ),
    Action.NOTE: Rule(ORGANIZATION_ROLES | {Role.REFERRAL_SPECIALIST}, Side.PARTY),
    Action.ACCEPT: _RECEIVING,
    Action.START: _RECEIVING,
    Action.HOLD: _RECEIVING,
    Action.RESUME: _RECEIVING,
    Action.REJECT: _RECEIVING,
    Action.CLOSE: _RECEIVING,
    Action.REOPEN: _RECEIVING,
    Action.CANCEL: Rule(ORGANIZATION_ROLES | {Role.RESIDENT}, Side.SENDING),
    Action.WORKSPACE: Rule(frozenset({Role.REFERRAL_SPECIALIST}), Side.NONE),
    Action.OUTREACH: _SPECIALIST_ANY,
    Action.EXPIRE: _SPECIALIST_ANY,
}

# Roles that see every referral their rule allows (`anyone`), whatever the rule's side: specialists
# for outreach, state administrators through an audited lookup.
_SEE_ANY = frozenset({Role.REFERRAL_SPECIALIST, Role.STATE_ADMIN})


class Decision(enum.Enum):
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"


def user_organization_ids(*, user: Any, roles: frozenset[str] = ORGANIZATION_ROLES) -> set[Any]:
    """The organizations in which the user holds one of `roles`."""
    return {
        membership.organization_id
        for membership in memberships_held(user=user, role=roles)
        if membership.organization_id is not None
    }


def _memberships(user: Any) -> list[tuple[str, Any]]:
    """The user's active (role, organization id) pairs."""
    return [(membership.role, membership.organization_id) for membership in memberships_held(user=user)]


def decide(*, user: Any, action: Action, referral: Referral | None = None) -> Decision:
    """May `user` take `action` (on `referral`, for an action about one)?"""
    rule = RULES[action]
    memberships = _memberships(user)
    roles = {role for role, _organization in memberships} & rule.roles
    if not roles:
        if (
            referral is not None
            and action != Action.VIEW
            and decide(user=user, action=Action.VIEW, referral=referral) == Decision.NOT_FOUND
        ):
            return Decision.NOT_FOUND
        return Decision.FORBIDDEN
    if rule.side == Side.NONE or referral is None:
        return Decision.ALLOWED
    if rule.side == Side.ANYONE or roles & _SEE_ANY:
        return Decision.ALLOWED
    organizations = {organization for role, organization in memberships if role in roles and organization}
    resident_self = Role.RESIDENT in roles and referral.resident.user_id == user.pk
    receiving = referral.receiving_organization_id in organizations
    sending = referral.sending_organization_id in organizations or (
        resident_self and referral.sending_organization_id is None
    )
    if rule.side == Side.RECEIVING and receiving:
        return Decision.ALLOWED
    if rule.side == Side.SENDING and sending:
        return Decision.ALLOWED
    if rule.side == Side.PARTY and (receiving or sending or resident_self):
        return Decision.ALLOWED
    if receiving or sending or resident_self:
        return Decision.FORBIDDEN  # a party, on the other side
    return Decision.NOT_FOUND
