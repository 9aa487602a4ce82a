from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kynect.core.models import BaseModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Emails are stored lowercased, so signing in works whatever case the person types.
        return self.get(email__iexact=(username or "").strip())

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. The email address is the sign-in name."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    phone = models.CharField(
        _("mobile phone"), max_length=16, blank=True, help_text=_("E.164, like +15025550123.")
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=[("en", "English"), ("es", "Español")], default="en"
    )

    class NotifyBy(models.TextChoices):
        EMAIL = "email", _("Email")
        EMAIL_AND_TEXT = "email_and_text", _("Email and text message")

    # How the user is told of new referrals and other work (texts need `phone`).
    notify_by = models.CharField(
        _("tell me by"), max_length=16, choices=NotifyBy.choices, default=NotifyBy.EMAIL
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_any_case")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()


class Organization(BaseModel):
    """An organization whose people use the platform. The directory links it to its HSDS organization."""

    class Type(models.TextChoices):
        NOT_FOR_PROFIT = "not_for_profit", _("Not-for-profit")
        FOR_PROFIT = "for_profit", _("For-profit")
        STATE_AGENCY = "state_agency", _("State agency")
        HOSPITAL = "hospital", _("Hospital")
        MCO = "mco", _("Managed care organization (MCO)")
        OTHER = "other", _("Other")

    class TaxStatus(models.TextChoices):
        NONPROFIT_501C3 = "501c3", _("501(c)(3) charity")
        OTHER_EXEMPT = "other_exempt", _("Other tax-exempt organization")
        TAXABLE = "taxable", _("Taxable business")
        GOVERNMENT = "government", _("Government body")

    class Status(models.TextChoices):
        """Onboarding (`kynect.accounts.lifecycles.ORGANIZATION_ONBOARDING`)."""

        APPLIED = "applied", pgettext_lazy("onboarding status", "Applied")
        APPROVED = "approved", pgettext_lazy("onboarding status", "Approved")
        DECLINED = "declined", pgettext_lazy("onboarding status", "Declined")

    name = models.CharField(_("name"), max_length=200, unique=True)
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    address_1 = models.CharField(_("mailing address"), max_length=200, blank=True)
    address_2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state_province = models.CharField(_("state"), max_length=2, default="KY")
    postal_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    hsds_organization = models.OneToOneField(
        "directory.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="platform_organization",
        verbose_name=_("directory organization"),
    )
    onboarded_at = models.DateTimeField(
        _("onboarding completed"),
        null=True,
        blank=True,
        help_text=_("Set when onboarding is done: a KY Partner."),
    )
    tax_status = models.CharField(_("tax status"), max_length=16, choices=TaxStatus.choices, blank=True)
    status = models.CharField(
        _("onboarding status"), max_length=16, choices=Status.choices, default=Status.APPLIED
    )
    applied_by = models.ForeignKey(
        "User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("applicant"),
    )
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    decided_by = models.ForeignKey("User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    agreement_version = models.CharField(_("user agreement version"), max_length=16, blank=True)
    agreement_accepted_at = models.DateTimeField(_("user agreement accepted"), null=True, blank=True)
    agreement_accepted_by = models.ForeignKey(
        "User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            # A KY Partner is exactly an approved organization: approval sets `onboarded_at`.
            models.CheckConstraint(
                condition=models.Q(status="approved", onboarded_at__isnull=False)
                | (~models.Q(status="approved") & models.Q(onboarded_at__isnull=True)),
                name="organization_onboarded_iff_approved",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="organization_declined_with_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(agreement_version="", agreement_accepted_at__isnull=True)
                | (~models.Q(agreement_version="") & models.Q(agreement_accepted_at__isnull=False)),
                name="organization_agreement_version_and_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    PARTNER_USER = "partner_user", _("Community partner user")
    PARTNER_ADMIN = "partner_admin", _("Community partner admin")
    REFERRAL_SPECIALIST = "referral_specialist", _("Referral specialist")
    PROVIDER_USER = "provider_user", _("Provider / hospital user")
    STATE_STAFF = "state_staff", _("DCBS or state agency staff")
    MCO_USER = "mco_user", _("MCO user")
    STATE_ADMIN = "state_admin", _("State administrator")
    INSURANCE_AGENT = "insurance_agent", _("Insurance agent")
    KYNECTOR = "kynector", _("kynector")
    AGENCY_ADMIN = "agency_admin", _("Agency admin")


class Membership(BaseModel):
    """A user's role, tied to an organization where the role needs one (residents have none)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(organization__isnull=True),
                name="membership_unique_no_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organization or '—'}"


class TrainingAttestation(BaseModel):
    """A user's word that they completed the privacy and security training of one version."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="training_attestations")
    version = models.CharField(_("training version"), max_length=16)
    attested_at = models.DateTimeField(_("attested"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="training_attestation_once_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.user} — training {self.version}"


class Invitation(BaseModel):
    """A community-partner admin's invitation for someone to join their organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.organization} ({self.get_role_display()})"


class ApiScope(models.TextChoices):
    """What a system client's token may do. A user's token has no scopes: it may do what its user may."""

    ONDEMAND_INTAKE = "ondemand.intake", _("Submit kynect On Demand help requests")
    HSDS_READ = (
        "hsds.read",
        _("Read the HSDS API with a rate limit of its own, and export the whole directory"),
    )
    METRICS_READ = "metrics.read", _("Read the operational metrics for Prometheus at /metrics")
    KHIE = "khie", _("Exchange SDOH data with the Kentucky Health Information Exchange (KHIE)")


class ApiToken(BaseModel):
    """A token for the JSON APIs (DESIGN §5.6a), sent as `Authorization: Bearer <token>`.

    It belongs either to a user, and acts exactly as that user, or to a named system client (IEES, KHIE,
    an EHR, the On Demand intake), which may do only what its `scopes` allow. The token is shown once,
    when made (`api_token create`); only its prefix and a keyed hash are kept. `rate_limited` off exempts
    a trusted caller from per-token limits. A token works until `revoked_at` is set.
    """

    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens")
    client = models.CharField(_("client"), max_length=100, blank=True, default="")
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    rate_limited = models.BooleanField(_("rate limited"), default=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["client", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(client=""))
                | (models.Q(user__isnull=True) & ~models.Q(client="")),
                name="api_token_user_or_client",
            )
        ]

    def __str__(self) -> str:
        owner = self.client or str(self.user)
        return f"{owner} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
