"""Turning one raw HSDS value into the model field's value, or a reason why it cannot be."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import dateparse, timezone


class BadValueError(Exception):
    """A raw value that cannot become the field's value; the message says why."""


def value_is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_uuid(raw: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw).strip())
    except ValueError:
        return None


def _parse_datetime(text: str) -> datetime | None:
    parsed = dateparse.parse_datetime(text)
    if parsed is None:
        day = dateparse.parse_date(text)
        if day is None:
            return None
        parsed = datetime.combine(day, time.min)
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def value_convert(model_field: models.Field[Any, Any], raw: Any) -> Any:
    """The model value for one non-empty raw value; raises BadValueError with a reason."""
    text = raw.strip() if isinstance(raw, str) else str(raw)
    kind = model_field.get_internal_type()
    if isinstance(raw, (bool, dict, list)):
        raise BadValueError(f"{raw!r} is not a single value")
    if kind == "UUIDField":
        value = parse_uuid(text)
        if value is None:
            raise BadValueError(f"{text!r} is not a UUID")
        return value
    if kind.endswith("IntegerField"):
        try:
            number = float(text) if isinstance(raw, float) else int(text)
        except ValueError as exc:
            raise BadValueError(f"{text!r} is not a whole number") from exc
        if isinstance(number, float) and not number.is_integer():
            raise BadValueError(f"{text!r} is not a whole number")
        low, high = connection.ops.integer_field_range(kind)
        if (low is not None and number < low) or (high is not None and number > high):
            raise BadValueError(f"{text} is out of range")
        return int(number)
    if kind == "FloatField":
        try:
            number_value = float(text)
        except ValueError as exc:
            raise BadValueError(f"{text!r} is not a number") from exc
        if not math.isfinite(number_value):
            raise BadValueError(f"{text!r} is not a number")
        return number_value
    if kind == "DecimalField":
        assert isinstance(model_field, models.DecimalField)
        try:
            amount = Decimal(text)
            places = model_field.decimal_places or 0
            quantized = amount.quantize(Decimal(1).scaleb(-places))
        except InvalidOperation as exc:
            raise BadValueError(f"{text!r} is not a number") from exc
        if not quantized.is_finite() or abs(quantized) >= Decimal(10) ** (
            (model_field.max_digits or 0) - places
        ):
            raise BadValueError(f"{text!r} is not a number that fits")
        return quantized
    if kind == "DateTimeField":
        moment = _parse_datetime(text) if not isinstance(raw, (int, float)) else None
        if moment is None:
            raise BadValueError(f"{text!r} is not a date-time")
        return moment
    if kind == "DateField":
        try:
            day = dateparse.parse_date(text)
        except ValueError:
            day = None
        if day is None:
            moment = _parse_datetime(text)
            if moment is None:
                raise BadValueError(f"{text!r} is not a date")
            day = moment.date()
        return day
    if kind == "TimeField":
        try:
            clock = time.fromisoformat(text.removesuffix("Z"))
        except ValueError as exc:
            raise BadValueError(f"{text!r} is not a time") from exc
        return clock.replace(tzinfo=None)
    if model_field.choices:
        for choice in model_field.flatchoices:
            if str(choice[0]).lower() == text.lower():
                return choice[0]
        allowed = ", ".join(str(choice[0]) for choice in model_field.flatchoices)
        raise BadValueError(f"{text!r} is not one of: {allowed}")
    try:
        model_field.run_validators(text)
    except ValidationError as exc:
        raise BadValueError(f"{text[:80]!r}: {' '.join(exc.messages)}") from exc
    return text


def value_empty(model_field: models.Field[Any, Any]) -> Any:
    if model_field.has_default():
        return model_field.get_default()
    return None if model_field.null else ""


def field_is_required(model_field: models.Field[Any, Any]) -> bool:
    return not model_field.blank and not model_field.has_default()
