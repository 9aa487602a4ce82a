"""SMS backends, chosen by the SMS_BACKEND setting, in the manner of Django's email backends."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string

from kynect.core import clock


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    from_number: str
    message_id: str = ""  # the outbox message's id, for the local backends' records


class SmsDeliveryError(Exception):
    """The provider refused or failed to take the message; the outbox retries it."""


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        """Hand the message over; returns the provider's message id."""
        raise NotImplementedError

    def verify_inbound(self, request: HttpRequest) -> bool:
        """Whether an inbound webhook request really comes from the provider.

        Local backends expect an HMAC-SHA256 of the raw body, keyed with SMS_INBOUND_SECRET, in
        the X-Kynect-Signature header.
        """
        secret = settings.SMS_INBOUND_SECRET
        signature = request.headers.get("X-Kynect-Signature", "")
        if not secret or not signature:
            return False
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints each message, for local demos (like Django's console email backend)."""

    def send(self, message: SmsMessage) -> str:
        sys.stdout.write(f"--- SMS from {message.from_number} to {message.to}\n{message.body}\n---\n")
        sys.stdout.flush()
        return f"console-{uuid.uuid4()}"


class FileSmsBackend(BaseSmsBackend):
    """Writes each message as one JSON file in SMS_FILE_PATH, naming the outbox message, the process and
    the time, so that deliveries can be counted per message across every process that sends. A file
    appears whole (written under a temporary name, then renamed) and its name is unique, so processes
    writing at once, or one killed while writing, never leave a mixed or partial record."""

    def send(self, message: SmsMessage) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        provider_id = f"file-{uuid.uuid4()}"
        record = {
            "id": provider_id,
            "message_id": message.message_id,
            "at": clock.now().isoformat(),
            "pid": os.getpid(),
            "to": message.to,
            "from": message.from_number,
            "body": message.body,
        }
        path = folder / f"{clock.now():%Y%m%dT%H%M%S}-{provider_id}.json"
        partial = path.with_name(f"{path.name}.partial")
        partial.write_text(json.dumps(record))
        os.replace(partial, path)
        return provider_id


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in memory, for tests: `LocmemSmsBackend.outbox`."""

    outbox: ClassVar[list[SmsMessage]] = []

    def send(self, message: SmsMessage) -> str:
        self.outbox.append(message)
        return f"locmem-{len(self.outbox)}"


class TwilioSmsBackend(BaseSmsBackend):
    """Sends through Twilio. The twilio package is imported only when this backend is configured."""

    def __init__(self) -> None:
        from twilio.request_validator import RequestValidator
        from twilio.rest import Client

        self.client: Any = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        self.validator: Any = RequestValidator(settings.TWILIO_AUTH_TOKEN)

    def send(self, message: SmsMessage) -> str:
        try:
            sent = self.client.messages.create(to=message.to, from_=message.from_number, body=message.body)
        except Exception as exc:
            raise SmsDeliveryError(type(exc).__name__) from exc
        return str(sent.sid)

    def verify_inbound(self, request: HttpRequest) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        return bool(self.validator.validate(request.build_absolute_uri(), request.POST.dict(), signature))


def get_sms_backend() -> BaseSmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    backend: BaseSmsBackend = backend_class()
    return backend
