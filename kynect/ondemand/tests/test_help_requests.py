"""Help requests through the services and selectors: what is stored, deadlines, the confirmation,
duplicates, rate limits, cancelling, the routing hook and the secret link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kynect.accounts.models import ApiScope
from kynect.accounts.tokens import api_token_create
from kynect.core import codes
from kynect.core.models import RateLimitBucket
from kynect.notifications.models import OutboundMessage
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import HELP_REQUEST_LINK, Helper, HelpRequest
from kynect.ondemand.selectors import help_request_by_link, help_request_caller
from kynect.ondemand.services.help_requests import (
    DuplicateHelpRequestError,
    HelpRequestLimitError,
    help_request_cancel,
    help_request_submit,
)
from kynect.ondemand.tests.conftest import sending

pytestmark = pytest.mark.django_db

# Tuesday 24 November 2026, 10:00 Eastern: inside service hours.
OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
# The same Tuesday, 21:00 Eastern: after closing.
CLOSED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_CALLBACK_MINUTES = 30
    settings.ONDEMAND_WAITING_LIMIT_MINUTES = 240
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 3
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_API_KEY = 2
    settings.ONDEMAND_DUPLICATE_HOURS = 24
    settings.ONDEMAND_CONSENT_VERSION = "2026-1"
    settings.SITE_URL = "https://kynect.example"


def submit(**overrides: Any):
    values: dict[str, Any] = {
        "name": "  Maria   Lopez ",
        "phone": "(502) 555-0123",
        "email": "",
        "contact_method": HelpRequest.ContactMethod.TEXT,
        "language": "es",
        "zip_code": "40601",
        "program": "not_sure",
        "consent": True,
        "message_language": "es",
        "client_key": "203.0.113.7",
    }
    values.update(overrides)
    return help_request_submit(**values)


def test_a_request_is_stored_with_geography_consent_and_deadlines():
    with time_machine.travel(OPEN, tick=False), sending():
        submitted = submit()
    request = HelpRequest.objects.get()
    assert request.name == "Maria Lopez"
    assert request.phone == "+15025550123"
    assert (request.zip_code, request.city, request.county_fips) == ("40601", "Frankfort", "21073")
    assert request.time_zone == "America/New_York"
    assert request.latitude == pytest.approx(38.2, abs=0.2)
    assert request.consent_given_at == OPEN
    assert request.consent_version == "2026-1"
    assert request.status == HelpRequest.Status.PENDING
    assert request.outcome == ""
    assert request.submitted_at == request.clock_starts_at == OPEN
    assert request.sla_due_at == OPEN + timedelta(minutes=30)
    assert request.unserved_at == OPEN + timedelta(minutes=240)
    assert request.waiting_since == OPEN  # the routing hook recorded it as waiting
    assert request.source == HelpRequest.Source.WEB
    assert request.api_key is None
    assert request.accepted_helper is None
    # The secret is kept only as a keyed hash.
    assert submitted.token not in request.token_hash
    assert request.token_hash == HELP_REQUEST_LINK.hash(row_id=request.pk, secret=submitted.token)


def test_outside_hours_the_clock_starts_at_the_next_opening():
    with time_machine.travel(CLOSED, tick=False), sending():
        submit()
    request = HelpRequest.objects.get()
    opening = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # Wednesday 8:00 Eastern
    assert request.clock_starts_at == opening
    assert request.sla_due_at == opening + timedelta(minutes=30)
    assert request.unserved_at == opening + timedelta(minutes=240)


def test_the_confirmation_goes_by_text_in_the_requesters_language_with_working_links():
    with time_machine.travel(OPEN, tick=False), sending():
        submitted = submit()
    (sms,) = LocmemSmsBackend.outbox
    assert sms.to == "+15025550123"
    assert "Espere una llamada" in sms.body
    request = submitted.help_request
    status = f"https://kynect.example/es/ondemand/help/{request.pk}/{submitted.token}/"
    assert status in sms.body
    assert status + "cancel/" in sms.body
    assert not mail.outbox


def test_the_confirmation_goes_by_email_when_email_is_preferred():
    with time_machine.travel(CLOSED, tick=False), sending():
        submit(
            contact_method=HelpRequest.ContactMethod.EMAIL,
            email="maria@example.com",
            message_language="en",
            language="en",
        )
    (email,) = mail.outbox
    assert email.to == ["maria@example.com"]
    assert "we got your request" in email.subject
    assert "You asked outside our service hours" in email.body
    assert "Wednesday, Nov. 25, 2026, 8:30 a.m. (Eastern time)" in email.body
    assert "/ondemand/help/" in email.body
    assert "/es/" not in email.body
    assert not LocmemSmsBackend.outbox


def test_the_confirmation_shows_the_name_as_typed():
    with time_machine.travel(OPEN, tick=False), sending():
        submit(
            name="Seán O'Brien & Co",
            contact_method=HelpRequest.ContactMethod.EMAIL,
            email="sean@example.com",
            message_language="en",
        )
    (email,) = mail.outbox
    for body in (email.body, OutboundMessage.objects.get().body):
        assert body.startswith("Hello Seán O'Brien & Co,\n")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "555-0123"}, "phone", "Enter a 10-digit U.S. phone number"),
        ({"zip_code": "10001"}, "zip_code", "10001 is not a Kentucky ZIP code"),
        ({"zip_code": "4060"}, "zip_code", "Enter a 5-digit ZIP code"),
        ({"zip_code": "00000"}, "zip_code", "We could not find the ZIP code"),
        ({"contact_method": "email"}, "email", "you chose to be contacted by email"),
        ({"email": "not-an-email"}, "email", "Enter an email address"),
        ({"consent": False}, "consent", "agree to be contacted"),
        ({"name": "   "}, "name", "Enter your name"),
        ({"name": "Maria\x1b[2JLopez"}, "name", "hidden control or text-direction character"),
        (
            {"name": "Maria \N{RIGHT-TO-LEFT OVERRIDE}zepoL"},
            "name",
            "hidden control or text-direction character",
        ),
        ({"program": "dental"}, "program", "Choose what you need help with"),
        ({"language": "xx"}, "language", "Choose the language"),
        ({"contact_method": "pigeon"}, "contact_method", "Choose how you want to be contacted"),
    ],
)
def test_bad_input_is_named_by_field_and_changes_nothing(overrides, field, message):
    with pytest.raises(ValidationError) as raised, sending():
        submit(message_language="en", **overrides)
    assert message in " ".join(raised.value.message_dict[field])
    assert not HelpRequest.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert not RateLimitBucket.objects.exists()


def test_an_open_request_from_the_same_phone_is_a_duplicate():
    with time_machine.travel(OPEN, tick=False) as traveller, sending():
        first = submit().help_request
        with pytest.raises(DuplicateHelpRequestError) as raised:
            submit(phone="502-555-0123", client_key="198.51.100.1")
        assert raised.value.existing == first
        # Still Pending days later (waiting over a weekend): still a duplicate.
        traveller.shift(timedelta(days=3))
        with pytest.raises(DuplicateHelpRequestError):
            submit(client_key="198.51.100.2")
    assert HelpRequest.objects.count() == 1
    assert OutboundMessage.objects.count() == 1


def test_in_progress_counts_for_the_duplicate_window_only(registered_kynector: Helper):
    with time_machine.travel(OPEN, tick=False) as traveller, sending():
        first = submit().help_request
        HelpRequest.objects.filter(pk=first.pk).update(
            status=HelpRequest.Status.IN_PROGRESS,
            accepted_helper=registered_kynector,
            accepted_at=OPEN,
            route_at=None,
        )
        with pytest.raises(DuplicateHelpRequestError):
            submit()
        traveller.shift(timedelta(hours=25))
        second = submit().help_request
    assert second.pk != first.pk


def test_a_cancelled_request_does_not_block_a_new_one():
    with time_machine.travel(OPEN, tick=False), sending():
        first = submit()
        help_request_cancel(help_request=first.help_request)
        second = submit()
    assert second.help_request.status == HelpRequest.Status.PENDING


def test_the_database_allows_one_pending_request_per_phone():
    with time_machine.travel(OPEN, tick=False), sending():
        first = submit().help_request
    clone = HelpRequest.objects.get(pk=first.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpRequest.objects.create(
            **{f.name: getattr(clone, f.name) for f in HelpRequest._meta.concrete_fields if f.name != "id"}
        )


def test_the_client_rate_limit_counts_well_formed_attempts_duplicates_included():
    with time_machine.travel(OPEN, tick=False) as traveller, sending():
        submit(phone="5025550101")
        with pytest.raises(DuplicateHelpRequestError):
            submit(phone="5025550101")
        submit(phone="5025550102")
        with pytest.raises(HelpRequestLimitError) as raised:
            submit(phone="5025550103")
        assert raised.value.retry_after_seconds > 0
        submit(phone="5025550104", client_key="198.51.100.9")  # another client is not limited
        traveller.shift(timedelta(hours=1))
        submit(phone="5025550105")
    assert HelpRequest.objects.count() == 4


def test_api_keys_are_limited_unless_exempt():
    intake = [ApiScope.ONDEMAND_INTAKE]
    limited, _key = api_token_create(client="Call centre", scopes=intake)
    trusted, _key = api_token_create(client="kynect.ky.gov", scopes=intake, rate_limited=False)
    with time_machine.travel(OPEN, tick=False), sending():
        submit(phone="5025550101", api_key=limited)
        submit(phone="5025550102", api_key=limited)
        with pytest.raises(HelpRequestLimitError):
            submit(phone="5025550103", api_key=limited)
        for n in range(4):
            submit(phone=f"50255502{n:02d}", api_key=trusted)
    assert HelpRequest.objects.filter(source=HelpRequest.Source.API, api_key=trusted).count() == 4


def test_cancel_only_a_pending_request(registered_kynector: Helper):
    with time_machine.travel(OPEN, tick=False), sending():
        request = submit().help_request
        cancelled = help_request_cancel(help_request=request)
        assert cancelled.status == HelpRequest.Status.CANCELLED
        assert cancelled.closed_at == OPEN
        with pytest.raises(ValidationError, match="already cancelled"):
            help_request_cancel(help_request=request)
        other = submit(phone="5025550199").help_request
        HelpRequest.objects.filter(pk=other.pk).update(
            status=HelpRequest.Status.IN_PROGRESS,
            accepted_helper=registered_kynector,
            accepted_at=OPEN,
            route_at=None,
        )
        with pytest.raises(ValidationError, match="no longer be cancelled"):
            help_request_cancel(help_request=other)
    assert HelpRequest.objects.get(pk=other.pk).status == HelpRequest.Status.IN_PROGRESS


def test_the_secret_link_opens_only_its_own_request():
    with time_machine.travel(OPEN, tick=False), sending():
        first = submit()
        second = submit(phone="5025550199")
    assert (
        help_request_by_link(request_id=str(first.help_request.pk), token=first.token) == first.help_request
    )
    assert help_request_by_link(request_id=str(first.help_request.pk), token=second.token) is None
    assert help_request_by_link(request_id=str(first.help_request.pk), token=first.token[:-1]) is None
    assert help_request_by_link(request_id=str(second.help_request.pk), token="") is None


def test_the_caller_is_the_accepted_helpers_preferred_contact(registered_kynector: Helper):
    registered_kynector.user.first_name, registered_kynector.user.last_name = "Kim", "Nguyen"
    registered_kynector.user.save()
    with time_machine.travel(OPEN, tick=False), sending():
        request = submit().help_request
    assert help_request_caller(help_request=request) is None
    HelpRequest.objects.filter(pk=request.pk).update(
        status=HelpRequest.Status.IN_PROGRESS,
        accepted_helper=registered_kynector,
        accepted_at=OPEN,
        route_at=None,
    )
    request.refresh_from_db()
    caller = help_request_caller(help_request=request)
    assert caller is not None
    assert caller.name == "Kim N."
    assert caller.phone == "(502) 555-0142"


def test_a_request_that_loses_the_race_for_the_pending_slot_is_a_duplicate():
    from unittest import mock

    with time_machine.travel(OPEN, tick=False), sending():
        first = submit().help_request
        # The check ran before the first request committed: the unique constraint catches it.
        with (
            mock.patch(
                "kynect.ondemand.services.help_requests.help_request_open_for_phone",
                side_effect=[None, first],
            ),
            pytest.raises(DuplicateHelpRequestError) as raised,
        ):
            submit(client_key="198.51.100.3")
    assert raised.value.existing == first
    assert HelpRequest.objects.count() == 1
    assert OutboundMessage.objects.count() == 1


def test_the_outbox_never_stores_the_secret_link():
    with time_machine.travel(OPEN, tick=False), sending():
        submitted = submit()
    stored = OutboundMessage.objects.get()
    assert submitted.token not in stored.body
    assert "/hidden-until-sent/cancel/" in stored.body
    assert stored.status == OutboundMessage.Status.SENT
    assert submitted.token in LocmemSmsBackend.outbox[-1].body
    request = HelpRequest.objects.get()
    assert request.confirmation_message_id == stored.pk
    assert submitted.token not in request.link_key


def test_cancelling_wipes_the_link_key_and_withdraws_an_unsent_confirmation():
    from kynect.notifications.delivery import messages_deliver

    with time_machine.travel(OPEN, tick=False):
        submitted = submit()  # not committed in this test: the confirmation is still waiting to send
        help_request_cancel(help_request=submitted.help_request)
        request = HelpRequest.objects.get()
        assert request.link_key == ""
        message_id = str(request.confirmation_message_id)
        assert messages_deliver(message_ids=[message_id]) == {message_id: OutboundMessage.Status.FAILED}
    assert not LocmemSmsBackend.outbox
    # The link still opens the (cancelled) request: it is checked against the hash.
    assert help_request_by_link(request_id=str(request.pk), token=submitted.token) == request


def test_link_secrets_are_compared_in_constant_time():
    from unittest import mock

    from django.utils.crypto import constant_time_compare

    with time_machine.travel(OPEN, tick=False), sending():
        submitted = submit()
    with mock.patch.object(codes, "constant_time_compare", wraps=constant_time_compare) as compare:
        assert help_request_by_link(request_id=str(submitted.help_request.pk), token="guess") is None
    assert compare.call_count == 1
