"""An email backend for local runs and benchmarks, beside Django's own (console, SMTP, in memory)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from kynect.core import clock
from kynect.notifications.files import record_append


class JsonLinesEmailBackend(BaseEmailBackend):
    """Appends each email as one JSON line to `messages.jsonl` in EMAIL_FILE_PATH, with the outbox
    message it came from (its `X-Kynect-Message-Id` header), so that deliveries can be counted per
    message across every process that sends."""

    FILE_NAME = "messages.jsonl"

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        path = Path(settings.EMAIL_FILE_PATH) / self.FILE_NAME
        for email in email_messages:
            record_append(
                path,
                {
                    "message_id": email.extra_headers.get("X-Kynect-Message-Id", ""),
                    "at": clock.now().isoformat(),
                    "pid": os.getpid(),
                    "to": list(email.to),
                    "subject": email.subject,
                    "body": email.body,
                },
            )
        return len(email_messages)
