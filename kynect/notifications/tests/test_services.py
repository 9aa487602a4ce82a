"""The outbox: written in the caller's transaction, delivered once, retried with backoff, swept."""

from __future__ import annotations

import copy
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from smtplib import SMTPException
from typing import Any
from unittest.mock import patch

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from kynect.core import clock, sweeper
from kynect.notifications.delivery import messages_deliver, messages_send
from kynect.notifications.models import OutboundMessage, SmsOptOut
from kynect.notifications.services import (
    email_queue,
    inbound_sms_handle,
    outbox_sweep,
    sms_is_opted_out,
    sms_opt_in,
    sms_opt_out,
    sms_queue,
)
from kynect.notifications.sms import LocmemSmsBackend, SmsDeliveryError

pytestmark = pytest.mark.django_db

TEST_TEMPLATES = Path(__file__).resolve().parent / "templates"
PHONE = "+15025550123"
T0 = datetime(2026, 3, 2, 15, 0, 10, tzinfo=UTC)


def deliver(message_id: str) -> str:
    """Send one message now, as the worker's sender would; its status afterwards."""
    return messages_deliver(message_ids=[message_id])[message_id]


@pytest.fixture(autouse=True)
def _test_templates(settings):
    """Make notifications/test/hello.* (in this folder) available to the template loader."""
    templates: list[dict[str, Any]] = copy.deepcopy(django_settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], TEST_TEMPLATES]
    settings.TEMPLATES = templates


def queue_sms(to: str = PHONE, name: str = "Ana", language: str | None = None) -> OutboundMessage:
    return sms_queue(to=to, template="test/hello", context={"name": name}, language=language)


def queue_email(
    to: str = "ana@example.org", name: str = "Ana", language: str | None = None
) -> OutboundMessage:
    return email_queue(to=to, template="test/hello", context={"name": name}, language=language)


def reload(message: OutboundMessage) -> OutboundMessage:
    message.refresh_from_db()
    return message


# --- Written in the same transaction, sent after commit ------------------------------------------


def test_messages_wait_for_the_commit_then_are_sent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            email = queue_email()
            sms = queue_sms(to="(502) 555-0123")
            rows = OutboundMessage.objects.filter(pk__in=[email.pk, sms.pk])
            assert set(rows.values_list("status", flat=True)) == {OutboundMessage.Status.PENDING}
        # Committed, but the on-commit callbacks have not run yet: nothing has gone out.
        assert mail.outbox == []
        assert LocmemSmsBackend.outbox == []
        assert set(rows.values_list("status", flat=True)) == {OutboundMessage.Status.PENDING}
    assert len(callbacks) == 2

    assert len(mail.outbox) == 1
    sent_email = mail.outbox[0]
    assert sent_email.to == ["ana@example.org"]
    assert sent_email.subject == "A message for Ana [en]"
    assert "Hello Ana [en]" in sent_email.body
    assert sent_email.extra_headers["X-Kynect-Message-Id"] == str(email.pk)

    assert len(LocmemSmsBackend.outbox) == 1
    sent_sms = LocmemSmsBackend.outbox[0]
    assert sent_sms.to == PHONE
    assert sent_sms.body == "Hello Ana [en]"
    assert sent_sms.from_number == django_settings.SMS_FROM_NUMBER

    email, sms = reload(email), reload(sms)
    for message in (email, sms):
        assert message.status == OutboundMessage.Status.SENT
        assert message.sent_at is not None
        assert message.attempts == 1
        assert message.next_attempt_at is None
        assert message.last_error == ""
    assert email.provider_message_id == str(email.pk)
    assert sms.provider_message_id == "locmem-1"


