"""Logging: the filter that keeps emails, phone numbers and passcodes out of the logs, the context each
record carries (request, task, sweep), the text and JSON formats, and gunicorn's logger."""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django_tasks import task

from kynect.core.logging import (
    JsonFormatter,
    LogContextFilter,
    PiiMaskingFilter,
    TextFormatter,
    log_context,
    log_context_current,
    log_context_start,
    mask_pii,
)


@task()
def log_context_of_task() -> dict[str, str]:
    return log_context_current()


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A real logger with the filter attached and a handler writing to a buffer."""
    logger = logging.getLogger(f"kynect.tests.pii.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.addFilter(PiiMaskingFilter())
    yield logger, stream
    logger.removeHandler(handler)
    logger.filters.clear()


@pytest.mark.parametrize(
    "email", ["maria@example.org", "Jo.Ann+kynect@mail.example.co.uk", "x_y-z%1@sub.domain.gov"]
)
def test_emails_are_masked(email: str) -> None:
    masked = mask_pii(f"Sent the invitation to {email} just now")

    assert email not in masked
    assert masked == "Sent the invitation to [email] just now"


@pytest.mark.parametrize(
    "phone",
    [
        "(502) 555-0123",
        "502-555-0123",
        "502.555.0123",
        "502 555 0123",
        "5025550123",
        "+15025550123",
        "+1 502 555 0123",
        "1-502-555-0123",
        "+1 (502) 555-0123",
    ],
)
def test_us_phone_numbers_are_masked(phone: str) -> None:
    masked = mask_pii(f"Texting {phone} now")

    assert masked == "Texting [phone] now"
    assert "555" not in masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("passcode 123456", "passcode [secret]"),
        ("Your passcode: 123456.", "Your passcode: [secret]."),
        ("otp=987654", "otp=[secret]"),
        ("OTP = 987654", "OTP = [secret]"),
        ("code: A1B2C3", "code: [secret]"),
        ("token=abcdef-123456_xyz", "token=[secret]"),
        ("pin 4821", "pin [secret]"),
        ("your one-time code is 123456", "your one-time code is [code]"),
        ("the number 123456 arrived", "the number [code] arrived"),
        ("123456", "[code]"),
    ],
)
def test_passcodes_and_bare_six_digit_numbers_are_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Worker abc123 started with sweep handlers: core.expired_rate_limits",
        "GET /es/search/?category=housing 200",
        "Zip 40601 is in Franklin County",
        "Swept 12345 rows in 2 seconds",
        "Order 1234567 shipped",  # seven digits: not a passcode
        "Released 2024-05-06 at 10:30",
        "Request id 3f2a-123456-b",  # digits inside an identifier
        "",
    ],
)
def test_ordinary_text_survives(text: str) -> None:
    assert mask_pii(text) == text


def test_several_kinds_in_one_message() -> None:
    masked = mask_pii("maria@example.org (502) 555-0123 passcode 654321 and 112233")

    assert masked == "[email] [phone] passcode [secret] and [code]"


def test_logger_masks_the_formatted_message(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture

    logger.info("Login by maria@example.org from +1 (502) 555-0123 with passcode 123456")

    assert stream.getvalue() == "INFO Login by [email] from [phone] with passcode [secret]\n"


def test_logger_masks_percent_style_arguments(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture

    logger.warning("Sent %s to %s (otp=%s) for user %d", "987654", "maria@example.org", "246810", 42)

    output = stream.getvalue()
    assert output == "WARNING Sent [code] to [email] (otp=[secret]) for user 42\n"
    for secret in ("987654", "maria@example.org", "246810"):
        assert secret not in output


def test_logger_masks_mapping_arguments(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture

    logger.info("Text to %(phone)s", {"phone": "502-555-0123"})

    assert stream.getvalue() == "INFO Text to [phone]\n"


def test_logger_masks_exception_tracebacks(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture

    try:
        raise ValueError("could not text 502-555-0123 for maria@example.org: passcode 135790")
    except ValueError:
        logger.exception("Sending to %s failed", "maria@example.org")

    output = stream.getvalue()
    assert "Traceback (most recent call last)" in output
    assert "ValueError: could not text [phone] for [email]: passcode [secret]" in output
    assert output.startswith("ERROR Sending to [email] failed\n")
    for secret in ("502-555-0123", "maria@example.org", "135790"):
        assert secret not in output


def test_a_record_with_bad_arguments_is_still_logged(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture

    logger.info("Two placeholders %s %s for maria@example.org", "only-one")

    assert stream.getvalue() == "INFO Two placeholders %s %s for [email]\n"


def test_filter_keeps_every_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "passcode %s", ("123456",), None)

    assert PiiMaskingFilter().filter(record) is True
    assert record.getMessage() == "passcode [secret]"
    assert record.args is None


def test_logging_setting_attaches_the_filter_to_the_console_handler() -> None:
    config: dict[str, Any] = settings.LOGGING

    assert config["filters"]["mask_pii"]["()"] == "kynect.core.logging.PiiMaskingFilter"
    assert "mask_pii" in config["handlers"]["console"]["filters"]
    assert "console" in config["root"]["handlers"]


def test_configured_root_console_handler_masks_records() -> None:
    console_handlers = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, PiiMaskingFilter) for f in handler.filters)
    ]
    assert console_handlers, "the root logger has no handler with the PII filter"

    handler = console_handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    record = logging.LogRecord("kynect", logging.INFO, __file__, 1, "hello %s", ("maria@example.org",), None)
    assert handler.filter(record)
    assert record.getMessage() == "hello [email]"


def test_link_secrets_in_paths_are_masked() -> None:
    secret = "ceXzDTd8GUByUGrRfnj3u54p-BumhqTntWYVfMAWi6U"
    path = f"/ondemand/offer/9738644d-b692-4888-9cf2-a41e0b419435/{secret}/accept/"
    masked = mask_pii(f"Not Found: {path}")
    assert "ceXzDTd8" not in masked
    assert masked == "Not Found: /ondemand/offer/9738644d-b692-4888-9cf2-a41e0b419435/[secret]/accept/"


def test_invitation_and_password_reset_tokens_in_paths_are_masked() -> None:
    import uuid

    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from kynect.accounts.models import Invitation, User
    from kynect.accounts.services import invitation_token

    invitation = invitation_token(invitation=Invitation(pk=uuid.uuid4()))
    user = User(pk=4207, email="maria@example.org", password="x")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    reset = default_token_generator.make_token(user)
    invitation_path = f"/es/accounts/invitations/{invitation}/"
    reset_path = f"/accounts/reset/{uid}/{reset}/"

    assert mask_pii(f"GET {invitation_path}") == "GET /es/accounts/invitations/[secret]/"
    assert mask_pii(f"GET {reset_path}") == f"GET /accounts/reset/{uid}/[secret]/"
    # Django's own next step holds no secret, and stays readable.
    assert mask_pii(f"GET /accounts/reset/{uid}/set-password/") == f"GET /accounts/reset/{uid}/set-password/"


def test_the_access_log_masks_link_secrets() -> None:
    from types import SimpleNamespace

    from gunicorn.config import Config

    from kynect.core.gunicorn_logging import PiiMaskingLogger

    logger = PiiMaskingLogger(Config())
    secret = "ceXzDTd8GUByUGrRfnj3u54p-BumhqTntWYVfMAWi6U"
    path = f"/ondemand/help/9738644d-b692-4888-9cf2-a41e0b419435/{secret}/"
    request = SimpleNamespace(headers=[], method="GET", path=path, query="", uri=path, version=(1, 1))
    response = SimpleNamespace(status="200 OK", headers=[], sent=10, response_length=10)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    from datetime import timedelta

    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
    assert secret not in " ".join(str(value) for value in atoms.values())
    assert "[secret]" in atoms["U"]


# --- Formats and context ----------------------------------------------------------------------------


def formatted(formatter: logging.Formatter, emit: Callable[[logging.Logger], None]) -> list[str]:
    """The lines a handler configured as the LOGGING setting configures its own writes for `emit`."""
    logger = logging.getLogger(f"kynect.tests.format.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(LogContextFilter())
    handler.addFilter(PiiMaskingFilter())
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().splitlines()


def log_a_failure(logger: logging.Logger) -> None:
    try:
        raise ValueError("could not text 502-555-0123 for maria@example.org")
    except ValueError:
        logger.exception("Sending to %s failed", "maria@example.org")


def test_json_lines_carry_time_level_logger_message_and_context() -> None:
    with log_context(request_id="req-12345678", worker="host-1"):
        lines = formatted(JsonFormatter(), lambda logger: logger.info("Offer %s accepted", "o-1"))

    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "INFO"
    assert entry["logger"].startswith("kynect.tests.format.")
    assert entry["message"] == "Offer o-1 accepted"
    assert entry["request_id"] == "req-12345678"
    assert entry["worker"] == "host-1"
    assert entry["process"] == os.getpid()
    assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    assert "exception" not in entry


def test_json_lines_outside_a_request_have_a_null_request_id() -> None:
    entry = json.loads(formatted(JsonFormatter(), lambda logger: logger.warning("idle"))[0])

    assert entry["request_id"] is None
    assert "task_id" not in entry


def test_json_masks_the_message_and_the_traceback_and_keeps_one_line() -> None:
    lines = formatted(JsonFormatter(), log_a_failure)

    assert len(lines) == 1, "a traceback must not break the one-object-a-line format"
    entry = json.loads(lines[0])
    assert entry["message"] == "Sending to [email] failed"
    assert entry["exception"].startswith("Traceback (most recent call last)")
    assert "ValueError: could not text [phone] for [email]" in entry["exception"]
    assert "maria@example.org" not in lines[0]
    assert "555-0123" not in lines[0]


def test_json_writes_non_ascii_as_itself() -> None:
    entry_line = formatted(JsonFormatter(), lambda logger: logger.info("Condado de Pérez"))[0]

    assert "Pérez" in entry_line
    assert json.loads(entry_line)["message"] == "Condado de Pérez"


def test_text_lines_carry_the_context_and_mask_the_traceback() -> None:
    with log_context(request_id="req-12345678"):
        lines = formatted(TextFormatter(), log_a_failure)

    assert " ERROR kynect.tests.format." in lines[0]
    assert lines[0].endswith("[request_id=req-12345678] Sending to [email] failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: could not text [phone] for [email]"
    assert "maria@example.org" not in "\n".join(lines)


def test_text_lines_start_with_the_utc_time_and_have_no_brackets_without_context() -> None:
    line = formatted(TextFormatter(), lambda logger: logger.info("Worker stopped"))[0]

    time, level, name, message = line.split(" ", 3)
    assert datetime.fromisoformat(time).utcoffset() == timedelta(0)
    assert (level, message) == ("INFO", "Worker stopped")
    assert name.startswith("kynect.tests.format.")


def test_stack_info_is_masked() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.info("where is maria@example.org", stack_info=True)

    entry = json.loads(formatted(JsonFormatter(), emit)[0])

    assert entry["stack"].startswith("Stack (most recent call last)")
    assert "maria@example.org" not in json.dumps(entry)


def test_log_context_nests_and_restores() -> None:
    with log_context(request_id="outer-123"):
        with log_context(task_id="t-1", task="kynect.x.y"):
            inner = log_context_current()
            assert inner == {"request_id": "outer-123", "task_id": "t-1", "task": "kynect.x.y"}
        assert log_context_current() == {"request_id": "outer-123"}
    assert log_context_current() == {}


def test_log_context_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="Unknown log context fields: email"):
        log_context_start(email="maria@example.org")
    assert log_context_current() == {}


def test_a_field_passed_in_extra_is_kept() -> None:
    lines = formatted(
        JsonFormatter(), lambda logger: logger.info("GET /", extra={"request_id": "from-extra-1"})
    )
    entry = json.loads(lines[0])

    assert entry["request_id"] == "from-extra-1"


def test_a_task_logs_with_its_id_and_name() -> None:
    result = log_context_of_task.enqueue()  # the test settings run tasks at once

    assert result.return_value == {"task_id": str(result.id), "task": log_context_of_task.module_path}
    assert log_context_current() == {}


def test_a_task_run_inside_a_request_gets_the_request_back_afterwards() -> None:
    with log_context(request_id="req-12345678"):
        result = log_context_of_task.enqueue()
        assert log_context_current() == {"request_id": "req-12345678"}

    assert result.return_value is not None
    assert result.return_value["request_id"] == "req-12345678"
    assert result.return_value["task_id"] == str(result.id)


def test_the_logging_setting_formats_by_log_format(settings: Any) -> None:
    handler = settings.LOGGING["handlers"]["console"]

    assert handler["formatter"] == settings.LOG_FORMAT == "text"
    assert handler["filters"] == ["log_context", "mask_pii"]
    assert settings.LOGGING["formatters"]["json"]["()"] == "kynect.core.logging.JsonFormatter"
    # Django's own handlers would print without the filters; these loggers reach the root handler.
    assert settings.LOGGING["loggers"]["django"] == {"handlers": [], "level": "INFO", "propagate": True}
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django.server").handlers == []


MASKED_HELP_PATH = "/ondemand/help/9738644d-b692-4888-9cf2-a41e0b419435/[secret]/"


def gunicorn_handlers(log: logging.Logger, stream: io.StringIO) -> None:
    """Point gunicorn's stream handler at `stream` (pytest adds capture handlers of its own)."""
    handlers = [handler for handler in log.handlers if type(handler) is logging.StreamHandler]
    assert len(handlers) == 1
    handlers[0].setStream(stream)


