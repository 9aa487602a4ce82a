"""Closed-loop referrals of kynect resources (DESIGN §5.1): a referral of a resident to a service, its
timeline, notes, outcome, and the outreach of United Way's referral specialists.

Statuses are FHIR Task's (SDOHCC-TaskForReferralManagement), shown to people as New, In Progress and
Closed (`Referral.Box`). Every status change is a transition of `kynect.referrals.lifecycles`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kynect.core.models import BaseModel
from kynect.core.sdoh import SdohDomain

NOTE_MAX_LENGTH = 4000


class ClosureReason(models.TextChoices):
    """Why a resource was not provided: the resources overview's 16 reasons ("Reason it was not
    provided"), in its order and wording."""

    ELIGIBILITY = "eligibility", _("Didn't meet eligibility criteria")
    NO_SHOW = "no_show", _("Client didn't come to appointment")
    REFUSED_PLAN = "refused_plan", _("Client refused plan")
    NO_FUNDING = "no_funding", _("Funding not available")
    UNREACHABLE = "unreachable", _("Unable to reach client")
    SERVICES_DID_NOT_FIT = "services_did_not_fit", _("Services available didn't fit the client's need")
    OTHER = "other", _("Other")
    EXPIRED = "expired", _("Expired")
    OUTSIDE_AREA = "outside_area", _("Outside Service Area")
    HELPED_BY_ANOTHER_ORGANIZATION = (
        "helped_by_other_org",
        _("Yes, resident got help from another organization"),
    )
    HELPED_BY_FAMILY = "helped_by_family", _("Yes, resident got help from family or friend")
    NO_RESPONSE = "no_response", _("No, resident did not get a response from the Organization")
    TOO_FAR = "too_far", _("No, the organization was too far away")
    NO_LONGER_NEEDED = "no_longer_needed", _("Resident no longer needing help")
    RESOURCE_DID_NOT_FIT = "resource_did_not_fit", _("The resource didn't fit the resident's need")
    IN_ERROR = "in_error", _("The referral was made in error")


