"""Appending records to a JSON-lines file, safely from several processes at once: the JSON-lines email
backend keeps one line per email handed to it, so a benchmark or a test can count deliveries."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


def record_append(path: Path, record: dict[str, Any]) -> None:
    """Append `record` as one line. The file is opened for appending and locked while the line is
    written in one call, so lines from processes writing at the same moment never mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, line)
    finally:
        os.close(descriptor)  # closing releases the lock
