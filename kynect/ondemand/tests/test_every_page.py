"""Every kynect On Demand URL, enumerated from the URL configuration so that a new page cannot be missed:
a GET of any of them (a link opened by a person or prefetched by a mail scanner) changes nothing, and a
helper sees only their own requests, offers and links."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, reverse

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.notifications.models import OutboundMessage
from kynect.ondemand import urls as ondemand_urls
from kynect.ondemand.models import OFFER_LINK as OFFER_LINK_SECRETS
from kynect.ondemand.models import HelpRequest, Offer, TimeOff
from kynect.ondemand.services import offers, verification
from kynect.ondemand.services.help_requests import help_request_submit
from kynect.ondemand.tests.conftest import sending
from kynect.ondemand.tests.factories import ready_helper

pytestmark = pytest.mark.django_db

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
PATTERNS: list[URLPattern] = [p for p in ondemand_urls.urlpatterns if isinstance(p, URLPattern)]
# Pages anyone may open: the resident's request form and its secret-link pages, and the offer link's pages
# (guarded by their secret).
PUBLIC = {"help", "help_sent", "help_status", "help_cancel"}
OFFER_LINK = re.compile(r"^offer(_|$)")


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 100


@pytest.fixture
def world() -> dict[str, Any]:
    """Two helpers of two agencies. The owner holds an In Progress request (accepted from a link, with
    its passcode verified), a pending offer of another request and a time off; the other holds nothing."""
    with time_machine.travel(OPEN, tick=False), sending():
        owner = ready_helper(home=(38.2, -84.87))
        other = ready_helper(counties=("21111",))
        MembershipFactory.create(user=owner.user, role=Role.KYNECTOR, organization=owner.organization)
        MembershipFactory.create(user=other.user, role=Role.KYNECTOR, organization=other.organization)
        submitted = help_request_submit(
            name="Maria Lopez",
            phone="(502) 555-0123",
            email="maria@example.org",
            contact_method="phone",
            language="en",
            zip_code="40601",
            program="not_sure",
            consent=True,
            message_language="en",
            client_key="203.0.113.7",
        )
        offers.help_request_route(help_request_id=submitted.help_request.pk)
        offer = Offer.objects.get(help_request=submitted.help_request)
        offer_token = OFFER_LINK_SECRETS.derive(row_id=offer.pk, key=offer.link_key)
        offers.offer_accept(offer_id=offer.pk, helper=owner, via=Offer.Via.LINK)
        passcode = offer.passcodes.get()
        verification.offer_passcode_verify(offer_id=offer.pk, code=passcode.code_derive())
        time_off = TimeOff.objects.create(helper=owner, starts_at=OPEN, ends_at=OPEN.replace(year=2027))
    return {
        "owner": owner,
        "other": other,
        "request": submitted.help_request,
        "request_token": submitted.token,
        "offer": offer,
        "offer_token": offer_token,
        "time_off": time_off,
        "membership": owner.user.memberships.get(role=Role.KYNECTOR),
    }


def url_for(pattern: URLPattern, world: dict[str, Any], *, token: str | None = None) -> str:
    kwargs: dict[str, Any] = {}
    for name in pattern.pattern.converters:
        if name == "offer_id":
            kwargs[name] = world["offer"].pk
        elif name in ("help_request_id", "request_id"):
            kwargs[name] = world["request"].pk
        elif name == "token":
            if token is not None:
                kwargs[name] = token
            else:
                kwargs[name] = (
                    world["offer_token"] if OFFER_LINK.match(pattern.name or "") else world["request_token"]
                )
        elif name == "time_off_id":
            kwargs[name] = world["time_off"].pk
        elif name == "membership_id":
            kwargs[name] = world["membership"].pk
        else:
            raise AssertionError(f"The test does not know how to fill {name!r} in {pattern.name}: teach it")
    return reverse(f"ondemand:{pattern.name}", kwargs=kwargs)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the On Demand tables and the outbox (the audit log and sessions may grow on a view)."""
    models: list[type[Model]] = [*apps.get_app_config("ondemand").get_models(), OutboundMessage]
    return {
        model._meta.label: sorted(
            tuple(str(value) for value in row) for row in model._default_manager.values_list()
        )
        for model in models
    }


def test_the_url_configuration_has_the_pages_this_test_expects():
    names = {pattern.name for pattern in PATTERNS}
    assert {"referrals", "referral", "offer", "offer_details", "oversight", "oversight_dashboard"} <= names
    assert len(PATTERNS) >= 30


def test_a_get_of_any_on_demand_url_changes_nothing(world):
    owner_client, other_client = Client(), Client()
    before = snapshot()
    statuses: dict[str, set[int]] = {}
    with time_machine.travel(OPEN, tick=False):  # sessions idle out: sign in at the test's time
        owner_client.force_login(world["owner"].user)
        other_client.force_login(world["other"].user)
        assert owner_client.get(reverse("ondemand:referrals")).status_code == 200
        for pattern in PATTERNS:
            url = url_for(pattern, world)
            for client in (Client(), owner_client, other_client):
                statuses.setdefault(pattern.name or "", set()).add(client.get(url).status_code)
    assert snapshot() == before
    assert all(codes <= {200, 302, 303, 403, 404, 405} for codes in statuses.values()), statuses


def test_signed_in_pages_send_anonymous_visitors_to_sign_in(world):
    anonymous = Client()
    for pattern in PATTERNS:
        if pattern.name in PUBLIC or OFFER_LINK.match(pattern.name or ""):
            continue
        response = anonymous.get(url_for(pattern, world))
        assert response.status_code in (302, 403, 404, 405), pattern.name
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"], pattern.name


def test_a_helper_never_sees_or_acts_on_another_helpers_request(world):
    other = Client()
    name_or_phone = re.compile(r"Maria|555-0123|5025550123|maria@example")
    before = HelpRequest.objects.get(pk=world["request"].pk).status
    assert before == HelpRequest.Status.IN_PROGRESS
    with time_machine.travel(OPEN, tick=False):
        other.force_login(world["other"].user)
        assert other.get(reverse("ondemand:referrals")).status_code == 200
        for pattern in PATTERNS:
            if pattern.name in PUBLIC:
                continue
            url = url_for(pattern, world)
            if OFFER_LINK.match(pattern.name or ""):
                # The offer link is a secret: without it (a wrong token), nothing at all.
                url = url_for(pattern, world, token="x" * 43)
                for client in (Client(), other):
                    assert client.get(url).status_code in (404, 405), pattern.name
                    assert client.post(url).status_code in (404, 405), pattern.name
                continue
            for method in (other.get, other.post):
                response = method(url)
                body = response.content.decode(errors="replace")
                assert not name_or_phone.search(body), (pattern.name, method.__name__)
    request = HelpRequest.objects.get(pk=world["request"].pk)
    assert request.status == before
    assert request.accepted_helper_id == world["owner"].pk
    assert not request.call_attempts.exists()


def test_the_owner_sees_the_customer_details_and_each_view_is_audited(world):
    from kynect.core.models import AccessEvent

    owner = Client()
    with time_machine.travel(OPEN, tick=False):
        owner.force_login(world["owner"].user)
        response = owner.get(reverse("ondemand:referral", kwargs={"help_request_id": world["request"].pk}))
    assert response.status_code == 200
    assert "Maria Lopez" in response.content.decode()
    assert AccessEvent.objects.filter(subject_id=str(world["request"].pk)).exists()
