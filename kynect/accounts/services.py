"""Invitations, memberships and sign-in throttling."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.accounts.models import PARTNER_INVITABLE_ROLES, Invitation, Membership, Organization, User
from kynect.accounts.selectors import is_partner_admin
from kynect.core import clock
from kynect.core.ratelimit import (
    RateLimitResult,
    rate_limit_exceeded,
    rate_limit_hit,
    rate_limit_key,
    rate_limit_reset,
)
from kynect.notifications.services import email_queue

INVITATION_SALT = "kynect.accounts.invitation"


def invitation_token(*, invitation: Invitation) -> str:
    return signing.dumps(str(invitation.pk), salt=INVITATION_SALT)


def invitation_from_token(*, token: str) -> Invitation:
    """The open invitation a token names. Raises ValidationError with a message for a person."""
    try:
        invitation_id = signing.loads(
            token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise ValidationError(
            _("This invitation has expired. Ask your organization's admin for a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise ValidationError(
            _("This invitation link is not valid. Check that you copied all of it.")
        ) from exc
    invitation = Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
    if invitation is None or invitation.revoked_at is not None:
        raise ValidationError(
            _("This invitation was withdrawn. Ask your organization's admin for a new one.")
        )
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was already used. Sign in with your email address."))
    if invitation.expires_at <= clock.now():
        raise ValidationError(_("This invitation has expired. Ask your organization's admin for a new one."))
    return invitation


@transaction.atomic
def invitation_create(*, invited_by: User, organization: Organization, email: str, role: str) -> Invitation:
    """A community-partner admin invites someone to their organization; the email goes out on commit."""
    if not is_partner_admin(user=invited_by, organization=organization):
        raise PermissionDenied
    if role not in PARTNER_INVITABLE_ROLES:
        raise ValidationError({"role": _("Choose a community partner role.")})
    email = email.strip().lower()
    if Membership.objects.filter(
        organization=organization, user__email__iexact=email, role=role, is_active=True
    ).exists():
        raise ValidationError({"email": _("This person already has that role in your organization.")})
    Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=clock.now())
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        invited_by=invited_by,
        expires_at=clock.now() + timedelta(seconds=settings.INVITATION_MAX_AGE_SECONDS),
    )
    invitation.full_clean()
    invitation.save()
    existing = User.objects.filter(email__iexact=email).first()
    language = existing.preferred_language if existing else translation.get_language() or "en"
    with translation.override(language):
        path = reverse(
            "accounts:invitation_accept", kwargs={"token": invitation_token(invitation=invitation)}
        )
    email_queue(
        to=email,
        template="accounts/invitation",
        context={
            "organization": organization.name,
            "inviter": invited_by.get_full_name() or invited_by.email,
            "role": invitation.get_role_display(),
            "accept_url": f"{settings.SITE_URL}{path}",
            "days": settings.INVITATION_MAX_AGE_SECONDS // 86400,
        },
        language=language,
    )
    return invitation


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, first_name: str = "", last_name: str = "", password: str = ""
) -> User:
    """Join the organization. A new person also chooses their name and password here."""
    claimed = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(accepted_at=clock.now())
    if not claimed:
        raise ValidationError(_("This invitation was already used. Sign in with your email address."))
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        user = User(email=invitation.email, first_name=first_name.strip(), last_name=last_name.strip())
        validate_password(password, user)
        user.set_password(password)
        user.preferred_language = translation.get_language() or "en"
        user.full_clean()
        user.save()
    elif not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    membership, created = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, role=invitation.role
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.deactivated_at = None
        membership.deactivated_by = None
        membership.save(update_fields=["is_active", "deactivated_at", "deactivated_by", "updated_at"])
    return user


@transaction.atomic
def membership_deactivate(*, actor: User, membership: Membership) -> Membership:
    """A community-partner admin removes someone from their organization.

    A person left with no active role cannot sign in any more.
    """
    if membership.organization is None or not is_partner_admin(
        user=actor, organization=membership.organization
    ):
        raise PermissionDenied
    if membership.user_id == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself. Ask another admin of your organization."))
    updated = Membership.objects.filter(pk=membership.pk, is_active=True).update(
        is_active=False, deactivated_at=clock.now(), deactivated_by=actor, updated_at=clock.now()
    )
    if updated and not Membership.objects.filter(user_id=membership.user_id, is_active=True).exists():
        User.objects.filter(pk=membership.user_id).update(is_active=False)
    membership.refresh_from_db()
    return membership


def _login_keys(*, email: str, ip_address: str | None) -> tuple[str, str]:
    return rate_limit_key("login-email", email.strip().lower()), rate_limit_key(
        "login-ip", ip_address or "unknown"
    )


def login_throttle_check(*, email: str, ip_address: str | None) -> RateLimitResult:
    """Whether another sign-in attempt is allowed now for this email and this address."""
    email_key, ip_key = _login_keys(email=email, ip_address=ip_address)
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    by_email = rate_limit_exceeded(key=email_key, limit=settings.LOGIN_THROTTLE_LIMIT, window_seconds=window)
    by_ip = rate_limit_exceeded(key=ip_key, limit=settings.LOGIN_THROTTLE_LIMIT * 4, window_seconds=window)
    return by_email if not by_email.allowed else by_ip


def login_failure_record(*, email: str, ip_address: str | None) -> None:
    email_key, ip_key = _login_keys(email=email, ip_address=ip_address)
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    rate_limit_hit(key=email_key, limit=settings.LOGIN_THROTTLE_LIMIT, window_seconds=window)
    rate_limit_hit(key=ip_key, limit=settings.LOGIN_THROTTLE_LIMIT * 4, window_seconds=window)


def login_success_record(*, email: str) -> None:
    email_key, _ip_key = _login_keys(email=email, ip_address=None)
    rate_limit_reset(key=email_key)
