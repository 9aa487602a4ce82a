"""Delivering outbox messages: claiming one, rendering what carries a secret at send time, sending it by
its channel, and recording the outcome through the message's lifecycle (`notifications.lifecycles`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from kynect.core import clock
from kynect.core.logging import mask_pii
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


def _language(language: str | None) -> str:
    code = (language or settings.LANGUAGE_CODE).split("-")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else settings.LANGUAGE_CODE


def _render(template: str, suffix: str, context: dict[str, Any]) -> str:
    return render_to_string(f"notifications/{template}.{suffix}.txt", context).strip()


def message_language(language: str | None) -> str:
    """The supported language closest to `language` (its base), or the site's."""
    code = (language or settings.LANGUAGE_CODE).split("-")[0].lower()
    return code if code in SUPPORTED_LANGUAGES else settings.LANGUAGE_CODE


def message_render(template: str, suffix: str, context: dict[str, Any]) -> str:
    return render_to_string(f"notifications/{template}.{suffix}.txt", context).strip()


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def message_deliver(*, message_id: str) -> str:
    """Send one outbox message if it is due; returns its status afterwards.

    The claim is a conditional update from PENDING to SENDING, so two workers never both send it.
    """
    now = clock.now()
    claimed = OUTBOUND_MESSAGE.apply(
        "claim",
        instance=OutboundMessage(pk=message_id),
        now=now,
        where=Q(next_attempt_at__lte=now),
    )
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return "missing"
    if not claimed:
        return str(message.status)

    if (
        message.channel == OutboundMessage.Channel.SMS
        and SmsOptOut.objects.filter(phone=message.recipient).exists()
    ):
        OUTBOUND_MESSAGE.apply("suppress", instance=message, now=clock.now())
        return OutboundMessage.Status.SUPPRESSED

    try:
        body = _body_to_send(message)
        if body is None:
            OUTBOUND_MESSAGE.apply(
                "fail", instance=message, now=clock.now(), values={"last_error": "Withdrawn before sending"}
            )
            return OutboundMessage.Status.FAILED
        provider_id = _send(message, body)
    except Exception as exc:
        failed_for_good = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        now = clock.now()
        error = mask_pii(f"{type(exc).__name__}: {exc}")[:255]
        if failed_for_good:
            OUTBOUND_MESSAGE.apply(
                "fail", instance=message, now=now, values={"last_error": error, "enqueued_at": None}
            )
        else:
            OUTBOUND_MESSAGE.apply(
                "retry",
                instance=message,
                now=now,
                values={"next_attempt_at": now + _retry_delay(message.attempts), "last_error": error},
            )
        logger.warning(
            "Outbox message %s attempt %s failed: %s", message.pk, message.attempts, type(exc).__name__
        )
        return OutboundMessage.Status.FAILED if failed_for_good else OutboundMessage.Status.PENDING

    OUTBOUND_MESSAGE.apply(
        "sent", instance=message, now=clock.now(), values={"provider_message_id": provider_id[:100]}
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
        SmsMessage(to=message.recipient, body=body, from_number=settings.SMS_FROM_NUMBER)
    )
