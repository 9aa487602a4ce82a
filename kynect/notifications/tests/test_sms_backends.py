"""The SMS backends, chosen by the SMS_BACKEND setting in the manner of Django's email backends."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from kynect.core import clock
from kynect.notifications.delivery import messages_deliver
from kynect.notifications.models import OutboundMessage
from kynect.notifications.sms import (
    BaseSmsBackend,
    ConsoleSmsBackend,
    FileSmsBackend,
    LocmemSmsBackend,
    SmsDeliveryError,
    SmsMessage,
    TwilioSmsBackend,
    get_sms_backend,
)

MESSAGE = SmsMessage(to="+15025550123", body="Your appointment is tomorrow.", from_number="+15025550100")


def deliver(message_id: str) -> str:
    """Send one message now, as the worker's sender would; its status afterwards."""
    return messages_deliver(message_ids=[message_id])[message_id]


def test_the_file_backend_writes_each_message_whole_in_a_json_file_of_its_own(settings, tmp_path):
    folder = tmp_path / "sms" / "outbox"  # created on first use
    settings.SMS_FILE_PATH = str(folder)
    backend = FileSmsBackend()
    first = backend.send(SmsMessage(**{**MESSAGE.__dict__, "message_id": "outbox-1"}))
    second = backend.send(SmsMessage(to="+18592882338", body="Second", from_number="+15025550100"))

    assert first.startswith("file-")
    assert first != second
    files = sorted(folder.iterdir())
    assert [path.suffix for path in files] == [".json", ".json"]  # no temporary file left behind
    records = {record["id"]: record for record in (json.loads(path.read_text()) for path in files)}
    assert {key: records[first][key] for key in ("message_id", "to", "from", "body", "pid")} == {
        "message_id": "outbox-1",
        "to": "+15025550123",
        "from": "+15025550100",
        "body": "Your appointment is tomorrow.",
        "pid": os.getpid(),
    }
    assert records[second]["body"] == "Second"


def test_the_console_backend_prints_the_message(capsys):
    message_id = ConsoleSmsBackend().send(MESSAGE)
    out = capsys.readouterr().out
    assert message_id.startswith("console-")
    assert "+15025550123" in out
    assert "+15025550100" in out
    assert "Your appointment is tomorrow." in out


def test_the_locmem_backend_keeps_messages_in_memory():
    assert LocmemSmsBackend.outbox == []
    first = LocmemSmsBackend().send(MESSAGE)
    second = LocmemSmsBackend().send(SmsMessage(to="+18592882338", body="Second", from_number="+1"))
    assert (first, second) == ("locmem-1", "locmem-2")
    assert LocmemSmsBackend.outbox == [
        MESSAGE,
        SmsMessage(to="+18592882338", body="Second", from_number="+1"),
    ]


def test_the_base_backend_cannot_send():
    with pytest.raises(NotImplementedError):
        BaseSmsBackend().send(MESSAGE)


@pytest.mark.parametrize(
    ("path", "backend_class"),
    [
        ("kynect.notifications.sms.LocmemSmsBackend", LocmemSmsBackend),
        ("kynect.notifications.sms.ConsoleSmsBackend", ConsoleSmsBackend),
        ("kynect.notifications.sms.FileSmsBackend", FileSmsBackend),
    ],
)
def test_get_sms_backend_follows_the_setting(settings, path, backend_class):
    settings.SMS_BACKEND = path
    assert type(get_sms_backend()) is backend_class


@pytest.mark.django_db
def test_delivery_uses_the_configured_backend(settings, tmp_path):
    settings.SMS_BACKEND = "kynect.notifications.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    message = OutboundMessage.objects.create(
        channel=OutboundMessage.Channel.SMS,
        recipient="+15025550123",
        template="test/hello",
        body="Hello from the file backend",
        next_attempt_at=clock.now(),
    )
    assert deliver(str(message.pk)) == OutboundMessage.Status.SENT

    (path,) = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["message_id"] == str(message.pk)
    assert record["body"] == "Hello from the file backend"
    assert record["from"] == django_settings.SMS_FROM_NUMBER
    message.refresh_from_db()
    assert message.provider_message_id == record["id"]
    assert LocmemSmsBackend.outbox == []


# --- Inbound signatures (local backends) -------------------------------------------------------


