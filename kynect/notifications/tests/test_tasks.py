"""The background task that delivers one outbox message."""

from __future__ import annotations

import uuid
from unittest.mock import patch

import pytest
from django.core import mail
from django_tasks import TaskResultStatus
from django_tasks.signals import task_enqueued

from kynect.core import clock
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import email_queue
from kynect.notifications.sms import LocmemSmsBackend, SmsDeliveryError
from kynect.notifications.tasks import send_message

pytestmark = pytest.mark.django_db


def outbox_message(channel: str, recipient: str) -> OutboundMessage:
    return OutboundMessage.objects.create(
        channel=channel,
        recipient=recipient,
        template="test/hello",
        subject="A message for Ana" if channel == OutboundMessage.Channel.EMAIL else "",
        body="Hello Ana",
        next_attempt_at=clock.now(),
    )


def test_the_task_delivers_an_email():
    message = outbox_message(OutboundMessage.Channel.EMAIL, "ana@example.org")
    result = send_message.enqueue(message_id=str(message.pk))
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == OutboundMessage.Status.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.org"]
    assert mail.outbox[0].subject == "A message for Ana"
    assert mail.outbox[0].body == "Hello Ana"
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.sent_at is not None


def test_the_task_delivers_a_text():
    message = outbox_message(OutboundMessage.Channel.SMS, "+15025550123")
    result = send_message.enqueue(message_id=str(message.pk))
    assert result.return_value == OutboundMessage.Status.SENT
    assert [(sms.to, sms.body) for sms in LocmemSmsBackend.outbox] == [("+15025550123", "Hello Ana")]
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.provider_message_id == "locmem-1"


def test_running_the_task_twice_sends_once():
    message = outbox_message(OutboundMessage.Channel.SMS, "+15025550123")
    send_message.enqueue(message_id=str(message.pk))
    second = send_message.enqueue(message_id=str(message.pk))
    assert second.return_value == OutboundMessage.Status.SENT
    assert len(LocmemSmsBackend.outbox) == 1


def test_a_failed_send_leaves_the_task_successful_and_the_message_pending():
    # The outbox, not the task queue, owns retries: the task itself must not fail.
    message = outbox_message(OutboundMessage.Channel.SMS, "+15025550123")
    with patch("kynect.notifications.sms.LocmemSmsBackend.send", side_effect=SmsDeliveryError("down")):
        result = send_message.enqueue(message_id=str(message.pk))
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == OutboundMessage.Status.PENDING
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.PENDING
    assert message.attempts == 1


def test_the_task_for_a_missing_message_does_nothing():
    result = send_message.enqueue(message_id=str(uuid.uuid4()))
    assert result.return_value == "missing"
    assert mail.outbox == []
    assert LocmemSmsBackend.outbox == []


def test_queueing_a_message_enqueues_the_task_on_commit(django_capture_on_commit_callbacks):
    enqueued = []

    def record(sender, task_result, **kwargs):
        enqueued.append((task_result.task.func, task_result.kwargs))

    task_enqueued.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = email_queue(
                to="ana@example.org",
                template="accounts/password_reset",
                context={"reset_url": "https://kynect.example/accounts/reset/abc/def/"},
            )
            assert enqueued == []
    finally:
        task_enqueued.disconnect(record)
    assert enqueued == [(send_message.func, {"message_id": str(message.pk)})]
    assert "https://kynect.example/accounts/reset/abc/def/" in mail.outbox[0].body
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
