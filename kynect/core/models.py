import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID primary key and creation/update timestamps for every domain row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Access events are append-only.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Access events are append-only.")

    def expire_before(self, moment: Any) -> int:
        """Remove the events older than `moment`, as a whole: their retention period is over. The one way
        events ever leave (`kynect.core.audit.access_events_expire`, which also tells the database)."""
        return int(super(AppendOnlyQuerySet, self.filter(occurred_at__lt=moment)).delete()[0])


class AccessEvent(models.Model):
    """One view or export of somebody's personal data: who, whose data, what, when, from where.

    Append-only: the model, its queryset, the admin and a database trigger all refuse updates and
    deletes.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        LOOKUP = "lookup", _("Looked up")
        PRINT = "print", _("Printed")
        DENIED = "denied", _("Refused")  # asked for data the actor may not see (answered 404)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=254, help_text=_("Who, as they were known at the time."))
    subject_type = models.CharField(max_length=64, help_text=_("The kind of record viewed."))
    subject_id = models.CharField(max_length=64, db_index=True, help_text=_("Whose data was viewed."))
    action = models.CharField(max_length=16, choices=Action.choices)
    detail = models.CharField(max_length=255, blank=True, help_text=_("What was viewed and why."))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=255, blank=True)
    # The consent the data was shown under (a resident's consent's id), when it was shown because of one.
    consent_id = models.UUIDField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.subject_type} {self.subject_id} at {self.occurred_at}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Access events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Access events are append-only.")


class WorkerHeartbeat(models.Model):
    """The last sign of life of each running worker process."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class RateLimitBucket(models.Model):
    """A fixed-window counter shared by every process, keyed by what is limited."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratelimit_unique_window")
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.count}"


class RecurringJob(models.Model):
    """The schedule row of one recurring job (`kynect.core.recurring`): when it is next due, and how its
    last run went. Created and kept in step with the code's registry on migrate and on worker start."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    name = models.CharField(max_length=100, primary_key=True)
    schedule = models.CharField(max_length=100, help_text=_("When the job runs, in its own time zone."))
    time_zone = models.CharField(max_length=64)
    next_period = models.DateField(help_text=_("The local day of the next run due."))
    next_due_at = models.DateTimeField(db_index=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text=_("After a failed run, when the period is tried again.")
    )
    last_period = models.DateField(null=True, blank=True)
    last_outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RecurringJobRun(models.Model):
    """What happened to one period of a recurring job. One row per (job, period): a period that
    succeeded is never run again, and its failed attempts are counted on the same row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(RecurringJob, on_delete=models.CASCADE, related_name="runs")
    period = models.DateField(help_text=_("The local day this run is for."))
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=RecurringJob.Outcome.choices)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(
        max_length=200, blank=True, help_text=_("The kind of error of the last failure.")
    )
    worker_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "period"], name="recurring_job_run_unique_period")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} {self.period}: {self.outcome}"
