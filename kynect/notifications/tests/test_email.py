"""The JSON-lines email backend: one record per email, naming the outbox message it came from."""

from __future__ import annotations

import json
import os

import pytest

from kynect.core import clock
from kynect.notifications.delivery import messages_deliver
from kynect.notifications.models import OutboundMessage

pytestmark = pytest.mark.django_db


def test_each_email_sent_is_one_line_naming_its_outbox_message(settings, tmp_path):
    settings.EMAIL_BACKEND = "kynect.notifications.email.JsonLinesEmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "email")
    messages = [
        OutboundMessage.objects.create(
            channel=OutboundMessage.Channel.EMAIL,
            recipient=f"helper{number}@example.org",
            template="test/hello",
            subject=f"Subject {number}",
            body=f"Body {number}",
            next_attempt_at=clock.now(),
        )
        for number in range(3)
    ]
    ids = [str(message.pk) for message in messages]
    assert set(messages_deliver(message_ids=ids).values()) == {OutboundMessage.Status.SENT}

    lines = (tmp_path / "email" / "messages.jsonl").read_text().splitlines()
    records = {record["message_id"]: record for record in map(json.loads, lines)}
    assert len(lines) == 3
    assert sorted(records) == sorted(ids)
    first = records[ids[0]]
    assert (first["to"], first["subject"], first["body"], first["pid"]) == (
        ["helper0@example.org"],
        "Subject 0",
        "Body 0",
        os.getpid(),
    )
