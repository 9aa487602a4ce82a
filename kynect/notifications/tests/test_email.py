"""The JSON-lines email backend: one record per email, naming the outbox message it came from, appended
whole even when several processes write at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from kynect.core import clock
from kynect.notifications.delivery import messages_deliver
from kynect.notifications.models import OutboundMessage


def read_records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.django_db
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


APPENDING_PROCESS = """
import sys
from pathlib import Path
from kynect.notifications.files import record_append
path, writer = Path(sys.argv[1]), sys.argv[2]
for number in range(100):
    record_append(path, {"message_id": f"{writer}-{number}", "body": writer * 70000})
"""


def test_records_appended_by_several_processes_at_once_are_whole_lines(tmp_path):
    # Each line is longer than a file buffer, so it would be split into several writes if not written whole.
    path = tmp_path / "messages.jsonl"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDING_PROCESS, str(path), f"w{writer}"],
            cwd=Path(django_settings.BASE_DIR),
        )
        for writer in range(4)
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0, 0]
    records = read_records(path)  # a line cut by another process's write would not parse
    assert sorted(str(record["message_id"]) for record in records) == sorted(
        f"w{writer}-{number}" for writer in range(4) for number in range(100)
    )
