"""Writing to the outbox, delivering from it, and the SMS opt-out list."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import translation

from kynect.core import clock
from kynect.core.logging import mask_pii
from kynect.core.phones import phone_normalize
from kynect.notifications.models import OutboundMessage, SmsOptOut
from kynect.notifications.sms import SmsMessage, get_sms_backend

logger = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = {code for code, _name in settings.LANGUAGES}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR"}
START_WORDS = {"START", "UNSTOP", "YES", "INICIAR"}
STALE_CLAIM = timedelta(minutes=5)
LOST_ENQUEUE = timedelta(minutes=2)


# Templates whose message carries a secret, such as a verification code. The outbox stores the body
# rendered with the secret masked; the body sent is rendered from the registered function's context
# only at send time, and never stored (ADR 0014). A function returning None withdraws the message.
SendTimeContext = Callable[[OutboundMessage], dict[str, Any] | None]
_send_time_contexts: dict[str, SendTimeContext] = {}


def send_time_context_register(template: str) -> Callable[[SendTimeContext], SendTimeContext]:
    def decorator(function: SendTimeContext) -> SendTimeContext:
        existing = _send_time_contexts.get(template)
        if existing is not None and existing is not function:
            raise ValueError(f"A send-time context for {template!r} is already registered.")
        _send_time_contexts[template] = function
        return function

    return decorator


def _language(language: str | None) -> str:
    code = (language or settings.LANGUAGE_CODE).split("-")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else settings.LANGUAGE_CODE


def _render(template: str, suffix: str, context: dict[str, Any]) -> str:
    return render_to_string(f"notifications/{template}.{suffix}.txt", context).strip()


def _enqueue_on_commit(message_id: str) -> None:
    from kynect.notifications.tasks import send_message

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
    language = _language(language)
    with translation.override(language):
        subject = _render(template, "subject", context) if channel == OutboundMessage.Channel.EMAIL else ""
        body = _render(template, "email" if channel == OutboundMessage.Channel.EMAIL else "sms", context)
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
        language = _language(spec.language)
        key = (spec.template, spec.channel, language, repr(sorted(spec.context.items())))
        if key not in rendered:
            with translation.override(language):
                is_email = spec.channel == OutboundMessage.Channel.EMAIL
                subject = _render(spec.template, "subject", spec.context) if is_email else ""
                body = _render(spec.template, "email" if is_email else "sms", spec.context)
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
        from kynect.notifications.tasks import send_messages

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


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def message_deliver(*, message_id: str) -> str:
    """Send one outbox message if it is due; returns its status afterwards.

    The claim is a conditional update from PENDING to SENDING, so two workers never both send it.
    """
    now = clock.now()
    claimed = OutboundMessage.objects.filter(
        pk=message_id, status=OutboundMessage.Status.PENDING, next_attempt_at__lte=now
    ).update(status=OutboundMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return "missing"
    if not claimed:
        return str(message.status)

    if (
        message.channel == OutboundMessage.Channel.SMS
        and SmsOptOut.objects.filter(phone=message.recipient).exists()
    ):
        OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.SENDING).update(
            status=OutboundMessage.Status.SUPPRESSED, next_attempt_at=None
        )
        return OutboundMessage.Status.SUPPRESSED

    try:
        body = _body_to_send(message)
        if body is None:
            OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.SENDING).update(
                status=OutboundMessage.Status.FAILED,
                next_attempt_at=None,
                last_error="Withdrawn before sending",
            )
            return OutboundMessage.Status.FAILED
        provider_id = _send(message, body)
    except Exception as exc:
        failed_for_good = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.SENDING).update(
            status=OutboundMessage.Status.FAILED if failed_for_good else OutboundMessage.Status.PENDING,
            next_attempt_at=None if failed_for_good else clock.now() + _retry_delay(message.attempts),
            enqueued_at=None,
            last_error=mask_pii(f"{type(exc).__name__}: {exc}")[:255],
        )
        logger.warning(
            "Outbox message %s attempt %s failed: %s", message.pk, message.attempts, type(exc).__name__
        )
        return OutboundMessage.Status.FAILED if failed_for_good else OutboundMessage.Status.PENDING

    OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.SENDING).update(
        status=OutboundMessage.Status.SENT,
        sent_at=clock.now(),
        next_attempt_at=None,
        provider_message_id=provider_id[:100],
        last_error="",
    )
    return OutboundMessage.Status.SENT


def _body_to_send(message: OutboundMessage) -> str | None:
    send_time_context = _send_time_contexts.get(message.template)
    if send_time_context is None:
        return message.body
    context = send_time_context(message)
    if context is None:
        return None
    with translation.override(message.language):
        return _render(
            message.template, "email" if message.channel == OutboundMessage.Channel.EMAIL else "sms", context
        )


def _send(message: OutboundMessage, body: str) -> str:
    if message.channel == OutboundMessage.Channel.EMAIL:
        email = EmailMessage(subject=message.subject, body=body, to=[message.recipient])
        email.extra_headers["X-Kynect-Message-Id"] = str(message.pk)
        email.send(fail_silently=False)
        return str(message.pk)
    return get_sms_backend().send(
        SmsMessage(to=message.recipient, body=body, from_number=settings.SMS_FROM_NUMBER)
    )


def outbox_sweep(*, now: datetime) -> int:
    """Release stale claims and enqueue messages that are due (retries, or an enqueue lost in a crash)."""
    released = OutboundMessage.objects.filter(
        status=OutboundMessage.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=OutboundMessage.Status.PENDING, next_attempt_at=now, enqueued_at=None)
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
