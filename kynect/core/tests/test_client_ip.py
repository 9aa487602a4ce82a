"""The client's address behind load balancers: X-Forwarded-For is read only from a trusted proxy."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from kynect.core.audit import audited_read, client_ip
from kynect.core.models import AccessEvent

BALANCER = "127.0.0.1"


def _ip(rf: RequestFactory, remote: str, forwarded: str | None = None) -> str | None:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(rf.get("/", **extra))


def test_without_trusted_proxies_the_header_is_ignored(rf: RequestFactory, settings: Any) -> None:
    settings.TRUSTED_PROXIES = []

    assert _ip(rf, "192.0.2.7", "10.0.0.1") == "192.0.2.7"
    assert _ip(rf, BALANCER, "203.0.113.9") == BALANCER
    assert _ip(rf, "") is None


def test_a_forged_header_from_an_untrusted_address_is_ignored(rf: RequestFactory, settings: Any) -> None:
    settings.TRUSTED_PROXIES = [BALANCER]

    assert _ip(rf, "198.51.100.4", "203.0.113.9") == "198.51.100.4"
    assert _ip(rf, "198.51.100.4", f"203.0.113.9, {BALANCER}") == "198.51.100.4"


def test_through_a_trusted_proxy_the_forwarded_address_is_the_client(
    rf: RequestFactory, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = [BALANCER]

    assert _ip(rf, BALANCER, "203.0.113.9") == "203.0.113.9"
    assert _ip(rf, BALANCER, " 203.0.113.9 ") == "203.0.113.9"
    assert _ip(rf, BALANCER) == BALANCER  # no header: the proxy itself asked


def test_a_chain_is_walked_from_the_right_past_trusted_proxies_only(
    rf: RequestFactory, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = [BALANCER, "10.0.0.0/8"]

    # The client wrote 198.51.100.1 itself; the balancers added 203.0.113.9 and 10.1.2.3.
    assert _ip(rf, BALANCER, "198.51.100.1, 203.0.113.9, 10.1.2.3") == "203.0.113.9"
    # A trusted network's address written by the client further left is not reached.
    assert _ip(rf, BALANCER, "10.9.9.9, 203.0.113.9") == "203.0.113.9"
    # Every hop trusted: the leftmost.
    assert _ip(rf, BALANCER, "10.0.0.5, 10.0.0.6") == "10.0.0.5"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("not-an-address", BALANCER),
        ("203.0.113.9, garbage", "203.0.113.9"),
        ("203.0.113.9, , 999.1.1.1", "203.0.113.9"),
        ("203.0.113.9:443", BALANCER),
        ("unknown, 203.0.113.9", "203.0.113.9"),
        ("203.0.113.9\x00, 198.51.100.2", "198.51.100.2"),
        (",,,", BALANCER),
        ("2" * 5000, BALANCER),
    ],
)
def test_entries_that_are_not_addresses_are_ignored(
    rf: RequestFactory, settings: Any, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXIES = [BALANCER]

    assert _ip(rf, BALANCER, forwarded) == expected


def test_ipv6_proxies_and_clients(rf: RequestFactory, settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["::1", "2001:db8:ffff::/48", BALANCER]

    assert _ip(rf, "::1", "2001:db8::7, 2001:db8:ffff::2") == "2001:db8::7"
    assert _ip(rf, "::1", "2001:0db8:0000::0007") == "2001:db8::7"  # written the short way
    assert _ip(rf, "2001:db8::9", "203.0.113.9") == "2001:db8::9"  # not trusted
    assert _ip(rf, "::ffff:127.0.0.1", "203.0.113.9") == "203.0.113.9"  # IPv4 written as IPv6
    assert _ip(rf, BALANCER, "::ffff:203.0.113.9") == "203.0.113.9"


@pytest.mark.django_db
def test_an_access_event_records_the_forwarded_client(rf: RequestFactory, settings: Any) -> None:
    settings.TRUSTED_PROXIES = [BALANCER]
    request = rf.get("/", REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="203.0.113.9")

    audited_read(request=request, actor=None, subject_type="client", subject_id="c-1", read=lambda: None)

    assert AccessEvent.objects.get().ip_address == "203.0.113.9"


@pytest.mark.django_db
def test_a_rate_limit_counts_each_client_behind_the_balancer_and_a_forged_header_changes_nothing(
    settings: Any,
) -> None:
    """The anonymous HSDS API limit per address (ADR 0030), one of the limits that use client_ip."""
    settings.TRUSTED_PROXIES = [BALANCER]
    settings.HSDS_API_LIMIT_PER_CLIENT = 2
    settings.HSDS_API_WINDOW_SECONDS = 3600
    behind = Client(REMOTE_ADDR=BALANCER)

    first = [behind.get("/api/hsds/", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code for _ in range(3)]
    second = behind.get("/api/hsds/", HTTP_X_FORWARDED_FOR="203.0.113.10").status_code
    direct = Client(REMOTE_ADDR="198.51.100.4")
    forged = [
        direct.get("/api/hsds/", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}").status_code
        for number in range(20, 23)
    ]

    assert first == [200, 200, 429]
    assert second == 200
    assert forged == [200, 200, 429]
