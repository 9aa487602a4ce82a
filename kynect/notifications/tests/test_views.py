"""The inbound SMS webhook: STOP and START replies, authenticated by the provider's signature."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from django.test import Client

from kynect.core.tests.digits import ARABIC_INDIC, written_in
from kynect.notifications.models import SmsOptOut
from kynect.notifications.services import sms_is_opted_out, sms_opt_out

pytestmark = pytest.mark.django_db

URL = "/notifications/sms/inbound/"
SECRET = "webhook-test-secret"


@pytest.fixture(autouse=True)
def _inbound_secret(settings):
    settings.SMS_INBOUND_SECRET = SECRET


@pytest.fixture
def client() -> Client:
    # A provider's webhook has no CSRF token: check with CSRF enforced, as a browser would be.
    return Client(enforce_csrf_checks=True)


def sign(body: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def post(client: Client, fields: dict[str, str], signature: str | None = "good"):
    body = urlencode(fields)
    headers = {}
    if signature == "good":
        headers["X-Kynect-Signature"] = sign(body)
    elif signature is not None:
        headers["X-Kynect-Signature"] = signature
    return client.post(URL, data=body, content_type="application/x-www-form-urlencoded", headers=headers)


def test_a_stop_from_a_number_in_other_digits_opts_out_the_same_number(client):
    assert post(client, {"From": written_in(ARABIC_INDIC, "+15025550188"), "Body": "STOP"}).status_code == 200
    assert list(SmsOptOut.objects.values_list("phone", flat=True)) == ["+15025550188"]
    assert sms_is_opted_out(phone="(502) 555-0188")


def test_the_webhook_url():
    from django.urls import reverse

    assert reverse("inbound_sms") == URL


@pytest.mark.parametrize("body", ["STOP", "stop", "Stop please", "PARAR"])
def test_a_signed_stop_reply_opts_the_number_out(client, body):
    response = post(client, {"From": "+15025550123", "Body": body, "To": "+15025550100"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().startswith("<?xml")
    assert "<Response></Response>" in response.content.decode()
    assert list(SmsOptOut.objects.values_list("phone", "source")) == [("+15025550123", "inbound_sms")]


def test_a_signed_start_reply_opts_the_number_back_in(client):
    sms_opt_out(phone="+15025550123")
    response = post(client, {"From": "(502) 555-0123", "Body": "START"})
    assert response.status_code == 200
    assert not sms_is_opted_out(phone="+15025550123")


def test_any_other_signed_reply_is_accepted_and_changes_nothing(client):
    response = post(client, {"From": "+15025550123", "Body": "Thanks!"})
    assert response.status_code == 200
    assert not SmsOptOut.objects.exists()


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "not-a-signature",
        "0" * 64,
        hmac.new(b"wrong-secret", b"From=%2B15025550123&Body=STOP", hashlib.sha256).hexdigest(),
    ],
)
def test_a_bad_or_missing_signature_is_refused(client, signature):
    response = post(client, {"From": "+15025550123", "Body": "STOP"}, signature=signature)
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_a_signature_for_another_body_is_refused(client):
    signature = sign(urlencode({"From": "+15025550123", "Body": "START"}))
    response = post(client, {"From": "+15025550123", "Body": "STOP"}, signature=signature)
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_without_a_configured_secret_every_request_is_refused(client, settings):
    settings.SMS_INBOUND_SECRET = ""
    body = urlencode({"From": "+15025550123", "Body": "STOP"})
    response = client.post(
        URL,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Kynect-Signature": sign(body, "")},
    )
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


@pytest.mark.parametrize(
    "fields", [{"Body": "STOP"}, {"From": "+15025550123"}, {"From": "", "Body": "STOP"}, {}]
)
def test_a_reply_without_from_or_body_is_refused(client, fields):
    response = post(client, fields)
    assert response.status_code == 400
    assert not SmsOptOut.objects.exists()


@pytest.mark.parametrize("from_number", ["+442071838750", "12345", "not a number"])
def test_a_reply_from_a_number_that_is_not_a_us_phone_is_refused(client, from_number):
    response = post(client, {"From": from_number, "Body": "STOP"})
    assert response.status_code == 400
    assert not SmsOptOut.objects.exists()


def test_get_is_not_allowed(client):
    response = client.get(URL, {"From": "+15025550123", "Body": "STOP"})
    assert response.status_code == 405
    assert not SmsOptOut.objects.exists()


def test_the_webhook_has_no_language_prefix(client):
    response = client.post("/es" + URL, data={"From": "+15025550123", "Body": "STOP"})
    assert response.status_code == 404
    assert not SmsOptOut.objects.exists()
