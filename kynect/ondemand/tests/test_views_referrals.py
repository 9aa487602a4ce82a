"""The helpers' referral pages through HTTP: the offer link's Manage Referral page (whose GET changes
nothing), the One Time Passcode, Customer Details (audited, open 5 minutes), the desktop Referral
Manager, call logging, tap-to-call and Complete, and that a helper reaches only their own referrals."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.test import Client

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.core.models import AccessEvent
from kynect.core.tests.digits import ARABIC_INDIC, written_in
from kynect.notifications.services import sms_opt_out
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import CallAttempt, Helper, HelpRequest, Offer
from kynect.ondemand.services import offers as offer_services
from kynect.ondemand.services.help_requests import help_request_submit
from kynect.ondemand.tests.conftest import sending
from kynect.ondemand.tests.factories import ready_helper

pytestmark = pytest.mark.django_db

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 Eastern: inside service hours
AUDIT_SUBJECT = "ondemand.helprequest"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ONDEMAND_SERVICE_HOURS = "mon=08:00-20:00,tue=08:00-20:00,wed=08:00-20:00"
    settings.ONDEMAND_SERVICE_HOURS_TIME_ZONE = "America/New_York"
    settings.ONDEMAND_HELP_REQUEST_LIMIT_PER_CLIENT = 100
    settings.SITE_URL = "https://kynect.example"


@pytest.fixture
def traveller():
    with time_machine.travel(OPEN, tick=False) as moving:
        yield moving


def helper_with_login(**kwargs: Any) -> Helper:
    """A registered helper whose account has the kynector role (so the On Demand pages are theirs)."""
    helper = ready_helper(**kwargs)
    MembershipFactory.create(user=helper.user, role=Role.KYNECTOR, organization=helper.organization)
    return helper


def signed_in(helper: Helper) -> Client:
    client = Client()
    client.force_login(helper.user)
    return client


def submit(**overrides: Any) -> HelpRequest:
    values: dict[str, Any] = {
        "name": "Maria Lopez",
        "phone": "(502) 555-0123",
        "email": "maria@example.org",
        "contact_method": HelpRequest.ContactMethod.PHONE,
        "language": "en",
        "zip_code": "40601",
        "program": "not_sure",
        "consent": True,
        "message_language": "en",
        "client_key": "203.0.113.7",
    }
    values.update(overrides)
    with sending():
        return help_request_submit(**values).help_request


def offer_path(helper: Helper) -> str:
    """The path of the offer link in the helper's last offer text message."""
    body = next(
        m.body for m in reversed(LocmemSmsBackend.outbox) if m.to == helper.phone and "/offer/" in m.body
    )
    match = re.search(r"https://kynect\.example(/\S+/offer/[0-9a-f-]{36}/[\w-]+/)", body)
    assert match, body
    return match.group(1)


def last_passcode(helper: Helper) -> str:
    body = [m.body for m in LocmemSmsBackend.outbox if m.to == helper.phone][-1]
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def database_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed  # an unmanaged table may exist on one database only
    }


def audits(request: HelpRequest) -> int:
    return AccessEvent.objects.filter(subject_type=AUDIT_SUBJECT, subject_id=str(request.pk)).count()


def assert_secret_headers(response: Any) -> None:
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"  # the address never leaves the site


def accepted_by_link(client: Client, helper: Helper, **overrides: Any) -> tuple[HelpRequest, str]:
    """A request offered to `helper`, accepted from the link and its passcode entered in `client`."""
    request = submit(**overrides)
    path = offer_path(helper)
    with sending():
        client.post(path + "accept/")
    response = client.post(path + "passcode/", {"code": last_passcode(helper)})
    assert response.status_code == 302
    assert response["Location"] == path + "details/"
    return request, path


# --- The offer link ---------------------------------------------------------------------------------


def test_opening_the_offer_link_changes_nothing_and_shows_no_personal_data(traveller):
    helper = helper_with_login()
    submit()
    path = offer_path(helper)
    before = database_rows()
    response = Client().get(path)
    assert response.status_code == 200
    assert database_rows() == before
    assert_secret_headers(response)
    text = response.content.decode()
    assert "Manage Referral" in text
    assert "40601" in text
    assert "Frankfort" in text
    assert "15 minutes" in text
    assert "General referral" in text
    assert "Maria" not in text
    assert "555-0123" not in text
    assert 'action="' + path + 'accept/"' in text
    assert 'action="' + path + 'reject/"' in text


