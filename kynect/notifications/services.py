"""Writing to the outbox (delivery is `delivery`), its sweep, and the SMS opt-out list."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import translation

from kynect.core import clock
from kynect.core.phones import phone_normalize
from kynect.notifications.delivery import message_language, message_render
from kynect.notifications.lifecycles import OUTBOUND_MESSAGE
from kynect.notifications.models import OutboundMessage, SmsOptOut
from kynect.notifications.tasks import send_message, send_messages

logger = logging.getLogger(__name__)
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR"}
START_WORDS = {"START", "UNSTOP", "YES", "INICIAR"}
STALE_CLAIM = timedelta(minutes=5)
LOST_ENQUEUE = timedelta(minutes=2)


def _enqueue_on_commit(message_id: str) -> None:
    def enqueue() -> None:
        OutboundMessage.objects.filter(pk=message_id).update(enqueued_at=clock.now())
        send_message.enqueue(message_id=message_id)

    transaction.on_commit(enqueue)


def message_queue(
    *, channel: str, recipient: str, template: str, context: dict[str, Any], language: str | None = None
) -> OutboundMessage:
    """Render `template` in the recipient's language and write it to the outbox.

    Call it inside the transaction of the change that causes the message: it is sent only if that
    transaction commits.
    """
    language = message_language(language)
    with translation.override(language):
        subject = (
            message_render(template, "subject", context) if channel == OutboundMessage.Channel.EMAIL else ""
        )
        body = message_render(
            template, "email" if channel == OutboundMessage.Channel.EMAIL else "sms", context
        )
    if channel == OutboundMessage.Channel.SMS:
        recipient = phone_normalize(recipient)
    message = OutboundMessage(
        channel=channel,
        recipient=recipient,
        language=language,
        template=template,
        subject=" ".join(subject.split())[:255],
        body=body,
        next_attempt_at=clock.now(),
    )
    message.full_clean()
    message.save()
    _enqueue_on_commit(str(message.pk))
    return message


@dataclass(frozen=True)
class MessageSpec:
    """One message for `messages_queue`."""

    channel: str
    recipient: str
    template: str
    context: dict[str, Any]
    language: str | None = None


def messages_queue(specs: Sequence[MessageSpec]) -> list[OutboundMessage]:
    """Write several messages to the outbox at once, as `message_queue` does one: each distinct
    rendering (template, channel, language and context) is done once, the rows are inserted together,
    and one task sends them all once the transaction commits."""
    rendered: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    rows: list[OutboundMessage] = []
    now = clock.now()
    for spec in specs:
        language = message_language(spec.language)
        key = (spec.template, spec.channel, language, repr(sorted(spec.context.items())))
        if key not in rendered:
            with translation.override(language):
                is_email = spec.channel == OutboundMessage.Channel.EMAIL
                subject = message_render(spec.template, "subject", spec.context) if is_email else ""
                body = message_render(spec.template, "email" if is_email else "sms", spec.context)
            rendered[key] = (" ".join(subject.split())[:255], body)
        subject, body = rendered[key]
        recipient = spec.recipient
        if spec.channel == OutboundMessage.Channel.SMS:
            recipient = phone_normalize(recipient)
        elif spec.channel != OutboundMessage.Channel.EMAIL:
            raise ValueError(f"Unknown channel {spec.channel!r}")
        rows.append(
            OutboundMessage(
                channel=spec.channel,
                recipient=recipient,
                language=language,
                template=spec.template,
                subject=subject,
                body=body,
                next_attempt_at=now,
            )
        )
    if not rows:
        return []
    OutboundMessage.objects.bulk_create(rows)
    ids = [str(row.pk) for row in rows]

    def enqueue() -> None:
        OutboundMessage.objects.filter(pk__in=ids).update(enqueued_at=clock.now())
        send_messages.enqueue(message_ids=ids)

    transaction.on_commit(enqueue)
    return rows


def email_queue(
    *, to: str, template: str, context: dict[str, Any], language: str | None = None
) -> OutboundMessage:
    return message_queue(
        channel=OutboundMessage.Channel.EMAIL,
        recipient=to,
        template=template,
        context=context,
        language=language,
    )


def sms_queue(
    *, to: str, template: str, context: dict[str, Any], language: str | None = None
) -> OutboundMessage:
    return message_queue(
        channel=OutboundMessage.Channel.SMS,
        recipient=to,
        template=template,
        context=context,
        language=language,
    )


def outbox_sweep(*, now: datetime) -> int:
    """Release stale claims and enqueue messages that are due (retries, or an enqueue lost in a crash)."""
    with transaction.atomic():
        released = OUTBOUND_MESSAGE.apply_all(
            "release", queryset=OutboundMessage.objects.filter(claimed_at__lt=now - STALE_CLAIM), now=now
        )
    due = list(
        OutboundMessage.objects.filter(status=OutboundMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - LOST_ENQUEUE))
        .values_list("pk", flat=True)[:500]
    )
    for message_id in due:
        with transaction.atomic():
            _enqueue_on_commit(str(message_id))
    return released + len(due)


def sms_opt_out(*, phone: str, source: str = "inbound_sms") -> SmsOptOut:
    opt_out, _created = SmsOptOut.objects.get_or_create(
        phone=phone_normalize(phone), defaults={"opted_out_at": clock.now(), "source": source}
    )
    return opt_out


def sms_opt_in(*, phone: str) -> None:
    SmsOptOut.objects.filter(phone=phone_normalize(phone)).delete()


def sms_is_opted_out(*, phone: str) -> bool:
    return SmsOptOut.objects.filter(phone=phone_normalize(phone)).exists()


def inbound_sms_handle(*, from_number: str, body: str) -> str:
    """Apply a STOP or START reply; returns 'opted_out', 'opted_in' or 'ignored'."""
    keyword = (body or "").strip().split(maxsplit=1)[0].upper() if (body or "").strip() else ""
    if keyword in STOP_WORDS:
        sms_opt_out(phone=from_number)
        return "opted_out"
    if keyword in START_WORDS:
        sms_opt_in(phone=from_number)
        return "opted_in"
    return "ignored"
