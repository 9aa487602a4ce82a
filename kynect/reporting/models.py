"""The monthly Community Partner Incentive reports (DESIGN §5.7, ADR 0043). Reporting reads the other apps
through their selectors and writes only these tables.

- `IncentiveReport`: one per month, with the CSV kept as made (English, Kentucky's clock).
- `IncentiveLine`: one per organization paid on a report, with the mailing address as it was then.
- `IncentiveItem`: the ledger, one row per payable event paid (+) or taken back (-) on a report. A subject
  (an onboarding, an assessment, a referral's closing) nets to at most one payment across all reports.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kynect.core.models import BaseModel


class IncentiveReport(BaseModel):
    month = models.DateField(_("month"), unique=True, help_text=_("The first day of the month reported."))
    made_at = models.DateTimeField(_("made"))
    csv = models.TextField()
    total_cents = models.IntegerField(_("total"))

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class IncentiveKind(models.TextChoices):
    ONBOARDING = "onboarding", _("Organization onboarding")
    ASSESSMENT = "assessment", _("Completed assessment")
    CLOSED_REFERRAL = "closed_referral", _("Closed referral")


class IncentiveLine(models.Model):
    report = models.ForeignKey(IncentiveReport, on_delete=models.CASCADE, related_name="lines")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    address_1 = models.CharField(max_length=200, blank=True)
    address_2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_province = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    onboardings = models.PositiveIntegerField(default=0)
    assessments = models.PositiveIntegerField(default=0)
    closed_referrals = models.PositiveIntegerField(default=0)
    adjustments = models.IntegerField(default=0)  # how many adjustment items, each + or -
    adjustments_cents = models.IntegerField(default=0)
    total_cents = models.IntegerField(default=0)

    class Meta:
        ordering = ["name", "organization_id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "organization"], name="incentive_line_once_per_report")
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.name}"


class IncentiveItem(models.Model):
    """One payable event paid (+amount) or taken back (-amount) on a report."""

    class Why(models.TextChoices):
        MONTH = "month", _("Activity of the month")
        LATE = "late", _("Earlier activity not paid before")
        UNDONE = "undone", _("Paid before, no longer payable")

    report = models.ForeignKey(IncentiveReport, on_delete=models.CASCADE, related_name="items")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=IncentiveKind.choices)
    subject_id = models.CharField(max_length=64)
    event_at = models.DateTimeField(null=True)
    why = models.CharField(max_length=8, choices=Why.choices)
    amount_cents = models.IntegerField()

    class Meta:
        ordering = ["kind", "subject_id"]
        indexes = [models.Index(fields=["kind", "subject_id"], name="incentive_item_subject")]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "kind", "subject_id"], name="incentive_item_once_per_report"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.kind} {self.subject_id}"


class CountCut(models.TextChoices):
    """How a month's counts are cut: by organization (the one credited), by organization type and key, or by
    county (the resident's) and key."""

    ORGANIZATION = "organization"
    TYPE = "type"
    COUNTY = "county"


class MonthlyCount(models.Model):
    """The metrics' summary (ADR 0043): what the apps' counting selectors give for each whole month, counted
    again every night (`kynect.reporting.counts`). Read only for months that nothing has changed since."""

    cut = models.CharField(max_length=12, choices=CountCut.choices)
    month = models.DateField()
    measure = models.CharField(max_length=16)
    key = models.CharField(max_length=64, blank=True)
    # The credited organization (ORGANIZATION cut; None for a resident's own referral or assessment).
    organization_id = models.UUIDField(null=True)
    organization_type = models.CharField(max_length=20, blank=True)  # as it was when counted (not COUNTY)
    county_fips = models.CharField(max_length=5, blank=True)  # COUNTY cut
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["cut", "measure", "month"], name="monthly_count_by_measure"),
            models.Index(fields=["cut", "county_fips", "measure", "month"], name="monthly_count_by_county"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.cut} {self.measure} {self.key}: {self.n}"


class CountRun(models.Model):
    """The latest counting of every whole month, `first_month` to `last_month` (each replaces the last)."""

    started_at = models.DateTimeField()
    first_month = models.DateField(null=True)
    last_month = models.DateField(null=True)

    def __str__(self) -> str:
        return f"counted at {self.started_at:%Y-%m-%d %H:%M}"


class CountedType(models.Model):
    """Each organization's type when the months were counted: the TYPE cut is read only while no type has
    changed since."""

    organization_id = models.UUIDField(primary_key=True)
    type = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.type}"


class StaleMonth(models.Model):
    """A month whose counts changed after they were counted (a referral closed in it was reopened): read live
    until the next counting."""

    month = models.DateField()
    marked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} since {self.marked_at:%Y-%m-%d %H:%M}"
