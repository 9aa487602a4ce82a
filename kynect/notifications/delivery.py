"""Delivering outbox messages (ADR 0009, ADR 0034).

A sender works on one channel: it claims a batch of the channel's due messages in one transaction
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so senders in other workers take other rows; SQLite has
one writer), as many as the channel's rate allows in the current second (a database rate limit shared by
every worker), renders what carries a secret at send time (ADR 0014), hands the messages to the provider
through a bounded pool of threads, and records each outcome through the message's lifecycle
(`notifications.lifecycles`) as soon as the provider answers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from kynect.core import clock
from kynect.core.logging import mask_pii
from kynect.core.ratelimit import rate_limit_take
from kynect.notifications.lifecycles import OUTBOUND_MESSAGE
from kynect.notifications.models import OutboundMessage, SmsOptOut
from kynect.notifications.sms import SmsMessage, get_sms_backend

logger = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = {code for code, _name in settings.LANGUAGES}


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


def message_language(language: str | None) -> str:
    """The supported language closest to `language` (its base), or the site's."""
    code = (language or settings.LANGUAGE_CODE).split("-")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else settings.LANGUAGE_CODE


def message_render(template: str, suffix: str, context: dict[str, Any]) -> str:
    return render_to_string(f"notifications/{template}.{suffix}.txt", context).strip()


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def channel_rate(channel: str) -> int:
    """Messages a second the channel's provider takes, across every worker (OUTBOX_*_PER_SECOND)."""
    if channel == OutboundMessage.Channel.SMS:
        return int(settings.OUTBOX_SMS_PER_SECOND)
    return int(settings.OUTBOX_EMAIL_PER_SECOND)


