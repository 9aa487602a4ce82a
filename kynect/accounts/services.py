"""Onboarding, invitations, memberships, training attestations, and the limits on sign-in attempts and
password reset requests."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.accounts.agreements import PRIVACY_TRAINING_VERSION, USER_AGREEMENT_VERSION
from kynect.accounts.lifecycles import ORGANIZATION_ONBOARDING
from kynect.accounts.models import Invitation, Membership, Organization, Role, TrainingAttestation, User
from kynect.accounts.selectors import (
    invitable_roles,
    is_partner_admin,
    is_state_admin,
)
from kynect.accounts.signals import organization_onboarding_changed
from kynect.core import clock
from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.core.ratelimit import RateLimitResult, rate_limit_hit, rate_limit_key, rate_limit_reset
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
    """An organization's admin invites someone to it with a role its type allows, or a state administrator
    invites a referral specialist or state administrator; the email is written to the outbox."""
    roles = invitable_roles(user=invited_by, organization=organization)
    if not roles:
        if is_partner_admin(user=invited_by, organization=organization) or is_state_admin(user=invited_by):
            raise ValidationError(
                _("You can invite people once a state administrator approves the organization's application.")
            )
        raise PermissionDenied
    if role not in roles:
        raise ValidationError({"role": _("Choose one of the roles offered.")})
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


@transaction.atomic
def organization_apply(
    *,
    name: str,
    organization_type: str,
    tax_status: str,
    address_1: str,
    address_2: str,
    city: str,
    postal_code: str,
    hsds_organization_id: UUID | None,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    agreement_accepted: bool,
    language: str,
) -> Organization:
    """An organization applies to become a partner (ADR 0037).

    Its first user is made here, active, the organization's partner admin, and accepts the user agreement
    for it. Until a state administrator approves the application they may sign in and see where it stands,
    but see no resident data and invite no one. Any refusal is a ValidationError by field; nothing is saved.
    """
    errors: dict[str, list[str]] = {}
    name = " ".join(name.split())
    email = email.strip().lower()
    if not agreement_accepted:
        errors.setdefault("agreement", []).append(_("Accept the user agreement to apply."))
    if Organization.objects.filter(name__iexact=name).exists():
        errors.setdefault("name", []).append(
            _("An organization with this name is already on kynect resources or has applied.")
        )
    if (
        hsds_organization_id is not None
        and Organization.objects.filter(hsds_organization_id=hsds_organization_id).exists()
    ):
        errors.setdefault("hsds_organization", []).append(
            _("This directory listing already belongs to another organization. Contact kynect resources.")
        )
    try:
        place = zip_lookup(postal_code)
    except UnknownZipCodeError as error:
        errors.setdefault("postal_code", []).append(str(error))
        place = None
    if User.objects.filter(email__iexact=email).exists():
        errors.setdefault("email", []).append(
            _("An account with this email address exists. Sign in, or apply with another email address.")
        )
    applicant = User(
        email=email, first_name=first_name.strip(), last_name=last_name.strip(), preferred_language=language
    )
    try:
        validate_password(password, applicant)
    except ValidationError as error:
        errors.setdefault("password1", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    assert place is not None
    now = clock.now()
    applicant.set_password(password)
    applicant.full_clean()
    organization = Organization(
        name=name,
        type=organization_type,
        tax_status=tax_status,
        address_1=address_1.strip(),
        address_2=address_2.strip(),
        city=city.strip(),
        state_province=place.state,
        postal_code=postal_code.strip(),
        hsds_organization_id=hsds_organization_id,
        applied_at=now,
        agreement_version=USER_AGREEMENT_VERSION,
        agreement_accepted_at=now,
    )
    organization.full_clean(exclude=["applied_by", "agreement_accepted_by"])
    try:
        with transaction.atomic():
            applicant.save()
            organization.applied_by = applicant
            organization.agreement_accepted_by = applicant
            organization.save()
    except IntegrityError as exc:  # another application with the same name, listing or email won
        raise ValidationError(
            _("Another application with the same name, listing or email address arrived first. Check them.")
        ) from exc
    Membership.objects.create(user=applicant, organization=organization, role=Role.PARTNER_ADMIN)
    email_queue(
        to=applicant.email,
        template="accounts/application_received",
        context={"organization": organization.name},
        language=applicant.preferred_language,
    )
    return organization


def _decision_announce(*, organization: Organization, template: str, context: dict[str, str]) -> None:
    organization_onboarding_changed.send(sender=Organization, organization=organization)
    applicant = organization.applied_by
    if applicant is not None:
        email_queue(
            to=applicant.email,
            template=template,
            context={"organization": organization.name, **context},
            language=applicant.preferred_language,
        )


@transaction.atomic
def organization_approve(*, actor: User, organization: Organization) -> Organization:
    """A state administrator approves an application: the organization is onboarded, a KY Partner, and
    its applicant is told by email in their language. One conditional UPDATE: a decided application stays
    as it is (ValidationError)."""
    if not is_state_admin(user=actor):
        raise PermissionDenied
    if not ORGANIZATION_ONBOARDING.apply(
        "approve", instance=organization, now=clock.now(), values={"decided_by": actor}
    ):
        raise ValidationError(_("This application was already decided."))
    with translation.override(
        organization.applied_by.preferred_language if organization.applied_by else "en"
    ):
        path = reverse("accounts:organization_users_index")
    _decision_announce(
        organization=organization,
        template="accounts/application_approved",
        context={"users_url": f"{settings.SITE_URL}{path}"},
    )
    return organization


@transaction.atomic
def organization_decline(*, actor: User, organization: Organization, reason: str) -> Organization:
    """A state administrator declines an application with a reason, which the applicant is sent."""
    if not is_state_admin(user=actor):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the application is declined.")})
    if not ORGANIZATION_ONBOARDING.apply(
        "decline",
        instance=organization,
        now=clock.now(),
        values={"decided_by": actor, "decline_reason": reason},
    ):
        raise ValidationError(_("This application was already decided."))
    _decision_announce(
        organization=organization, template="accounts/application_declined", context={"reason": reason}
    )
    return organization


def training_attest(*, user: User) -> TrainingAttestation:
    """The user attests they completed the privacy and security training in force; once per version."""
    attestation, _created = TrainingAttestation.objects.get_or_create(
        user=user, version=PRIVACY_TRAINING_VERSION, defaults={"attested_at": clock.now()}
    )
    return attestation


def login_attempt_begin(*, email: str, ip_address: str | None) -> RateLimitResult:
    """Count one sign-in attempt before its password is checked; the result says whether it may be checked.

    Two limits, each counted atomically so that attempts made at the same moment cannot pass together:
    `LOGIN_THROTTLE_LIMIT` attempts at one account from one client address, and four times as many at one
    account from all addresses. An attempt the first refuses is not counted by the second, so one address
    can never lock an account's owner out elsewhere; and as nothing is counted per address alone, failures
    with other emails, made up or not, never stop anyone behind that address signing in to their own account.
    Unknown emails are counted like accounts, so the answers do not tell which accounts exist.
    """
    account = email.strip().lower()
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    from_address = rate_limit_hit(
        key=rate_limit_key("login-account-address", account, ip_address or "unknown"),
        limit=settings.LOGIN_THROTTLE_LIMIT,
        window_seconds=window,
    )
    if not from_address.allowed:
        return from_address
    return rate_limit_hit(
        key=rate_limit_key("login-account", account),
        limit=settings.LOGIN_THROTTLE_LIMIT * 4,
        window_seconds=window,
    )


def login_success_record(*, email: str, ip_address: str | None) -> None:
    """The owner proved who they are: forget the account's counted attempts, theirs included."""
    account = email.strip().lower()
    rate_limit_reset(key=rate_limit_key("login-account-address", account, ip_address or "unknown"))
    rate_limit_reset(key=rate_limit_key("login-account", account))


