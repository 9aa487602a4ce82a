"""Role questions are answered by accounts selectors only (DESIGN §5.6a): outside the accounts app no code
filters memberships by role itself, and users have no role methods of their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KYNECT = Path(__file__).resolve().parents[2]
QUERY_METHODS = {"filter", "exclude", "get", "get_or_create", "update_or_create", "count", "exists", "first"}


def role_questions(source: str) -> list[int]:
    """The lines of `source` that ask a role question by hand: a query on memberships by role, a lookup
    across the memberships relation by role, or a call of a `has_role`/`roles_in` method."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"has_role", "roles_in"}:
            lines.append(node.lineno)
            continue
        on_memberships = (
            isinstance(func, ast.Attribute)
            and func.attr in QUERY_METHODS
            and ("Membership.objects" in ast.unparse(func.value) or "memberships" in ast.unparse(func.value))
        )
        for keyword in node.keywords:
            name = keyword.arg or ""
            if name.startswith("memberships__role") or (on_memberships and name in {"role", "role__in"}):
                lines.append(node.lineno)
                break
    return sorted(lines)


def modules_outside_accounts() -> list[Path]:
    return [
        path
        for path in sorted(KYNECT.rglob("*.py"))
        if not {"tests", "migrations"} & set(path.parts) and path.relative_to(KYNECT).parts[0] != "accounts"
    ]


def test_no_role_question_is_asked_outside_the_accounts_selectors() -> None:
    found = [
        f"{path.relative_to(KYNECT.parent)}:{line}"
        for path in modules_outside_accounts()
        for line in role_questions(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "ask kynect.accounts.selectors instead: " + ", ".join(found)


def test_users_have_no_role_methods() -> None:
    from kynect.accounts.models import User

    assert not hasattr(User, "has_role")
    assert not hasattr(User, "roles_in")


@pytest.mark.parametrize(
    "source",
    [
        "Membership.objects.filter(user=user, is_active=True, role=Role.STATE_ADMIN).exists()",
        "Membership.objects.filter(is_active=True).filter(role__in=roles)",
        "user.memberships.filter(is_active=True, role=role).exists()",
        "memberships = Membership.objects.filter(user=actor)\nmemberships.filter(role=Role.AGENCY_ADMIN)",
        "Organization.objects.filter(memberships__user=user, memberships__role=Role.AGENCY_ADMIN)",
        "User.objects.filter(memberships__role__in=roles)",
        "user.has_role(Role.KYNECTOR)",
        "user.roles_in(organization)",
    ],
)
def test_the_check_finds_a_role_question_asked_by_hand(source: str) -> None:
    assert role_questions(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "active_memberships(user=user, role=HELPER_ROLES)",
        "user_has_role(user=actor, role=Role.AGENCY_ADMIN, organization=agency)",
        "memberships_with_role(role=AGENCY_ROLES, organizations=agencies)",
        "Helper.objects.filter(role=Helper.Role.AGENT)",
        "Membership.objects.select_related('user').filter(pk=membership_id)",
    ],
)
def test_the_check_leaves_selector_calls_and_other_roles_alone(source: str) -> None:
    assert role_questions(source) == []
