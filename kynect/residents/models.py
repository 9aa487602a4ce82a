"""Residents of kynect resources (DESIGN §5.2): the person a referral is for, their household and
enrolled programs, and their consent per organization.

A resident record is personal data: it is read through `kynect.core.audit.audited_read` and shown only
to those DESIGN §5.2 allows (`kynect.residents.selectors`).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kynect.core import clock
from kynect.core.codes import LinkSecrets
from kynect.core.models import BaseModel

# The secret of a consent request's link (DESIGN §5.6a): derived from the request's id and key when its
# message is sent, kept only as a keyed hash.
CONSENT_REQUEST_LINK = LinkSecrets(purpose="kynect.residents.consent-request.link")


class ContactMethod(models.TextChoices):
    EMAIL = "email", _("Email")
    TEXT = "text", _("Text message")
    PHONE = "phone", _("Phone call")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    ANOTHER = "another", _("Another gender")
    NOT_SAID = "not_said", _("Prefer not to say")


class Resident(BaseModel):
    """A person referred for help. `match_key` (normalised last name, first name and date of birth) and
    `client_id` are what the duplicate check compares."""

    client_id = models.CharField(_("client ID"), max_length=40, blank=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    # Null only once the record is erased (retention); every form and service asks for it.
    birth_date = models.DateField(_("date of birth"), null=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    email = models.EmailField(_("email"), blank=True)
    mobile_phone = models.CharField(_("mobile phone"), max_length=16, blank=True)
    preferred_contact_method = models.CharField(
        _("preferred contact method"), max_length=8, choices=ContactMethod.choices, default=ContactMethod.TEXT
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=[("en", "English"), ("es", "Español")], default="en"
    )
    address_1 = models.CharField(_("street address"), max_length=200, blank=True)
    address_2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state_province = models.CharField(_("state"), max_length=2, default="KY")
    postal_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    county_fips = models.CharField(_("county"), max_length=5, blank=True)
    match_key = models.CharField(max_length=220, editable=False, db_index=True)
    # The resident's own account, when they sign in (a resident sees their own record).
    # When retention erased the personal fields (the counts stay): see `retention`.
    erased_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident",
        verbose_name=_("account"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Whether the resident's SDoH information is shared with KHIE: their choice in My Plan, or, until they
    # make one (None), the state's policy (`KHIE_SHARING_DEFAULT`).
    khie_sharing = models.BooleanField(_("share SDoH information with KHIE"), null=True, blank=True)

    def shares_with_khie(self) -> bool:
        return self.khie_sharing if self.khie_sharing is not None else settings.KHIE_SHARING_DEFAULT

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_id"], condition=~Q(client_id=""), name="resident_client_id_unique"
            ),
            models.CheckConstraint(
                condition=~Q(preferred_contact_method="email") | ~Q(email="") | Q(erased_at__isnull=False),
                name="resident_email_when_preferred",
            ),
            models.CheckConstraint(
                condition=Q(preferred_contact_method="email")
                | ~Q(mobile_phone="")
                | Q(erased_at__isnull=False),
                name="resident_phone_when_preferred",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class HouseholdMember(BaseModel):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="household")
    name = models.CharField(_("name"), max_length=200)
    age = models.PositiveSmallIntegerField(_("age"))
    relationship = models.CharField(_("relationship"), max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(age__lte=130), name="household_age_plausible")]


class EnrolledProgram(BaseModel):
    class Program(models.TextChoices):
        MEDICAID = "medicaid", _("Medicaid")
        KCHIP = "kchip", _("KCHIP")
        SNAP = "snap", _("SNAP")
        KTAP = "ktap", _("K-TAP")
        WIC = "wic", _("WIC")
        QHP = "qhp", _("Qualified health plan")
        CHILD_CARE_ASSISTANCE = "ccap", _("Child Care Assistance Program")
        LIHEAP = "liheap", _("LIHEAP")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="programs")
    program = models.CharField(_("program"), max_length=10, choices=Program.choices)
    started_on = models.DateField(_("start date"))
    renewal_on = models.DateField(_("renewal date"), null=True, blank=True)

    class Meta:
        ordering = ["program"]
        constraints = [
            models.UniqueConstraint(fields=["resident", "program"], name="enrolled_program_once"),
            models.CheckConstraint(
                condition=Q(renewal_on__isnull=True) | Q(renewal_on__gte=models.F("started_on")),
                name="enrolled_program_renews_after_start",
            ),
        ]


RESIDENT_NOTE_MAX_LENGTH = 4000
RESIDENT_NOTE_SUBJECT_MAX_LENGTH = 200


class ResidentNote(BaseModel):
    """A note on a resident by a staff member of an organization holding their consent, or an email that
    staff member sent the resident (kept on the same timeline): seen with the full view; a note's
    organization may edit it for 24 hours, then it is kept as written (an email never changes)."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        EMAIL = "email", _("Email sent to the resident")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.NOTE)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("subject"), max_length=RESIDENT_NOTE_SUBJECT_MAX_LENGTH)
    body = models.TextField(_("note"), max_length=RESIDENT_NOTE_MAX_LENGTH)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["resident", "-created_at"], name="resident_note_latest")]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class Consent(BaseModel):
    """A resident's consent for one organization to see their record (DESIGN §5.2), states as FHIR
    Consent's. One row per (resident, organization, kind); its history is `ConsentEvent`.

    A `general` consent opens the Resident Detail Screen. A `part2` consent is the separate,
    recipient-specific consent of 42 CFR Part 2 (§2.31): it names its purpose, what is shared and when it
    expires, and only it opens the resident's Part 2 data (`kynect.residents.part2`)."""

    class Kind(models.TextChoices):
        GENERAL = "general", _("General consent")
        PART2 = "part2", _("42 CFR Part 2 consent")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Requested")
        ACTIVE = "active", _("Granted")
        REJECTED = "rejected", _("Declined")
        INACTIVE = "inactive", _("Revoked")

    class Channel(models.TextChoices):
        PRE_CONSENT = "pre_consent", _("Pre-consent with a referral")
        TEXT = "text", _("Text message link")
        EMAIL = "email", _("Email link")
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("By phone")
        RESIDENT = "resident", _("By the resident, signed in")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="consents")
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="consents"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED)
    channel = models.CharField(_("how"), max_length=12, choices=Channel.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GENERAL)
    # A Part 2 consent's own terms (42 CFR §2.31), fixed when it is asked for: why the organization
    # wants the records, what they are, and when the consent ends by itself.
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    shares = models.CharField(_("what is shared"), max_length=300, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # The name the resident typed to sign a Part 2 consent (erased with the resident's other details).
    signature = models.CharField(_("signature"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "organization", "kind"], name="consent_one_per_organization_kind"
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(granted_at__isnull=False), name="consent_active_has_time"
            ),
            models.CheckConstraint(
                condition=Q(kind="general") | (Q(expires_at__isnull=False) & ~Q(purpose="")),
                name="consent_part2_has_terms",
            ),
        ]

    def in_force(self, now: datetime | None = None) -> bool:
        """Active, and (a Part 2 consent) not past its expiry."""
        if self.status != self.Status.ACTIVE:
            return False
        return self.expires_at is None or self.expires_at > (now or clock.now())


class ConsentEvent(models.Model):
    """One change of a consent: its full history (append-only by convention: nothing updates it)."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(max_length=20)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    channel = models.CharField(max_length=12, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A staff member's attestation of consent given or revoked in person or by phone.
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.transition} at {self.at:%Y-%m-%d %H:%M}"


class ConsentRequest(BaseModel):
    """One request for a resident's consent, sent by text or email: a signed link that the resident
    answers without signing in, once, within 7 days (DESIGN §5.2). The link's secret is never stored:
    `link_key` derives it when the message is sent (and is wiped once the request is answered), and
    `token_hash` checks it."""

    class Answer(models.TextChoices):
        GRANT = "grant", _("Granted")
        DECLINE = "decline", _("Declined")

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="requests")
    channel = models.CharField(_("how"), max_length=12, choices=Consent.Channel.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    link_key = models.CharField(max_length=64, blank=True)
    token_hash = models.CharField(max_length=64)
    message = models.OneToOneField(
        "notifications.OutboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=8, choices=Answer.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answer="")
                | Q(answered_at__isnull=False) & ~Q(answer=""),
                name="consent_request_answered_with_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent request {self.pk}"
