from django.db import models
from django.utils.translation import gettext_lazy as _

from kynect.core.models import BaseModel


class OutboundMessage(BaseModel):
    """An email or text message to send, written in the same transaction as the change that causes it."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Not sent: the recipient opted out")

    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    language = models.CharField(max_length=8, default="en")
    template = models.CharField(max_length=100)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "channel", "next_attempt_at"], name="outbox_due_by_channel")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="pending") | models.Q(next_attempt_at__isnull=False),
                name="outbox_pending_has_due_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.template} ({self.status})"


class SmsOptOut(models.Model):
    """A phone number that replied STOP: the SMS channel sends it nothing until it replies START."""

    phone = models.CharField(max_length=16, primary_key=True, help_text=_("E.164, like +15025550123."))
    opted_out_at = models.DateTimeField()
    source = models.CharField(max_length=32, default="inbound_sms")

    def __str__(self) -> str:
        return f"opt-out since {self.opted_out_at:%Y-%m-%d}"