def signed_request(body: bytes, signature: str | None):
    headers = {} if signature is None else {"X-Kynect-Signature": signature}
    return RequestFactory().post(
        "/notifications/sms/inbound/",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_local_backend_accepts_a_good_signature(settings):
    settings.SMS_INBOUND_SECRET = "s3cret"
    body = b"From=%2B15025550123&Body=STOP"
    assert LocmemSmsBackend().verify_inbound(signed_request(body, sign(body, "s3cret")))


@pytest.mark.parametrize(
    "signature",
    [None, "", "0" * 64, sign(b"From=%2B15025550123&Body=START", "s3cret"), sign(b"x", "other")],
)
def test_a_local_backend_refuses_a_bad_or_missing_signature(settings, signature):
    settings.SMS_INBOUND_SECRET = "s3cret"
    body = b"From=%2B15025550123&Body=STOP"
    assert not LocmemSmsBackend().verify_inbound(signed_request(body, signature))


def test_a_local_backend_refuses_everything_without_a_secret(settings):
    settings.SMS_INBOUND_SECRET = ""
    body = b"From=%2B15025550123&Body=STOP"
    assert not FileSmsBackend().verify_inbound(signed_request(body, sign(body, "")))


# --- Twilio: optional, imported only when configured ---------------------------------------------


def test_importing_the_sms_module_does_not_import_twilio():
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "import kynect.notifications.sms, kynect.notifications.services, kynect.notifications.views\n"
        "assert 'kynect.notifications.sms' in sys.modules\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'twilio'))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DJANGO_ENV": "test"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_twilio_backend_needs_the_twilio_package(monkeypatch):
    for name in ("twilio", "twilio.rest", "twilio.request_validator"):
        monkeypatch.setitem(sys.modules, name, None)  # as if the package were not installed
    with pytest.raises(ImportError):
        TwilioSmsBackend()


@pytest.fixture
def fake_twilio(monkeypatch, settings):
    settings.TWILIO_ACCOUNT_SID = "AC-test"
    settings.TWILIO_AUTH_TOKEN = "token-test"
    client_class = MagicMock(name="Client")
    validator_class = MagicMock(name="RequestValidator")
    package = types.ModuleType("twilio")
    rest = types.ModuleType("twilio.rest")
    rest.Client = client_class  # type: ignore[attr-defined]
    request_validator = types.ModuleType("twilio.request_validator")
    request_validator.RequestValidator = validator_class  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "twilio", package)
    monkeypatch.setitem(sys.modules, "twilio.rest", rest)
    monkeypatch.setitem(sys.modules, "twilio.request_validator", request_validator)
    return types.SimpleNamespace(client_class=client_class, validator_class=validator_class)


def test_the_twilio_backend_sends_through_the_client(fake_twilio):
    backend = TwilioSmsBackend()
    fake_twilio.client_class.assert_called_once_with("AC-test", "token-test")
    fake_twilio.validator_class.assert_called_once_with("token-test")
    client = fake_twilio.client_class.return_value
    client.messages.create.return_value = types.SimpleNamespace(sid="SM123")

    assert backend.send(MESSAGE) == "SM123"
    client.messages.create.assert_called_once_with(
        to="+15025550123", from_="+15025550100", body="Your appointment is tomorrow."
    )


def test_a_twilio_failure_becomes_a_delivery_error_without_personal_data(fake_twilio):
    backend = TwilioSmsBackend()
    client = fake_twilio.client_class.return_value
    client.messages.create.side_effect = ValueError("cannot text +15025550123")
    with pytest.raises(SmsDeliveryError) as raised:
        backend.send(MESSAGE)
    assert str(raised.value) == "ValueError"


def test_the_twilio_backend_checks_twilios_signature(fake_twilio):
    backend = TwilioSmsBackend()
    validator = fake_twilio.validator_class.return_value
    request = RequestFactory().post(
        "/notifications/sms/inbound/",
        data={"From": "+15025550123", "Body": "STOP"},
        headers={"X-Twilio-Signature": "sig"},
    )
    validator.validate.return_value = True
    assert backend.verify_inbound(request) is True
    validator.validate.assert_called_once_with(
        "http://testserver/notifications/sms/inbound/", {"From": "+15025550123", "Body": "STOP"}, "sig"
    )
    validator.validate.return_value = False
    assert backend.verify_inbound(request) is False