def test_a_rolled_back_transaction_leaves_no_message_and_sends_nothing(django_capture_on_commit_callbacks):
    def change_that_fails() -> None:
        with transaction.atomic():
            queue_email()
            queue_sms()
            assert OutboundMessage.objects.count() == 2
            raise RuntimeError("the change that caused the messages failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        change_that_fails()
    assert callbacks == []
    assert not OutboundMessage.objects.exists()
    assert mail.outbox == []
    assert LocmemSmsBackend.outbox == []


def test_the_queued_row_holds_the_rendered_message():
    message = queue_sms(to="502-555-0123", name="Ana & Bob <Smith>")
    assert message.channel == OutboundMessage.Channel.SMS
    assert message.recipient == PHONE
    assert message.template == "test/hello"
    assert message.subject == ""
    assert message.body == "Hello Ana & Bob <Smith> [en]"  # plain text: not HTML-escaped
    assert message.status == OutboundMessage.Status.PENDING
    assert message.next_attempt_at is not None
    assert message.attempts == 0


def test_an_email_subject_is_one_line():
    message = queue_email(name="Ana")
    assert message.subject == "A message for Ana [en]"


def test_an_sms_to_a_number_that_is_not_a_us_phone_is_refused():
    with pytest.raises(ValidationError):
        queue_sms(to="+44 20 7183 8750")
    assert not OutboundMessage.objects.exists()


# --- The recipient's language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "es"), ("en", "en"), ("es-MX", "es"), ("ES", "es"), ("fr", "en"), ("", "en"), (None, "en")],
)
def test_messages_are_rendered_in_the_recipients_language(language, expected):
    email = queue_email(language=language)
    sms = queue_sms(language=language)
    for message in (email, sms):
        assert message.language == expected
        assert f"[{expected}]" in message.body
    assert email.subject == f"A message for Ana [{expected}]"


def test_spanish_rendering_does_not_change_the_active_language():
    with translation.override("en"):
        queue_email(language="es")
        assert translation.get_language() == "en"


def test_a_spanish_message_is_sent_as_rendered(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue_email(language="es")
        queue_sms(language="es")
    assert "[es]" in mail.outbox[0].body
    assert mail.outbox[0].subject.endswith("[es]")
    assert LocmemSmsBackend.outbox[0].body.endswith("[es]")


# --- Delivery: once only ----------------------------------------------------------------------------


def test_delivering_a_sent_message_again_sends_nothing():
    message = queue_sms()
    assert deliver(str(message.pk)) == OutboundMessage.Status.SENT
    assert deliver(str(message.pk)) == OutboundMessage.Status.SENT
    assert len(LocmemSmsBackend.outbox) == 1
    assert reload(message).attempts == 1


def test_two_deliveries_of_the_same_email_send_it_once():
    message = queue_email()
    results = [deliver(str(message.pk)) for _ in range(2)]
    assert results == [OutboundMessage.Status.SENT, OutboundMessage.Status.SENT]
    assert len(mail.outbox) == 1


def test_a_message_claimed_by_another_worker_is_not_sent_again():
    message = queue_sms()
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=OutboundMessage.Status.SENDING, claimed_at=clock.now()
    )
    assert deliver(str(message.pk)) == OutboundMessage.Status.SENDING
    assert LocmemSmsBackend.outbox == []


def test_a_message_not_yet_due_is_not_sent(time_machine):
    time_machine.move_to(T0, tick=False)
    message = queue_sms()
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=T0 + timedelta(seconds=30))
    assert deliver(str(message.pk)) == OutboundMessage.Status.PENDING
    assert LocmemSmsBackend.outbox == []
    assert reload(message).attempts == 0


def test_delivering_a_missing_message_reports_it():
    assert deliver(str(uuid.uuid4())) == "missing"


# --- Retries ----------------------------------------------------------------------------------------


