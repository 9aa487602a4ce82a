"""Writing to the outbox (sending is `delivery`), its sweep, and the SMS opt-out list."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from kynect.core import clock
from kynect.core.phones import phone_normalize
from kynect.notifications.delivery import message_language, message_render, messages_deliver
from kynect.notifications.lifecycles import OUTBOUND_MESSAGE
from kynect.notifications.models import OutboundMessage, SmsOptOut

logger = logging.getLogger(__name__)
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR"}
START_WORDS = {"START", "UNSTOP", "YES", "INICIAR"}
# Longer than any provider call: a claim this old belongs to a worker that died (ADR 0034).
STALE_CLAIM = timedelta(minutes=5)


def _send_on_commit(message_ids: list[str]) -> None:
    """The worker's senders find committed messages by themselves; with OUTBOX_SEND_ON_COMMIT (tests),
    this process sends them as soon as the transaction commits."""
    if settings.OUTBOX_SEND_ON_COMMIT:
        transaction.on_commit(lambda: messages_deliver(message_ids=message_ids))


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
    # Its id is new and the database enforces the constraints: checking either would cost a query each.
    message.full_clean(validate_unique=False, validate_constraints=False)
    message.save(force_insert=True)
    _send_on_commit([str(message.pk)])
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
    rendering (template, channel, language and context) is done once and the rows are inserted together."""
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
    _send_on_commit([str(row.pk) for row in rows])
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
    """Release stale claims (their worker died, ADR 0034): the messages are due again at once, and the
    senders send them with the others."""
    with transaction.atomic():
        return OUTBOUND_MESSAGE.apply_all(
            "release", queryset=OutboundMessage.objects.filter(claimed_at__lt=now - STALE_CLAIM), now=now
        )


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