_pools: dict[tuple[str, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(channel: str) -> ThreadPoolExecutor:
    """The process's pool of provider calls for `channel`: at most OUTBOX_SENDERS_PER_CHANNEL at once."""
    size = settings.OUTBOX_SENDERS_PER_CHANNEL
    with _pools_lock:
        if (channel, size) not in _pools:
            _pools[channel, size] = ThreadPoolExecutor(
                max_workers=size, thread_name_prefix=f"outbox-{channel}"
            )
        return _pools[channel, size]


@dataclass(frozen=True)
class SentBatch:
    """What one batch did: each claimed message's status afterwards, and, when due messages had to wait
    for the channel's rate, when the next second's allowance starts."""

    statuses: dict[str, str]
    rate_limited_until: datetime | None = None


def messages_claim(
    *, channel: str, limit: int, now: datetime, message_ids: Iterable[str] | None = None
) -> tuple[list[OutboundMessage], datetime | None]:
    """Claim up to `limit` of the channel's due messages, within the channel's rate for this second;
    returns them, and when the next second starts if some had to wait for it.

    Lock: the due rows, FOR UPDATE SKIP LOCKED, for the length of the claim's transaction, so that senders
    claiming at once take different rows and never wait for each other.
    """
    due = OutboundMessage.objects.filter(
        channel=channel, status=OutboundMessage.Status.PENDING, next_attempt_at__lte=now
    )
    if message_ids is not None:
        due = due.filter(pk__in=list(message_ids))
    with transaction.atomic():
        ids = list(
            due.order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return [], None
        taken = rate_limit_take(
            key=f"outbox:{channel}", wanted=len(ids), limit=channel_rate(channel), window_seconds=1
        )
        waiting = taken.window_ends_at if taken.granted < len(ids) else None
        ids = ids[: taken.granted]
        if not ids:
            return [], waiting
        OUTBOUND_MESSAGE.apply_all("claim", queryset=OutboundMessage.objects.filter(pk__in=ids), now=now)
    # Read after the claim committed: `attempts` is the count including this attempt.
    claimed = OutboundMessage.objects.filter(
        pk__in=ids, status=OutboundMessage.Status.SENDING, claimed_at=now
    )
    return list(claimed.order_by("next_attempt_at")), waiting


def messages_send(*, channel: str, limit: int, message_ids: Iterable[str] | None = None) -> SentBatch:
    """Send up to `limit` of the channel's due messages (only those of `message_ids` if given), at once
    through the channel's pool; returns what became of each.

    A message is sent at most once per claim: it is claimed (PENDING to SENDING) before the provider is
    called and marked sent as soon as the provider accepts it. A worker killed in between leaves the claim
    to go stale; the sweep releases it and the message is sent again (at least once, ADR 0034).
    """
    messages, rate_limited_until = messages_claim(
        channel=channel, limit=limit, now=clock.now(), message_ids=message_ids
    )
    statuses: dict[str, str] = {}
    opted_out: set[str] = set()
    if channel == OutboundMessage.Channel.SMS and messages:
        opted_out = set(
            SmsOptOut.objects.filter(phone__in={m.recipient for m in messages}).values_list(
                "phone", flat=True
            )
        )
    sending: dict[Future[str], OutboundMessage] = {}
    for message in messages:
        if message.recipient in opted_out:
            OUTBOUND_MESSAGE.apply("suppress", instance=message, now=clock.now())
            statuses[str(message.pk)] = OutboundMessage.Status.SUPPRESSED
            continue
        try:
            body = _body_to_send(message)
        except Exception as exc:
            statuses[str(message.pk)] = _record_failure(message, exc)
            continue
        if body is None:
            OUTBOUND_MESSAGE.apply(
                "fail", instance=message, now=clock.now(), values={"last_error": "Withdrawn before sending"}
            )
            statuses[str(message.pk)] = OutboundMessage.Status.FAILED
            continue
        sending[_pool(channel).submit(_send, message, body)] = message
    for future in as_completed(sending):
        message = sending[future]
        try:
            provider_id = future.result()
        except Exception as exc:
            statuses[str(message.pk)] = _record_failure(message, exc)
            continue
        OUTBOUND_MESSAGE.apply(
            "sent", instance=message, now=clock.now(), values={"provider_message_id": provider_id[:100]}
        )
        statuses[str(message.pk)] = OutboundMessage.Status.SENT
    return SentBatch(statuses=statuses, rate_limited_until=rate_limited_until)


def messages_deliver(*, message_ids: Iterable[str]) -> dict[str, str]:
    """Send these messages now from this process, if they are due and nobody holds them; returns each
    one's status afterwards ("missing" for an id with no message). OUTBOX_SEND_ON_COMMIT uses it."""
    wanted = [str(message_id) for message_id in message_ids]
    channels = OutboundMessage.objects.filter(pk__in=wanted).values_list("channel", flat=True).distinct()
    for channel in sorted(set(channels)):
        messages_send(channel=channel, limit=len(wanted), message_ids=wanted)
    statuses = {
        str(pk): str(status)
        for pk, status in OutboundMessage.objects.filter(pk__in=wanted).values_list("pk", "status")
    }
    return {message_id: statuses.get(message_id, "missing") for message_id in wanted}


def _record_failure(message: OutboundMessage, exc: Exception) -> str:
    """Retry later with backoff, or fail for good after OUTBOX_MAX_ATTEMPTS; the error kept without
    personal data."""
    now = clock.now()
    error = mask_pii(f"{type(exc).__name__}: {exc}")[:255]
    logger.warning(
        "Outbox message %s attempt %s failed: %s", message.pk, message.attempts, type(exc).__name__
    )
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        OUTBOUND_MESSAGE.apply("fail", instance=message, now=now, values={"last_error": error})
        return OutboundMessage.Status.FAILED
    OUTBOUND_MESSAGE.apply(
        "retry",
        instance=message,
        now=now,
        values={"next_attempt_at": now + _retry_delay(message.attempts), "last_error": error},
    )
    return OutboundMessage.Status.PENDING


def _body_to_send(message: OutboundMessage) -> str | None:
    send_time_context = _send_time_contexts.get(message.template)
    if send_time_context is None:
        return message.body
    context = send_time_context(message)
    if context is None:
        return None
    with translation.override(message.language):
        return message_render(
            message.template, "email" if message.channel == OutboundMessage.Channel.EMAIL else "sms", context
        )


def _send(message: OutboundMessage, body: str) -> str:
    if message.channel == OutboundMessage.Channel.EMAIL:
        email = EmailMessage(subject=message.subject, body=body, to=[message.recipient])
        email.extra_headers["X-Kynect-Message-Id"] = str(message.pk)
        email.send(fail_silently=False)
        return str(message.pk)
    return get_sms_backend().send(
        SmsMessage(
            to=message.recipient, body=body, from_number=settings.SMS_FROM_NUMBER, message_id=str(message.pk)
        )
    )


IDLE_POLL_SECONDS = 0.25


def outbox_send_pass(*, channel: str) -> float:
    """One pass of the worker's sender for `channel` (`kynect.core.worker` runs it in a thread of its own,
    again and again); returns how many seconds to wait before the next pass.

    A batch is twice the pool's size, so that it takes about two provider round trips and the due messages
    spread over the workers rather than piling up in one.
    """
    batch = messages_send(channel=channel, limit=2 * settings.OUTBOX_SENDERS_PER_CHANNEL)
    if batch.rate_limited_until is not None:
        return max((batch.rate_limited_until - clock.now()).total_seconds(), 0.0)
    return 0.0 if batch.statuses else IDLE_POLL_SECONDS
