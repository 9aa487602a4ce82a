"""The logging filter that keeps emails, phone numbers and passcodes out of the logs."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from kynect.core.logging import PiiMaskingFilter, mask_pii


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
