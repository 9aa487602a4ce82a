"""Assessments (DESIGN §5.3): instruments as data, versioned; assessments taken with a resident, kept with
the version they were taken with; and the risk ratings per domain they (and KHIE, and the Medicaid
application) give a resident."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kynect.assessments.definitions import Definition, definition_parse
from kynect.core.models import BaseModel
from kynect.core.sdoh import SdohDomain


class Rating(models.TextChoices):
    """The resources overview's ratings of a risk factor."""

    STABLE = "stable", _("Stable")
    VULNERABLE = "vulnerable", _("Vulnerable")
    IN_CRISIS = "in_crisis", _("In-Crisis")
    NA = "na", _("N/A")


class Instrument(BaseModel):
    """One version of an instrument, loaded by a migration from `instruments/<code>-v<version>.json`."""

    code = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    definition = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version")]
        ordering = ["code", "-version"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def parsed(self) -> Definition:
        return _parsed(self.code, self.version, self.pk)

    @property
    def title(self) -> str:
        return str(self.parsed.title)


@cache
def _parsed(code: str, version: int, pk: Any) -> Definition:
    """A version never changes once loaded, so each is parsed once per process."""
    return definition_parse(Instrument.objects.get(pk=pk).definition)


class Assessment(BaseModel):
    """An instrument taken with a resident: the answers page by page, then the ratings it gave."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="assessments")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="assessments")
    # The organization whose user took it (the incentive report pays it); none for a resident alone.
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    answers = models.JSONField(default=dict, blank=True)
    # The next page to answer, and a counter each saved page moves on: a page posted twice (a double
    # click, the back button) is taken once.
    page = models.PositiveSmallIntegerField(default=0)
    revision = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["resident", "created_at"], name="assessment_by_resident"),
            models.Index(fields=["organization", "completed_at"], name="assessment_by_organization"),
            models.Index(
                fields=["completed_at"],
                condition=Q(status="completed"),
                include=["instrument", "organization"],
                name="assessment_completed_metrics",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="assessment_completed_at",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} for {self.resident_id}"


class RiskRating(BaseModel):
    """One rating of one domain for a resident, with where it came from. The latest per domain is the
    resident's risk factor; the others are its history."""

    class Source(models.TextChoices):
        ASSESSMENT = "assessment", _("Assessment")
        KHIE = "khie", _("KHIE")
        MEDICAID = "medicaid", _("Medicaid application")

    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="risk_ratings")
    domain = models.CharField(_("domain"), max_length=30, choices=SdohDomain.choices)
    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.CASCADE, related_name="ratings"
    )
    rated_at = models.DateTimeField()
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An imported rating's id in its source (a KHIE Observation, a Medicaid application record): the
    # same one imported again changes nothing.
    external_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-rated_at", "-created_at"]
        indexes = [
            models.Index(fields=["resident", "domain", "rated_at"], name="risk_rating_latest"),
            # The metrics count ratings in a window (kynect.reporting.counts), from the index alone.
            models.Index(
                fields=["rated_at"], include=["domain", "rating", "organization"], name="risk_rating_metrics"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="risk_rating_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.rating}"