def test_a_failed_send_goes_back_to_pending_with_backoff_and_no_personal_data(time_machine):
    time_machine.move_to(T0, tick=False)
    message = queue_sms(to="(502) 555-0123")
    error = SmsDeliveryError("Provider refused +15025550123, (502) 555-0123, for ana@example.org")
    with patch("kynect.notifications.sms.LocmemSmsBackend.send", side_effect=error) as send:
        status = deliver(str(message.pk))
    assert send.call_count == 1
    assert status == OutboundMessage.Status.PENDING

    message = reload(message)
    assert message.status == OutboundMessage.Status.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at == T0 + timedelta(seconds=30)
    assert message.next_attempt_at > clock.now()
    assert message.sent_at is None
    assert message.last_error.startswith("SmsDeliveryError")
    for personal in ("+15025550123", "5025550123", "555-0123", "ana@example.org"):
        assert personal not in message.last_error
    assert LocmemSmsBackend.outbox == []


def test_a_failed_email_keeps_the_address_out_of_the_error(time_machine):
    time_machine.move_to(T0, tick=False)
    message = queue_email(to="ana.lopez@example.org")
    with patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=SMTPException("550 mailbox ana.lopez@example.org unavailable"),
    ):
        assert deliver(str(message.pk)) == OutboundMessage.Status.PENDING
    message = reload(message)
    assert message.last_error.startswith("SMTPException")
    assert "ana.lopez" not in message.last_error
    assert mail.outbox == []


def test_retries_back_off_exponentially_then_fail_for_good(time_machine):
    time_machine.move_to(T0, tick=False)
    message = queue_sms()
    max_attempts = django_settings.OUTBOX_MAX_ATTEMPTS
    assert max_attempts > 1
    delays = []
    with patch(
        "kynect.notifications.sms.LocmemSmsBackend.send", side_effect=SmsDeliveryError("boom")
    ) as send:
        for attempt in range(1, max_attempts):
            assert deliver(str(message.pk)) == OutboundMessage.Status.PENDING
            message = reload(message)
            assert message.attempts == attempt
            assert message.next_attempt_at is not None
            delay = message.next_attempt_at - clock.now()
            delays.append(delay)
            # Not due yet: a delivery now claims nothing and sends nothing.
            assert deliver(str(message.pk)) == OutboundMessage.Status.PENDING
            assert send.call_count == attempt
            time_machine.shift(delay)
        assert deliver(str(message.pk)) == OutboundMessage.Status.FAILED
        assert send.call_count == max_attempts

    assert delays[0] == timedelta(seconds=30)
    for earlier, later in itertools.pairwise(delays):
        assert later == min(earlier * 2, timedelta(hours=1))
    message = reload(message)
    assert message.status == OutboundMessage.Status.FAILED
    assert message.attempts == max_attempts
    assert message.next_attempt_at is None
    assert message.last_error == "SmsDeliveryError: boom"

    # A failed message is not tried again.
    time_machine.shift(timedelta(days=1))
    assert deliver(str(message.pk)) == OutboundMessage.Status.FAILED
    assert LocmemSmsBackend.outbox == []


def test_a_retry_that_succeeds_is_sent_and_clears_the_error(time_machine):
    time_machine.move_to(T0, tick=False)
    message = queue_sms()
    with patch("kynect.notifications.sms.LocmemSmsBackend.send", side_effect=SmsDeliveryError("down")):
        deliver(str(message.pk))
    time_machine.shift(timedelta(seconds=30))
    assert deliver(str(message.pk)) == OutboundMessage.Status.SENT
    message = reload(message)
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    assert message.sent_at == T0 + timedelta(seconds=30)
    assert len(LocmemSmsBackend.outbox) == 1


# --- The sweep ----------------------------------------------------------------------------------------


def test_the_outbox_sweep_is_registered():
    assert sweeper.handlers()["notifications.outbox"] is outbox_sweep


def test_the_sender_finds_a_committed_message_by_itself():
    message = queue_sms()  # its on-commit send never runs: the test's transaction never commits
    assert reload(message).status == OutboundMessage.Status.PENDING
    assert messages_send(channel=OutboundMessage.Channel.SMS, limit=10).statuses == {
        str(message.pk): OutboundMessage.Status.SENT
    }
    assert reload(message).status == OutboundMessage.Status.SENT
    assert len(LocmemSmsBackend.outbox) == 1


