"""Logging for kynect: personal data masked in every record, each record tagged with the work it belongs
to (the request, the task, the sweep), and two line formats: readable text and one JSON object a line.

The LOGGING setting attaches `LogContextFilter` and `PiiMaskingFilter` to every handler and picks
`TextFormatter` or `JsonFormatter` by the LOG_FORMAT setting; gunicorn's logger does the same
(`kynect.core.gunicorn_logging`)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
PASSCODE = re.compile(r"(?i)\b(passcode|otp|one[- ]time code|code|pin|token)(\W{1,3})([A-Za-z0-9\-_]{4,})")
PHONE = re.compile(r"(?<![\w])(?:\+?1[\s.\-]?)?\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]?\d{4}(?![\w])")
SIX_DIGITS = re.compile(r"(?<![\w\-])\d{6}(?![\w\-])")
# A secret link's secret: the long URL-safe segment after an id in a path, such as a requester's
# /ondemand/help/<id>/<secret>/ or a helper's /ondemand/offer/<id>/<secret>/.
LINK_SECRET = re.compile(
    r"(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/)[A-Za-z0-9_\-]{20,}"
)
# The account links: an invitation's signed token (/accounts/invitations/<token>/) and a password reset's
# token (/accounts/reset/<uid>/<token>/; Django then moves the token into the session and redirects to
# /accounts/reset/<uid>/set-password/, which holds no secret).
ACCOUNT_LINK_SECRETS = (
    re.compile(r"(/invitations/)[A-Za-z0-9_\-:]{20,}"),
    re.compile(r"(/reset/[A-Za-z0-9_\-]+/)(?!set-password/)[A-Za-z0-9_\-]{20,}"),
)


def mask_link_secrets(text: str) -> str:
    """The text with each secret link's secret written as `[secret]`, its id kept."""
    for pattern in (LINK_SECRET, *ACCOUNT_LINK_SECRETS):
        text = pattern.sub(r"\1[secret]", text)
    return text


def mask_pii(text: str) -> str:
    text = mask_link_secrets(text)
    text = EMAIL.sub("[email]", text)
    text = PASSCODE.sub(lambda match: f"{match.group(1)}{match.group(2)}[secret]", text)
    text = PHONE.sub("[phone]", text)
    return SIX_DIGITS.sub("[code]", text)


class PiiMaskingFilter(logging.Filter):
    """Rewrites each record's message, exception text and stack with personal data masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = mask_pii(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters print `exc_text` when it is set instead of formatting the exception again.
            record.exc_text = mask_pii(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        return True


# --- What a record belongs to ---------------------------------------------------------------------

# The fields a record can carry about the work in hand, in the order the text format prints them.
CONTEXT_FIELDS = ("request_id", "worker", "task_id", "task", "sweep", "job", "loop")

_NO_CONTEXT: Mapping[str, str] = MappingProxyType({})
_context: ContextVar[Mapping[str, str]] = ContextVar("kynect_log_context", default=_NO_CONTEXT)


def log_context_start(**fields: str) -> Token[Mapping[str, str]]:
    """Tag every record logged from here on in this thread (or asyncio task) with `fields`, until
    `log_context_end(token)`. Use `log_context` where both ends are in one block."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown log context fields: {', '.join(sorted(unknown))}")
    return _context.set({**_context.get(), **fields})


def log_context_end(token: Token[Mapping[str, str]]) -> None:
    _context.reset(token)


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Tag every record logged inside the block with `fields` (`request_id`, `worker`, `task_id`, ...)."""
    token = log_context_start(**fields)
    try:
        yield
    finally:
        log_context_end(token)


def log_context_current() -> dict[str, str]:
    return dict(_context.get())


class LogContextFilter(logging.Filter):
    """Sets `record.log_context`: the fields of the work in hand, plus any the call passed in `extra`."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = dict(_context.get())
        # Django logs a 4xx or 5xx response after the middleware has returned; the request it passes
        # along still carries the id the request id middleware gave it.
        request_id = getattr(getattr(record, "request", None), "request_id", None)
        if isinstance(request_id, str):
            context.setdefault("request_id", request_id)
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str) and value:
                context[name] = value
        record.log_context = {name: context[name] for name in CONTEXT_FIELDS if name in context}
        return True


_task_tokens: dict[str, Token[Mapping[str, str]]] = {}


def task_log_context_start(*, task_result: Any, **kwargs: Any) -> None:
    """django-tasks' `task_started` receiver: records logged by the task carry its id and name."""
    task_id = str(task_result.id)
    _task_tokens[task_id] = log_context_start(task_id=task_id, task=task_result.task.module_path)


def task_log_context_end(*, task_result: Any, **kwargs: Any) -> None:
    """django-tasks' `task_finished` receiver."""
    token = _task_tokens.pop(str(task_result.id), None)
    if token is not None:
        log_context_end(token)


# --- Formats --------------------------------------------------------------------------------------


def _utc_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """`2026-12-07T19:03:11.201+00:00 INFO kynect.ondemand.services.offers [request_id=3f2a…] Offer …`:
    the time in UTC, the level, the logger, the context fields that are set, and the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(context_text)s%(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        context = getattr(record, "log_context", {})
        fields = " ".join(f"{name}={value}" for name, value in context.items())
        record.context_text = f"[{fields}] " if fields else ""
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request_id (null outside a request),
    the other context fields that are set, process, and exception and stack when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None,
            **getattr(record, "log_context", {}),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