class Referral(BaseModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("New")
        ACCEPTED = "accepted", _("Accepted")
        IN_PROGRESS = "in-progress", _("In progress")
        ON_HOLD = "on-hold", _("On hold")
        COMPLETED = "completed", _("Closed: resource provided")
        FAILED = "failed", _("Closed: resource not provided")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")

    class Box(models.TextChoices):
        """What people see (DESIGN §5.1)."""

        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In Progress")
        CLOSED = "closed", _("Closed")

    class Urgency(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        URGENT = "urgent", _("Urgent")

    class Experience(models.TextChoices):
        UP = "up", _("Good (thumbs up)")
        DOWN = "down", _("Poor (thumbs down)")

    BOX_STATUSES: dict[str, tuple[str, ...]] = {
        Box.NEW: (Status.REQUESTED,),
        Box.IN_PROGRESS: (Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD),
        Box.CLOSED: (
            Status.COMPLETED,
            Status.FAILED,
            Status.REJECTED,
            Status.CANCELLED,
            Status.ENTERED_IN_ERROR,
        ),
    }
    OPEN_STATUSES: tuple[str, ...] = (Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD)

    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey("directory.Service", on_delete=models.PROTECT, related_name="referrals")
    # The service's organization in the directory, and the platform organization that receives the
    # referral: none when the listing's organization has not joined kynect resources.
    receiving_listing = models.ForeignKey(
        "directory.Organization", on_delete=models.PROTECT, related_name="referrals_received"
    )
    receiving_organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("receiving organization"),
    )
    # None when a resident referred themselves.
    sending_organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_sent",
        verbose_name=_("sending organization"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    need = models.CharField(_("need"), max_length=30, choices=SdohDomain.choices)
    # The county the resident lived in when referred (FIPS), kept for the metrics: where the need was.
    county_fips = models.CharField(_("county"), max_length=5, blank=True)
    note = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH, blank=True)
    # What the sender typed about the resident when the duplicate check attached the referral to a record
    # that already existed: the sending side is shown this, never the record (DESIGN §5.2). Empty when the
    # referral made the record or named one the sender could already see.
    resident_as_typed = models.JSONField(_("the resident as the sender typed them"), default=dict, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    # 42 CFR Part 2 data (`kynect.residents.part2`): a Substance Abuse need, or a service filed under
    # substance use treatment. Fixed when the referral is made; shown beyond its parties only to
    # organizations holding the resident's Part 2 consent (`selectors.referrals_part2_masked`).
    part2 = models.BooleanField(_("42 CFR Part 2"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Whether the receiving organization had completed onboarding when the referral was made (the sender
    # is told at once when it had not).
    receiver_onboarded = models.BooleanField(default=True)
    # Closing (the resources overview's form).
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    experience = models.CharField(_("experience"), max_length=4, choices=Experience.choices, blank=True)
    resource_provided = models.BooleanField(_("resource provided"), null=True, blank=True)
    not_provided_reason = models.CharField(
        _("reason it was not provided"), max_length=24, choices=ClosureReason.choices, blank=True
    )
    # Deadlines the worker applies (DESIGN §5.6): an open referral needs a specialist's outreach 7 days
    # after it was made; one to an organization that has not onboarded may be expired after 14.
    outreach_due_at = models.DateTimeField(null=True, blank=True)
    outreach_flagged_at = models.DateTimeField(null=True, blank=True)
    expiry_due_at = models.DateTimeField(null=True, blank=True)
    expirable_at = models.DateTimeField(null=True, blank=True)
    # A specialist confirmed the outcome with the resident.
    outcome_confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["receiving_organization", "status", "created_at"], name="referral_inbox"),
            models.Index(fields=["sending_organization", "status", "created_at"], name="referral_outbox"),
            models.Index(fields=["resident", "created_at"], name="referral_by_resident"),
            models.Index(fields=["service", "created_at"], name="referral_by_service"),
            # The metrics count referrals made and closed in a window (kynect.reporting.counts): on
            # PostgreSQL the columns they group by are in the index, so the counts read the index alone.
            models.Index(
                fields=["created_at"],
                include=["need", "sending_organization"],
                name="referral_created_metrics",
            ),
            models.Index(
                fields=["closed_at"],
                condition=Q(closed_at__isnull=False),
                include=["status", "not_provided_reason", "receiving_organization"],
                name="referral_closed_metrics",
            ),
            models.Index(
                fields=["county_fips", "created_at"],
                include=["need", "sending_organization"],
                name="referral_county_created",
            ),
            models.Index(
                fields=["county_fips", "closed_at"],
                condition=Q(closed_at__isnull=False),
                include=["status", "not_provided_reason", "receiving_organization"],
                name="referral_county_closed",
            ),
            models.Index(
                fields=["outreach_due_at"],
                condition=Q(outreach_flagged_at__isnull=True, outreach_due_at__isnull=False),
                name="referral_outreach_due",
            ),
            models.Index(
                fields=["expiry_due_at"],
                condition=Q(expirable_at__isnull=True, expiry_due_at__isnull=False),
                name="referral_expiry_due",
            ),
            # The referral specialists' workspace lists, oldest first (selectors_specialist).
            models.Index(
                fields=["created_at", "id"],
                condition=Q(
                    status__in=["requested", "accepted", "in-progress", "on-hold"],
                    receiver_onboarded=True,
                    outreach_flagged_at__isnull=False,
                ),
                name="referral_ws_partner",
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=Q(
                    status__in=["requested", "accepted", "in-progress", "on-hold"], receiver_onboarded=False
                ),
                name="referral_ws_not_onboarded",
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=Q(status__in=["completed", "failed"], outcome_confirmed_at__isnull=True),
                name="referral_ws_outcome",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["requested", "accepted", "in-progress", "on-hold"])
                | Q(closed_at__isnull=False),
                name="referral_closed_has_time",
            ),
            models.CheckConstraint(
                condition=(Q(resource_provided=False) & ~Q(not_provided_reason=""))
                | (~Q(resource_provided=False) & Q(not_provided_reason=""))
                | Q(status="cancelled", not_provided_reason="expired"),
                name="referral_reason_only_when_not_provided",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "failed"])
                | (Q(resource_provided__isnull=False) & ~Q(experience="")),
                name="referral_closure_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk}"

    @property
    def box(self) -> str:
        for box, statuses in self.BOX_STATUSES.items():
            if self.status in statuses:
                return box
        raise ValueError(self.status)

    def get_box_display(self) -> str:
        return str(self.Box(self.box).label)


class ReferralEvent(models.Model):
    """One entry of a referral's timeline: who did what, when."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A reason a person typed (hold, reject, cancel), kept as typed; or codes shown in the reader's
    # language by `detail_display`: the closure reason (fail, expire) and, for outreach, "target:result".
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"], name="referral_event_timeline")]

    def __str__(self) -> str:
        return f"{self.transition} at {self.at:%Y-%m-%d %H:%M}"

    def detail_display(self) -> str:
        if self.transition in ("fail", "expire") and self.detail in ClosureReason.values:
            return str(ClosureReason(self.detail).label)
        if self.transition == "outreach":
            target, _sep, result = self.detail.partition(":")
            if target in OutreachAttempt.Target.values and result in OutreachAttempt.Result.values:
                return f"{OutreachAttempt.Target(target).label}: {OutreachAttempt.Result(result).label}"
        return self.detail


class ReferralNote(BaseModel):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)

    class Meta:
        ordering = ["created_at"]


class OutreachAttempt(BaseModel):
    """A referral specialist's attempt to reach the receiving partner, the organization or the resident."""

    class Target(models.TextChoices):
        PARTNER = "partner", _("Receiving partner")
        ORGANIZATION = "organization", _("Organization not onboarded")
        RESIDENT = "resident", _("Resident")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        TEXT = "text", _("Text message")

    class Result(models.TextChoices):
        REACHED = "reached", _("Reached")
        LEFT_MESSAGE = "left_message", _("Left a message")
        NO_ANSWER = "no_answer", _("No answer")
        WRONG_CONTACT = "wrong_contact", _("Wrong number or address")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="outreach")
    specialist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    target = models.CharField(_("who"), max_length=12, choices=Target.choices)
    channel = models.CharField(_("how"), max_length=6, choices=Channel.choices)
    result = models.CharField(_("result"), max_length=14, choices=Result.choices)
    note = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["-created_at"]