def test_the_sender_sends_a_retry_once_it_is_due(time_machine):
    time_machine.move_to(T0, tick=False)
    message = queue_sms()
    with patch("kynect.notifications.sms.LocmemSmsBackend.send", side_effect=SmsDeliveryError("down")):
        deliver(str(message.pk))

    assert messages_send(channel=OutboundMessage.Channel.SMS, limit=10).statuses == {}  # backing off
    assert reload(message).status == OutboundMessage.Status.PENDING

    time_machine.shift(timedelta(seconds=31))
    assert messages_send(channel=OutboundMessage.Channel.SMS, limit=10).statuses == {
        str(message.pk): OutboundMessage.Status.SENT
    }
    assert len(LocmemSmsBackend.outbox) == 1


def test_the_sweep_releases_stale_claims_but_not_fresh_ones(time_machine):
    time_machine.move_to(T0, tick=False)
    common = {
        "channel": OutboundMessage.Channel.SMS,
        "recipient": PHONE,
        "template": "test/hello",
        "status": OutboundMessage.Status.SENDING,
        "attempts": 1,
    }
    stale = OutboundMessage.objects.create(body="stale", claimed_at=clock.now(), **common)
    time_machine.shift(timedelta(minutes=4))
    fresh = OutboundMessage.objects.create(body="fresh", claimed_at=clock.now(), **common)
    time_machine.shift(timedelta(minutes=2))  # the stale claim is 6 minutes old, the fresh one 2

    assert outbox_sweep(now=clock.now()) == 1
    stale = reload(stale)
    assert stale.status == OutboundMessage.Status.PENDING
    assert stale.next_attempt_at == clock.now()
    fresh_before = fresh.claimed_at
    fresh = reload(fresh)
    assert fresh.status == OutboundMessage.Status.SENDING
    assert fresh.claimed_at == fresh_before

    # The released message is due again: the next batch sends it, and only it.
    messages_send(channel=OutboundMessage.Channel.SMS, limit=10)
    stale = reload(stale)
    assert stale.status == OutboundMessage.Status.SENT
    assert stale.attempts == 2
    assert [sms.body for sms in LocmemSmsBackend.outbox] == ["stale"]


def test_the_sweep_and_the_sender_ignore_sent_failed_and_suppressed_messages():
    for status in (
        OutboundMessage.Status.SENT,
        OutboundMessage.Status.FAILED,
        OutboundMessage.Status.SUPPRESSED,
    ):
        OutboundMessage.objects.create(
            channel=OutboundMessage.Channel.SMS,
            recipient=PHONE,
            template="test/hello",
            body=status,
            status=status,
        )
    assert outbox_sweep(now=clock.now() + timedelta(days=1)) == 0
    assert messages_send(channel=OutboundMessage.Channel.SMS, limit=10).statuses == {}
    assert LocmemSmsBackend.outbox == []


# --- SMS opt-out -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", "stop", "Stop please", "PARAR", "  unsubscribe  ", "Cancel"])
def test_a_stop_reply_suppresses_later_texts(body, django_capture_on_commit_callbacks):
    assert inbound_sms_handle(from_number="(502) 555-0123", body=body) == "opted_out"
    assert sms_is_opted_out(phone=PHONE)

    with django_capture_on_commit_callbacks(execute=True):
        sms = queue_sms(to="+15025550123")
        email = queue_email()
    assert reload(sms).status == OutboundMessage.Status.SUPPRESSED
    assert reload(sms).next_attempt_at is None
    assert LocmemSmsBackend.outbox == []
    # Email is a different channel: the opt-out does not touch it.
    assert reload(email).status == OutboundMessage.Status.SENT
    assert len(mail.outbox) == 1


def test_an_opt_out_received_after_queuing_still_suppresses_the_text():
    sms = queue_sms()
    inbound_sms_handle(from_number=PHONE, body="STOP")
    assert deliver(str(sms.pk)) == OutboundMessage.Status.SUPPRESSED
    assert LocmemSmsBackend.outbox == []


