"""Fixed-window rate limits kept in the database, so they hold across every process."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from kynect.core import clock, sweeper
from kynect.core.models import RateLimitBucket


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    count: int
    retry_after_seconds: int


def rate_limit_key(*parts: str) -> str:
    """A key that names what is limited without storing personal data such as an email address."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return f"{parts[0]}:{digest}"


def _window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=now.tzinfo)


def _seconds_left(now: datetime, start: datetime, window_seconds: int) -> int:
    """Whole seconds until the window ends, rounded up: waiting that long always reaches the next one."""
    return max(math.ceil((start + timedelta(seconds=window_seconds) - now).total_seconds()), 1)


def _count(*, key: str, uses: int, start: datetime, window_seconds: int) -> int:
    """Add `uses` to the window's count in one atomic increment; returns the count after it."""
    with transaction.atomic():
        bucket, _created = RateLimitBucket.objects.get_or_create(
            key=key,
            window_start=start,
            defaults={"count": 0, "expires_at": start + timedelta(seconds=window_seconds)},
        )
        RateLimitBucket.objects.filter(pk=bucket.pk).update(count=F("count") + uses)
        return RateLimitBucket.objects.values_list("count", flat=True).get(pk=bucket.pk)


def rate_limit_hit(*, key: str, limit: int, window_seconds: int) -> RateLimitResult:
    """Count one use of `key`; the result says whether this use is within the limit.

    Count before doing what is limited, and do it only if allowed: the count is one atomic increment, so uses
    at the same moment each get their own number and never more than `limit` are allowed.
    """
    now = clock.now()
    start = _window_start(now, window_seconds)
    count = _count(key=key, uses=1, start=start, window_seconds=window_seconds)
    retry_after = _seconds_left(now, start, window_seconds)
    return RateLimitResult(allowed=count <= limit, count=count, retry_after_seconds=retry_after)


@dataclass(frozen=True)
class RateLimitTaken:
    granted: int
    window_ends_at: datetime


def rate_limit_take(*, key: str, wanted: int, limit: int, window_seconds: int) -> RateLimitTaken:
    """Ask for `wanted` uses of `key` at once; `granted` says how many fit in the current window (0 to
    `wanted`), for a caller that does work in batches (the outbox's senders).

    Like `rate_limit_hit`, one atomic increment: callers at the same moment share the window and together
    get at most `limit`. Uses asked for but not granted still count, which only matters in a window already
    full.
    """
    now = clock.now()
    start = _window_start(now, window_seconds)
    count = _count(key=key, uses=wanted, start=start, window_seconds=window_seconds)
    granted = max(0, min(wanted, limit - (count - wanted)))
    return RateLimitTaken(granted=granted, window_ends_at=start + timedelta(seconds=window_seconds))


def rate_limit_reset(*, key: str) -> None:
    RateLimitBucket.objects.filter(key=key).delete()


@sweeper.register("core.expired_rate_limits")
def delete_expired_rate_limits(*, now: datetime) -> int:
    deleted, _ = RateLimitBucket.objects.filter(expires_at__lt=now).delete()
    return deleted