def gunicorn_access(request_id: str, log_format: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the gunicorn logger writes to its access log for one request, as bin/run-demo configures it."""
    from types import SimpleNamespace

    from gunicorn.config import Config

    from kynect.core.gunicorn_logging import PiiMaskingLogger

    monkeypatch.setattr(settings, "LOG_FORMAT", log_format)
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", '"%(m)s %(U)s" %(s)s %(L)ss request_id=%({x-request-id}o)s')
    logger = PiiMaskingLogger(config)
    stream = io.StringIO()
    gunicorn_handlers(logger.access_log, stream)
    path = "/ondemand/help/9738644d-b692-4888-9cf2-a41e0b419435/ceXzDTd8GUByUGrRfnj3u54p-BumhqTntWYVfMAWi6U/"
    request = SimpleNamespace(headers=[], method="GET", path=path, query="", uri=path, version=(1, 1))
    response = SimpleNamespace(status="200 OK", headers=[("X-Request-ID", request_id)], sent=10)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path, "QUERY_STRING": ""}
    environ["SERVER_PROTOCOL"] = "HTTP/1.1"
    logger.access(response, request, environ, timedelta(milliseconds=5))
    return stream.getvalue().splitlines()


def test_the_access_log_in_json_carries_the_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = gunicorn_access("abcdef0123456789", "json", monkeypatch)

    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["logger"] == "gunicorn.access"
    assert entry["request_id"] == "abcdef0123456789"
    assert entry["message"] == f'"GET {MASKED_HELP_PATH}" 200 0.005000s request_id=abcdef0123456789'


def test_the_access_log_in_text_carries_the_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = gunicorn_access("abcdef0123456789", "text", monkeypatch)

    assert lines == [f'"GET {MASKED_HELP_PATH}" 200 0.005000s request_id=abcdef0123456789']


def test_the_gunicorn_error_log_masks_and_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.config import Config

    from kynect.core.gunicorn_logging import PiiMaskingLogger

    monkeypatch.setattr(settings, "LOG_FORMAT", "json")
    logger = PiiMaskingLogger(Config())
    stream = io.StringIO()
    gunicorn_handlers(logger.error_log, stream)
    try:
        raise RuntimeError("boom for maria@example.org")
    except RuntimeError:
        logger.exception("Error handling request /x?email=%s", "maria@example.org")

    entry = json.loads(stream.getvalue())
    assert entry["logger"] == "gunicorn.error"
    assert entry["message"] == "Error handling request /x?email=[email]"
    assert "RuntimeError: boom for [email]" in entry["exception"]


@pytest.mark.parametrize("logger_name", ["django.server", "django.request", "django.security.csrf"])
def test_djangos_loggers_reach_the_masking_console_handler(
    logger_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """runserver's request lines (django.server) had a handler of their own that printed paths unmasked."""
    [console] = [
        handler
        for handler in logging.getLogger().handlers
        if type(handler) is logging.StreamHandler
        and any(isinstance(f, PiiMaskingFilter) for f in handler.filters)
    ]
    stream = io.StringIO()
    monkeypatch.setattr(console, "stream", stream)

    logging.getLogger(logger_name).warning('"GET /share/?email=maria@example.org HTTP/1.1" 404 179')

    assert stream.getvalue().endswith(
        f' WARNING {logger_name} "GET /share/?email=[email] HTTP/1.1" 404 179\n'
    )