def test_other_numbers_still_get_texts_after_an_opt_out(django_capture_on_commit_callbacks):
    inbound_sms_handle(from_number=PHONE, body="STOP")
    with django_capture_on_commit_callbacks(execute=True):
        other = queue_sms(to="(859) 288-2338")
    assert reload(other).status == OutboundMessage.Status.SENT
    assert [sms.to for sms in LocmemSmsBackend.outbox] == ["+18592882338"]


@pytest.mark.parametrize("body", ["START", "start", "Yes", "INICIAR", "unstop"])
def test_a_start_reply_lets_texts_through_again(body, django_capture_on_commit_callbacks):
    inbound_sms_handle(from_number=PHONE, body="STOP")
    assert inbound_sms_handle(from_number="502.555.0123", body=body) == "opted_in"
    assert not sms_is_opted_out(phone=PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        sms = queue_sms(to="(502) 555-0123")
    assert reload(sms).status == OutboundMessage.Status.SENT
    assert len(LocmemSmsBackend.outbox) == 1


@pytest.mark.parametrize("body", ["Hello", "", "   ", "please stop", "stopping by later"])
def test_other_replies_change_nothing(body):
    assert inbound_sms_handle(from_number=PHONE, body=body) == "ignored"
    assert not SmsOptOut.objects.exists()


@pytest.mark.parametrize("variant", ["(502) 555-0123", "502-555-0123", "15025550123", "+1 502 555 0123"])
def test_phone_numbers_are_normalised_for_the_opt_out_list(variant):
    sms_opt_out(phone=variant)
    assert list(SmsOptOut.objects.values_list("phone", flat=True)) == [PHONE]
    assert sms_is_opted_out(phone="+15025550123")
    assert sms_is_opted_out(phone="(502) 555-0123")
    sms_opt_in(phone="+15025550123")
    assert not SmsOptOut.objects.exists()


def test_opting_out_twice_keeps_one_entry_with_the_first_date(time_machine):
    time_machine.move_to(T0, tick=False)
    sms_opt_out(phone=PHONE)
    time_machine.shift(timedelta(days=3))
    inbound_sms_handle(from_number="(502) 555-0123", body="STOP")
    opt_out = SmsOptOut.objects.get()
    assert opt_out.opted_out_at == T0
    assert opt_out.source == "inbound_sms"


def test_a_reply_from_a_number_that_is_not_a_us_phone_is_refused():
    with pytest.raises(ValidationError):
        inbound_sms_handle(from_number="+44 20 7183 8750", body="STOP")
    assert not SmsOptOut.objects.exists()


def test_messages_queued_together_are_each_rendered_and_sent(django_capture_on_commit_callbacks):
    from kynect.notifications.models import OutboundMessage
    from kynect.notifications.services import MessageSpec, messages_queue
    from kynect.notifications.sms import LocmemSmsBackend

    context = {"name": "Ana", "call_centre": "1-855-000-0000"}
    specs = [
        MessageSpec("sms", "(502) 555-0101", "ondemand/help_request_unserved", context, "en"),
        MessageSpec("sms", "(502) 555-0102", "ondemand/help_request_unserved", context, "es"),
        MessageSpec(
            "sms", "(502) 555-0103", "ondemand/help_request_unserved", {**context, "call_centre": "211"}, "en"
        ),
    ]
    LocmemSmsBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        rows = messages_queue(specs)
    assert [row.recipient for row in rows] == ["+15025550101", "+15025550102", "+15025550103"]
    assert "call centre at 1-855-000-0000" in rows[0].body
    assert "centro de llamadas de kynect al 1-855-000-0000" in rows[1].body
    assert "call centre at 211" in rows[2].body
    assert set(
        OutboundMessage.objects.filter(pk__in=[r.pk for r in rows]).values_list("status", flat=True)
    ) == {"sent"}
    assert len(LocmemSmsBackend.outbox) == 3