def password_reset_attempt_begin(*, email: str, ip_address: str | None) -> RateLimitResult:
    """Count one request for a password reset link; the result says whether a link may be sent.

    `PASSWORD_RESET_THROTTLE_LIMIT` requests per email address, and four times as many per client address,
    within the window. Every well-formed request counts, for an account or not, so that neither the answer
    nor the limit tells whether an account exists; a request the email's limit refuses is not counted
    against the address.
    """
    window = settings.PASSWORD_RESET_THROTTLE_WINDOW_SECONDS
    for_email = rate_limit_hit(
        key=rate_limit_key("password-reset-email", email.strip().lower()),
        limit=settings.PASSWORD_RESET_THROTTLE_LIMIT,
        window_seconds=window,
    )
    if not for_email.allowed:
        return for_email
    return rate_limit_hit(
        key=rate_limit_key("password-reset-address", ip_address or "unknown"),
        limit=settings.PASSWORD_RESET_THROTTLE_LIMIT * 4,
        window_seconds=window,
    )


def user_notify_by_set(*, user: User, notify_by: str) -> User:
    """How the user is told of new referrals: email, or email and text (which needs a mobile phone)."""
    if notify_by not in User.NotifyBy.values:
        raise ValidationError({"notify_by": [_("Choose email, or email and text message.")]})
    if notify_by == User.NotifyBy.EMAIL_AND_TEXT and not user.phone:
        raise ValidationError({"notify_by": [_("Add a mobile phone number to your account to get texts.")]})
    User.objects.filter(pk=user.pk).update(notify_by=notify_by)
    user.notify_by = notify_by
    return user
