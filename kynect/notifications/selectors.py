"""Reads of the outbox: what waits to be sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q

from kynect.notifications.models import OutboundMessage

UNSENT = (OutboundMessage.Status.PENDING, OutboundMessage.Status.SENDING)


@dataclass(frozen=True)
class OutboxBacklog:
    """One channel's messages not sent yet: waiting (`pending`, a retry included), being sent now
    (`sending`, claimed by a worker), and when the oldest waiting one fell due (None when none is due)."""

    channel: str
    pending: int
    sending: int
    oldest_due_at: datetime | None


def outbox_backlog(*, now: datetime) -> list[OutboxBacklog]:
    """Every channel, zeros included."""
    figures = {
        row["channel"]: row
        for row in OutboundMessage.objects.filter(status__in=UNSENT)
        .order_by()
        .values("channel")
        .annotate(
            pending=Count("pk", filter=Q(status=OutboundMessage.Status.PENDING)),
            sending=Count("pk", filter=Q(status=OutboundMessage.Status.SENDING)),
            oldest_due_at=Min(
                "next_attempt_at", filter=Q(status=OutboundMessage.Status.PENDING, next_attempt_at__lte=now)
            ),
        )
    }
    return [
        OutboxBacklog(
            channel=channel,
            pending=figures.get(channel, {}).get("pending", 0),
            sending=figures.get(channel, {}).get("sending", 0),
            oldest_due_at=figures.get(channel, {}).get("oldest_due_at"),
        )
        for channel in OutboundMessage.Channel.values
    ]