def test_a_bad_token_or_unknown_offer_is_a_plain_404(traveller):
    helper = helper_with_login()
    submit()
    path = offer_path(helper)
    offer_id = path.split("/")[-3]
    bad = path.replace(path.split("/")[-2], "x" * 43)
    unknown = path.replace(offer_id, "00000000-0000-4000-8000-000000000000")
    client = Client()
    responses = [
        client.get(bad),
        client.get(unknown),
        client.post(bad + "accept/"),
        client.get(bad + "details/"),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    # The same page either way (but for the address it names and the form keys).
    pages = [
        re.sub(r'value="[^"]*"', "", r.content.decode().replace(address, ""))
        for r, address in ((responses[0], bad), (responses[1], unknown))
    ]
    assert pages[0] == pages[1]
    assert Offer.objects.get().status == Offer.Status.PENDING


def test_link_accept_passcode_then_customer_details_audited(traveller):
    helper = helper_with_login()
    request = submit()
    path = offer_path(helper)
    client = Client()
    with sending():
        response = client.post(path + "accept/")
    assert response.status_code == 302
    assert response["Location"] == path + "passcode/"
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.IN_PROGRESS

    page = client.get(path + "passcode/")
    assert page.status_code == 200
    assert_secret_headers(page)
    assert helper.phone[-4:] in page.content.decode()
    assert "Maria" not in page.content.decode()

    code = last_passcode(helper)
    wrong = client.post(path + "passcode/", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "That passcode is wrong. 4 tries left." in wrong.content.decode()
    assert 'href="#id_code"' in wrong.content.decode()
    short = client.post(path + "passcode/", {"code": "12"})
    assert "Enter the 6-digit passcode from the text message." in short.content.decode()
    assert audits(request) == 0

    response = client.post(path + "passcode/", {"code": code})
    assert response["Location"] == path + "details/"
    details = client.get(path + "details/")
    assert details.status_code == 200
    assert_secret_headers(details)
    text = details.content.decode()
    assert "Customer Details" in text
    assert "Maria Lopez" in text
    assert "(502) 555-0123" in text
    assert "maria@example.org" in text
    assert "Phone call" in text
    event = AccessEvent.objects.get(subject_type=AUDIT_SUBJECT, subject_id=str(request.pk))
    assert event.actor == helper.user
    assert "Maria" not in event.detail
    client.get(path + "details/")
    assert audits(request) == 2

    # The Manage Referral page now links to them.
    assert path + "details/" in client.get(path).content.decode()


def test_accept_pressed_twice_goes_to_the_passcode_and_no_texts_means_the_desktop(traveller):
    helper = helper_with_login()
    submit()
    path = offer_path(helper)
    with sending():
        Client().post(path + "accept/")
    assert Client().post(path + "accept/")["Location"] == path + "passcode/"

    other = helper_with_login(counties=("21111",))
    submit(phone="(502) 555-0198", zip_code="40202")
    other_path = offer_path(other)
    sms_opt_out(phone=other.phone)
    refused = Client().post(other_path + "accept/")
    assert refused.status_code == 409
    assert "Accept this referral from the Referral Manager on a computer instead." in refused.content.decode()
    assert Offer.objects.get(helper=other).status == Offer.Status.PENDING


def test_a_second_tap_that_loses_the_race_to_the_first_goes_to_the_passcode_too(traveller, monkeypatch):
    helper = helper_with_login()
    request = submit()
    path = offer_path(helper)
    real_accept = offer_services.offer_accept

    def first_tap_wins_meanwhile(**kwargs: Any) -> Offer:
        # This tap read the offer as pending; the first tap's accept commits before this one's starts.
        with sending():
            real_accept(**kwargs)
        return real_accept(**kwargs)

    monkeypatch.setattr(offer_services, "offer_accept", first_tap_wins_meanwhile)
    response = Client().post(path + "accept/")
    assert response.status_code == 302
    assert response["Location"] == path + "passcode/"
    request.refresh_from_db()
    assert request.accepted_helper == helper


def test_a_link_tap_after_a_desktop_accept_says_it_was_accepted(traveller):
    helper = helper_with_login()
    request = submit()
    path = offer_path(helper)
    with sending():
        signed_in(helper).post(f"/ondemand/referrals/offers/{Offer.objects.get(helper=helper).pk}/accept/")
    response = Client().post(path + "accept/")
    text = response.content.decode()
    assert "You already accepted this referral." in text
    assert "You accepted this referral." in text
    assert "closed" not in text.lower()
    request.refresh_from_db()
    assert request.accepted_helper == helper


def test_customer_details_expire_after_five_minutes_and_resend_opens_them_again(traveller):
    helper = helper_with_login()
    client = Client()
    request, path = accepted_by_link(client, helper)
    traveller.shift(timedelta(minutes=4, seconds=59))
    assert "Maria Lopez" in client.get(path + "details/").content.decode()
    traveller.shift(timedelta(seconds=2))
    expired = client.get(path + "details/")
    text = expired.content.decode()
    assert "This page expired" in text
    assert "Maria" not in text
    assert 'action="' + path + 'resend/"' in text
    assert_secret_headers(expired)
    events = audits(request)
    # An action on expired details is refused.
    refused = client.post(path + "details/call/", {"result": "reached"})
    assert refused["Location"] == path + "details/"
    assert not CallAttempt.objects.exists()

    with sending():
        response = client.post(path + "resend/")
    assert response["Location"] == path + "passcode/"
    assert "We sent a new passcode" in client.get(path + "passcode/").content.decode()
    with sending():
        client.post(path + "resend/")
    assert (
        "We just sent a passcode. You can ask for a new one in"
        in client.get(path + "passcode/").content.decode()
    )
    client.post(path + "passcode/", {"code": last_passcode(helper)})
    assert "Maria Lopez" in client.get(path + "details/").content.decode()
    assert audits(request) == events + 1


def test_customer_details_open_only_in_the_browser_that_entered_the_passcode(traveller):
    helper = helper_with_login()
    request, path = accepted_by_link(Client(), helper)
    other = Client().get(path + "details/")
    assert "Maria" not in other.content.decode()
    assert "This page expired" in other.content.decode()
    assert audits(request) == 0


def test_passcode_locked_and_expired_messages(traveller):
    helper = helper_with_login()
    submit()
    path = offer_path(helper)
    client = Client()
    with sending():
        client.post(path + "accept/")
    code = last_passcode(helper)
    bad = "000000" if code != "000000" else "111111"
    for _ in range(4):
        client.post(path + "passcode/", {"code": bad})
    locked = client.post(path + "passcode/", {"code": bad})
    assert "that was the last try for it. Press Resend" in locked.content.decode()
    traveller.shift(timedelta(seconds=31))
    with sending():
        client.post(path + "resend/")
    traveller.shift(timedelta(minutes=5, seconds=1))
    expired = client.post(path + "passcode/", {"code": last_passcode(helper)})
    assert "This passcode expired. Press Resend for a new one." in expired.content.decode()


def test_a_late_passcode_says_the_referral_went_elsewhere(traveller):
    helper = helper_with_login()
    submit()
    path = offer_path(helper)
    client = Client()
    with sending():
        client.post(path + "accept/")
    code = last_passcode(helper)
    traveller.shift(timedelta(minutes=10, seconds=1))
    late = client.post(path + "passcode/", {"code": code})
    assert late["Location"] == path
    assert "You did not enter the passcode in time" in client.get(path).content.decode()


def test_link_reject_and_closed_offers_say_why(traveller):
    first = helper_with_login(home=(38.2, -84.87))
    second = helper_with_login(home=(37.9, -84.87))
    submit()
    path = offer_path(first)
    client = Client()
    with sending():
        response = client.post(path + "reject/")
    assert response["Location"] == path
    assert "You rejected this referral." in client.get(path).content.decode()
    again = client.post(path + "accept/")
    assert again.status_code == 409
    assert "You already rejected this referral." in again.content.decode()
    assert_secret_headers(again)

    # The Mass round went to the second helper; the request is taken on the desktop meanwhile...
    second_path = offer_path(second)
    mass = Offer.objects.get(helper=second)
    with sending():
        signed_in(second).post(f"/ondemand/referrals/offers/{mass.pk}/accept/")
    assert "You accepted this referral." in client.get(second_path).content.decode()


def test_a_taken_or_expired_offer_cannot_be_accepted_from_the_link(traveller, settings):
    settings.ONDEMAND_MASS_SIZE = 2
    first = helper_with_login(home=(38.2, -84.87))
    second = helper_with_login(home=(37.9, -84.87))
    third = helper_with_login(home=(37.8, -84.87))
    submit()
    with sending():
        routing_reject = Client().post(offer_path(first) + "reject/")
    assert routing_reject.status_code == 302
    with sending():
        Client().post(offer_path(second) + "accept/")
    taken = Client().post(offer_path(third) + "accept/")
    assert taken.status_code == 409
    assert "This referral was already taken by another helper." in taken.content.decode()

    fourth = helper_with_login(home=(38.2, -84.87), counties=("21111",))
    submit(phone="(502) 555-0199", zip_code="40202")
    path = offer_path(fourth)
    traveller.shift(timedelta(minutes=15, seconds=1))
    assert "This referral offer expired." in Client().get(path).content.decode()
    late = Client().post(path + "accept/")
    assert late.status_code == 409
    assert "This referral offer expired." in late.content.decode()


def test_working_the_request_from_the_phone(traveller):
    helper = helper_with_login()
    client = Client()
    request, path = accepted_by_link(client, helper)
    text = client.get(path + "details/").content.decode()
    assert 'action="' + path + 'details/dial/"' in text
    assert 'href="tel:+15025550123" data-ondemand-dial="dial-form"' in text
    dial_form = re.search(r"<form[^>]*details/dial/.*?</form>", text, re.DOTALL)
    assert dial_form
    assert "csrfmiddlewaretoken" in dial_form.group(0)

    dialled = client.post(path + "details/dial/")
    assert dialled.status_code == 302
    assert dialled["Location"] == "tel:+15025550123"
    logged = client.post(path + "details/call/", {"result": "reached", "note": "Call back Friday"})
    assert logged["Location"] == path + "details/"
    completed = client.post(path + "details/complete/", {"outcome": "applied"})
    assert completed["Location"] == path + "details/"
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.COMPLETE
    assert request.outcome == HelpRequest.Outcome.APPLIED
    assert [a.result for a in CallAttempt.objects.order_by("at", "created_at")] == ["dialled", "reached"]
    final = client.get(path + "details/").content.decode()
    assert "Call back Friday" in final
    assert "Log the call" not in final


def test_a_number_typed_in_other_digits_is_shown_and_dialled_in_ascii(traveller):
    helper = helper_with_login()
    client = Client()
    request, path = accepted_by_link(client, helper, phone=written_in(ARABIC_INDIC, "(502) 555-0101"))
    assert request.phone == "+15025550101"
    text = client.get(path + "details/").content.decode()
    assert "(502) 555-0101" in text
    assert 'href="tel:+15025550101"' in text
    assert client.post(path + "details/dial/")["Location"] == "tel:+15025550101"


# --- The Referral Manager (desktop) ------------------------------------------------------------------


def test_the_portal_links_to_the_referral_manager(traveller):
    helper = helper_with_login()
    response = signed_in(helper).get("/ondemand/")
    assert 'href="/ondemand/referrals/"' in response.content.decode()


def test_the_referral_manager_needs_a_helper(traveller):
    assert Client().get("/ondemand/referrals/")["Location"].startswith("/accounts/login/")
    stranger = MembershipFactory.create(role=Role.PARTNER_USER).user
    client = Client()
    client.force_login(stranger)
    assert client.get("/ondemand/referrals/").status_code == 404


def test_the_referral_manager_shows_only_the_helpers_own_offers_and_accepts_on_the_desktop(
    traveller, django_assert_max_num_queries
):
    mine = helper_with_login(home=(38.2, -84.87))
    other = helper_with_login(counties=("21111",))
    request = submit()
    submit(phone="(502) 555-0177", zip_code="40202", name="Other Person")
    client = signed_in(mine)
    with django_assert_max_num_queries(12):
        page = client.get("/ondemand/referrals/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "Quick Updates Dashboard" in text
    assert "Referral Manager" in text
    assert "40601" in text
    assert "40202" not in text
    assert "Maria" not in text
    assert "15 minutes" in text

    others_offer = Offer.objects.get(helper=other)
    assert client.post(f"/ondemand/referrals/offers/{others_offer.pk}/accept/").status_code == 404
    assert client.post(f"/ondemand/referrals/offers/{others_offer.pk}/reject/").status_code == 404

    offer = Offer.objects.get(helper=mine)
    with sending():
        response = client.post(f"/ondemand/referrals/offers/{offer.pk}/accept/")
    assert response["Location"] == f"/ondemand/referrals/{request.pk}/"
    assert "You accepted the referral" in client.get(response["Location"]).content.decode()
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.IN_PROGRESS
    assert Offer.objects.get(pk=offer.pk).accepted_via == Offer.Via.DESKTOP
    text = client.get("/ondemand/referrals/").content.decode()
    assert f"/ondemand/referrals/{request.pk}/" in text
    assert "No new referrals for you right now." in text

    detail = client.get(f"/ondemand/referrals/{request.pk}/")
    assert detail.status_code == 200
    assert "no-store" in detail["Cache-Control"]
    assert "Maria Lopez" in detail.content.decode()
    assert audits(request) == 2
    assert {event.actor for event in AccessEvent.objects.filter(subject_type=AUDIT_SUBJECT)} == {mine.user}

    # Another helper: not found, and nothing is audited.
    other_client = signed_in(other)
    assert other_client.get(f"/ondemand/referrals/{request.pk}/").status_code == 404
    assert (
        other_client.post(f"/ondemand/referrals/{request.pk}/call/", {"result": "reached"}).status_code == 404
    )
    assert (
        other_client.post(f"/ondemand/referrals/{request.pk}/complete/", {"outcome": "applied"}).status_code
        == 404
    )
    assert audits(request) == 2
    assert not CallAttempt.objects.exists()


def test_desktop_reject_moves_the_referral_on(traveller):
    first = helper_with_login(home=(38.2, -84.87))
    helper_with_login(home=(37.9, -84.87))
    request = submit()
    offer = Offer.objects.get(helper=first)
    client = signed_in(first)
    with sending():
        response = client.post(f"/ondemand/referrals/offers/{offer.pk}/reject/")
    assert response["Location"] == "/ondemand/referrals/"
    assert "You rejected the referral." in client.get("/ondemand/referrals/").content.decode()
    assert Offer.objects.get(pk=offer.pk).status == Offer.Status.REJECTED
    assert Offer.objects.filter(help_request=request, kind=Offer.Kind.MASS).count() == 1
    again = client.post(f"/ondemand/referrals/offers/{offer.pk}/accept/")
    assert again["Location"] == "/ondemand/referrals/"
    assert "You already rejected this referral." in client.get("/ondemand/referrals/").content.decode()


def test_call_logging_tap_to_call_and_complete_on_the_desktop(traveller):
    helper = helper_with_login()
    request = submit()
    client = signed_in(helper)
    with sending():
        client.post(f"/ondemand/referrals/offers/{Offer.objects.get().pk}/accept/")
    base = f"/ondemand/referrals/{request.pk}/"

    # Complete needs a logged call first (unless the resident could not be reached).
    early = client.post(base + "complete/", {"outcome": "applied"})
    assert early.status_code == 400
    assert "Log your call to the resident first" in early.content.decode()
    missing = client.post(base + "call/", {"note": "x"})
    assert missing.status_code == 400
    assert "Choose what happened on the call." in missing.content.decode()

    with_script = client.post(base + "dial/", HTTP_ACCEPT="application/json")
    answer = json.loads(with_script.content)
    assert answer["logged"] is True
    assert "Call logged at" in answer["message"]
    without_script = client.post(base + "dial/")
    assert without_script.status_code == 302
    assert without_script["Location"] == "tel:+15025550123"
    request.refresh_from_db()
    assert request.first_contact_at == OPEN

    traveller.shift(timedelta(minutes=3))
    logged = client.post(base + "call/", {"result": "no_answer", "note": "Try again at noon"})
    assert logged["Location"] == base
    text = client.get(base).content.decode()
    assert "Your call is logged." in text
    assert "Try again at noon" in text
    assert "Dialled from kynect" in text

    done = client.post(base + "complete/", {"outcome": "unable_to_reach"})
    assert done["Location"] == base
    request.refresh_from_db()
    assert request.status == HelpRequest.Status.COMPLETE
    text = client.get(base).content.decode()
    assert "The referral is Complete." in text
    assert "usa-step-indicator__segment--current" not in text
    refused = client.post(base + "call/", {"result": "reached"})
    assert refused["Location"] == base
    assert "This request is Complete: it cannot be changed." in client.get(base).content.decode()
    closed = client.get("/ondemand/referrals/").content.decode()
    assert "Recently closed" in closed
    assert "Unable to reach" in closed


def test_a_link_accept_waits_for_the_passcode_on_the_desktop_too(traveller):
    helper = helper_with_login()
    request = submit()
    with sending():
        Client().post(offer_path(helper) + "accept/")
    client = signed_in(helper)
    assert "enter the One Time Passcode on that page" in client.get("/ondemand/referrals/").content.decode()
    page = client.get(f"/ondemand/referrals/{request.pk}/")
    assert "Enter your One Time Passcode first" in page.content.decode()
    assert "Maria" not in page.content.decode()
    assert audits(request) == 0
    client.post(f"/ondemand/referrals/{request.pk}/dial/")
    assert not CallAttempt.objects.exists()


def test_spanish_pages(traveller):
    helper = helper_with_login()
    submit()
    path = offer_path(helper)
    spanish = "/es" + path
    text = Client().get(spanish).content.decode()
    assert 'lang="es"' in text
    assert "Aceptar" in text


def test_a_helper_the_state_administrator_deregisters_cannot_accept_their_offer_nor_see_the_resident(
    traveller,
):
    helper = ready_helper(role=Helper.Role.AGENCY_ADMIN, home=(38.2, -84.87))
    membership = MembershipFactory.create(
        user=helper.user, role=Role.AGENCY_ADMIN, organization=helper.organization
    )
    next_helper = helper_with_login(home=(37.9, -84.87))
    request = submit()
    offer = Offer.objects.get(help_request=request)
    assert (offer.helper, offer.kind) == (helper, Offer.Kind.GENERAL)
    state = Client()
    state.force_login(MembershipFactory.create(role=Role.STATE_ADMIN, organization=None).user)
    with sending():
        response = state.post(f"/ondemand/helpers/{membership.pk}/active/")  # no "active": not active
    assert response.status_code == 302
    helper.refresh_from_db()
    assert helper.status == Helper.Status.DEREGISTERED
    offer.refresh_from_db()
    assert offer.status == Offer.Status.RESCINDED
    assert Offer.objects.get(help_request=request, status=Offer.Status.PENDING).helper == next_helper

    client = signed_in(helper)
    response = client.post(f"/ondemand/referrals/offers/{offer.pk}/accept/", follow=True)
    assert "You are not registered for kynect On Demand" in response.content.decode()
    request.refresh_from_db()
    assert (request.status, request.accepted_helper) == (HelpRequest.Status.PENDING, None)
    detail = client.get(f"/ondemand/referrals/{request.pk}/")
    assert detail.status_code == 404
    assert "Maria Lopez" not in detail.content.decode()
    assert audits(request) == 0
    # The offer's link says why too, and its Accept is refused the same way.
    link = offer_path(helper)
    assert "You are not registered for kynect On Demand" in Client().get(link).content.decode()
    refused = Client().post(link + "accept/")
    assert refused.status_code == 409
    assert "You are not registered for kynect On Demand" in refused.content.decode()
    request.refresh_from_db()
    assert request.accepted_helper is None


def test_the_audit_of_customer_details_by_link_keeps_no_secret(traveller):
    helper = helper_with_login()
    client = Client()
    request, path = accepted_by_link(client, helper)
    assert client.get(path + "details/").status_code == 200
    secret = path.rstrip("/").rsplit("/", 1)[-1]
    [event] = AccessEvent.objects.filter(subject_type=AUDIT_SUBJECT, subject_id=str(request.pk))
    assert secret not in event.path
    assert event.path == path.replace(secret, "[secret]") + "details/"
