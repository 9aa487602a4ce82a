"""Fixed-window rate limits kept in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kynect.core import sweeper
from kynect.core.models import RateLimitBucket
from kynect.core.ratelimit import (
    delete_expired_rate_limits,
    rate_limit_hit,
    rate_limit_key,
    rate_limit_reset,
    rate_limit_take,
)

pytestmark = pytest.mark.django_db

# 12:00:15 UTC: 15 seconds into a one-minute window, 15 minutes into a fifteen-minute window.
START = datetime(2025, 3, 3, 12, 0, 15, tzinfo=UTC)


def test_hits_are_allowed_up_to_the_limit_then_refused() -> None:
    key = rate_limit_key("login", "maria@example.org")

    with time_machine.travel(START, tick=False):
        results = [rate_limit_hit(key=key, limit=3, window_seconds=60) for _ in range(5)]

    assert [result.count for result in results] == [1, 2, 3, 4, 5]
    assert [result.allowed for result in results] == [True, True, True, False, False]
    assert {result.retry_after_seconds for result in results} == {45}
    assert RateLimitBucket.objects.get(key=key).count == 5


def test_a_batch_gets_what_is_left_of_the_window_and_the_next_window_starts_afresh() -> None:
    with time_machine.travel(START, tick=False) as traveller:
        taken = [
            rate_limit_take(key="outbox:sms", wanted=wanted, limit=10, window_seconds=1)
            for wanted in (4, 4, 4, 4)
        ]
        assert [take.granted for take in taken] == [4, 4, 2, 0]
        assert {take.window_ends_at for take in taken} == {START + timedelta(seconds=1)}
        traveller.shift(timedelta(seconds=1))
        assert rate_limit_take(key="outbox:sms", wanted=12, limit=10, window_seconds=1).granted == 10
        # Another key has its own allowance.
        assert rate_limit_take(key="outbox:email", wanted=3, limit=10, window_seconds=1).granted == 3


def test_window_rolls_over() -> None:
    key = rate_limit_key("login", "maria@example.org")

    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(3):
            rate_limit_hit(key=key, limit=3, window_seconds=60)
        assert not rate_limit_hit(key=key, limit=3, window_seconds=60).allowed

        traveller.move_to(START + timedelta(seconds=44))  # 12:00:59, still the same window
        refused = rate_limit_hit(key=key, limit=3, window_seconds=60)
        assert not refused.allowed
        assert refused.retry_after_seconds == 1

        traveller.move_to(START + timedelta(seconds=45))  # 12:01:00, a new window
        fresh = rate_limit_hit(key=key, limit=3, window_seconds=60)
        assert fresh.allowed
        assert fresh.count == 1
        assert fresh.retry_after_seconds == 60

    assert RateLimitBucket.objects.filter(key=key).count() == 2


def test_retry_after_rounds_up_to_the_end_of_the_window() -> None:
    """A client that waits Retry-After seconds must find a new window, not the last fraction of this one."""
    key = rate_limit_key("login", "maria@example.org")

    with time_machine.travel(START + timedelta(seconds=0.4), tick=False):  # 44.6 s before 12:01:00
        hit = rate_limit_hit(key=key, limit=1, window_seconds=60)
        assert hit.retry_after_seconds == 45


def test_bucket_expires_at_the_end_of_its_window() -> None:
    key = rate_limit_key("sms", "+15025550123")

    with time_machine.travel(START, tick=False):
        rate_limit_hit(key=key, limit=5, window_seconds=900)

    bucket = RateLimitBucket.objects.get(key=key)
    assert bucket.window_start == datetime(2025, 3, 3, 12, 0, 0, tzinfo=UTC)
    assert bucket.expires_at == datetime(2025, 3, 3, 12, 15, 0, tzinfo=UTC)


def test_keys_are_limited_separately() -> None:
    first = rate_limit_key("login", "maria@example.org")
    second = rate_limit_key("login", "jose@example.org")

    with time_machine.travel(START, tick=False):
        rate_limit_hit(key=first, limit=1, window_seconds=60)
        assert not rate_limit_hit(key=first, limit=1, window_seconds=60).allowed
        assert rate_limit_hit(key=second, limit=1, window_seconds=60).allowed


def test_key_hides_the_limited_value() -> None:
    key = rate_limit_key("login", "Maria@Example.org", "203.0.113.9")

    assert key.startswith("login:")
    assert "maria" not in key.lower()
    assert "example" not in key.lower()
    assert "@" not in key
    assert "203.0.113.9" not in key
    assert len(key) <= RateLimitBucket._meta.get_field("key").max_length  # type: ignore[operator]


def test_key_is_stable_and_distinguishes_values() -> None:
    assert rate_limit_key("login", "a@example.org") == rate_limit_key("login", "a@example.org")
    assert rate_limit_key("login", "a@example.org") != rate_limit_key("login", "b@example.org")
    assert rate_limit_key("login", "a@example.org") != rate_limit_key("sms", "a@example.org")
    # The parts are joined with a separator, so moving characters between parts changes the key.
    assert rate_limit_key("login", "ab", "c") != rate_limit_key("login", "a", "bc")


def test_reset_forgets_every_window_of_the_key() -> None:
    key = rate_limit_key("login", "maria@example.org")
    other = rate_limit_key("login", "jose@example.org")

    with time_machine.travel(START, tick=False) as traveller:
        rate_limit_hit(key=key, limit=1, window_seconds=60)
        rate_limit_hit(key=other, limit=1, window_seconds=60)
        traveller.shift(60)
        rate_limit_hit(key=key, limit=1, window_seconds=60)
        assert not rate_limit_hit(key=key, limit=1, window_seconds=60).allowed

        rate_limit_reset(key=key)

        assert not RateLimitBucket.objects.filter(key=key).exists()
        assert RateLimitBucket.objects.filter(key=other).exists()
        assert rate_limit_hit(key=key, limit=1, window_seconds=60).allowed


def test_sweep_handler_deletes_only_expired_buckets() -> None:
    assert sweeper.handlers()["core.expired_rate_limits"] is delete_expired_rate_limits
    old, current = rate_limit_key("login", "old"), rate_limit_key("login", "current")

    with time_machine.travel(START, tick=False):
        rate_limit_hit(key=old, limit=5, window_seconds=60)  # expires 12:01:00
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        rate_limit_hit(key=current, limit=5, window_seconds=60)  # expires 12:06:00

    now = datetime(2025, 3, 3, 12, 5, 30, tzinfo=UTC)
    assert sweeper.handlers()["core.expired_rate_limits"](now=now) == 1
    assert list(RateLimitBucket.objects.values_list("key", flat=True)) == [current]

    # A bucket is kept up to the instant it expires, and running the sweep again changes nothing.
    assert delete_expired_rate_limits(now=datetime(2025, 3, 3, 12, 6, 0, tzinfo=UTC)) == 0
    assert RateLimitBucket.objects.filter(key=current).exists()


def test_sweep_once_runs_the_rate_limit_sweep() -> None:
    key = rate_limit_key("login", "old")
    with time_machine.travel(START, tick=False):
        rate_limit_hit(key=key, limit=5, window_seconds=60)

    results = sweeper.sweep_once(now=START + timedelta(hours=1))

    assert results["core.expired_rate_limits"] == 1
    assert not RateLimitBucket.objects.exists()
