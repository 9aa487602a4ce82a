"""The referral pages: Connect and the create page, the Inbox and Outbox, a referral's page with its
actions, notes and the closing form, for each kind of user, in English and Spanish."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.accounts.tokens import api_token_create
from kynect.core.models import AccessEvent
from kynect.directory.search import search_index_update
from kynect.notifications.models import OutboundMessage
from kynect.referrals.access import Action
from kynect.referrals.models import NOTE_MAX_LENGTH, Referral, ReferralEvent, ReferralNote
from kynect.referrals.services import Closure, referral_act
from kynect.referrals.tests.factories import Partner, member, partner, referral, resident_input
from kynect.residents.models import Consent, Resident
from kynect.residents.services import resident_find_or_create

pytestmark = pytest.mark.django_db


def listed(the_partner: Partner) -> Partner:
    search_index_update(service_ids=[the_partner.service.pk])
    return the_partner


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_url(service_id: Any, **extra: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in {"service": service_id, **extra}.items())
    return f"{reverse('referrals:new')}?{query}"


def resident_post(service_id: Any, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": str(service_id),
        "first_name": "Ana",
        "last_name": "Reyes",
        "birth_date": "1990-05-17",
        "mobile_phone": "(502) 555-0199",
        "email": "ana@example.org",
        "preferred_contact_method": "text",
        "preferred_language": "es",
        "postal_code": "40601",
        "client_id": "",
        "gender": "",
        "need": "food",
        "note": "Needs groceries this week.",
        "urgency": "routine",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


# --- Connect and the create page ---------------------------------------------------------------------


def test_connect_on_the_service_page_leads_a_partner_to_the_referral_form_and_others_to_contact():
    receiver = listed(partner())
    sender = partner()
    page = reverse("directory:service_detail", kwargs={"service_id": receiver.service.pk})
    create = new_url(receiver.service.pk)
    assert create in signed_in(sender.user).get(page).content.decode()
    anonymous = Client().get(page).content.decode()
    assert create not in anonymous
    assert 'href="#connect"' in anonymous
    assert "/accounts/login/?next=/referrals/new/%3Fservice%3D" in anonymous
    helper = member(None, Role.INSURANCE_AGENT)
    assert create not in signed_in(helper).get(page).content.decode()


def test_connect_on_search_results_leads_a_partner_to_the_referral_form():
    receiver = listed(partner())
    sender = partner()
    results = signed_in(sender.user).get(reverse("directory:search"), {"q": receiver.service.name})
    assert (
        new_url(receiver.service.pk).replace("&", "&amp;") in results.content.decode()
        or new_url(receiver.service.pk) in results.content.decode()
    )
    anonymous = Client().get(reverse("directory:search"), {"q": receiver.service.name}).content.decode()
    assert reverse("referrals:new") not in anonymous


def test_an_anonymous_visitor_sees_the_contact_options_and_a_sign_in_link():
    receiver = listed(partner())
    url = new_url(receiver.service.pk)
    response = Client().get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Contact this service directly" in body
    assert reverse("accounts:login") + "?next=" in body
    assert 'name="need"' not in body
    posted = Client().post(url, resident_post(receiver.service.pk))
    assert posted.status_code == 302
    assert reverse("accounts:login") in posted["Location"]
    assert not Referral.objects.exists()


def test_a_role_that_cannot_refer_sees_contact_options_and_may_not_post():
    receiver = listed(partner())
    agent = signed_in(member(None, Role.INSURANCE_AGENT))
    url = new_url(receiver.service.pk)
    page = agent.get(url)
    assert page.status_code == 200
    assert "Contact this service directly" in page.content.decode()
    assert 'name="need"' not in page.content.decode()
    assert agent.post(url, resident_post(receiver.service.pk)).status_code == 403
    assert not Referral.objects.exists()


def test_an_unknown_service_is_not_found():
    client = signed_in(partner().user)
    assert client.get(new_url("not-a-uuid")).status_code == 404
    assert client.get(new_url("00000000-0000-0000-0000-000000000001")).status_code == 404


def test_a_partner_refers_a_new_resident_with_pre_consent():
    receiver, sender = listed(partner()), partner()
    client = signed_in(sender.user)
    page = client.get(new_url(receiver.service.pk))
    body = page.content.decode()
    assert page.status_code == 200
    assert receiver.service.organization.name in body  # the pre-consent names the receiving organization
    assert body.count('<option value="') >= 18
    response = client.post(
        new_url(receiver.service.pk), resident_post(receiver.service.pk, pre_consent="on", urgency="urgent")
    )
    made = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:detail", kwargs={"referral_id": made.pk})
    assert made.urgency == "urgent"
    assert made.sending_organization == sender.organization
    consent = Consent.objects.get(resident=made.resident, organization=receiver.organization)
    assert (consent.status, consent.channel) == ("active", "pre_consent")
    assert OutboundMessage.objects.filter(recipient=receiver.user.email).exists()
    detail = client.get(response["Location"]).content.decode()
    assert "Your referral was sent." in detail
    assert "already has a record" not in detail


def test_a_matched_resident_gets_the_referral_and_the_sender_sees_only_what_they_typed():
    receiver, sender, other = listed(partner()), partner(), partner()
    existing, _ = resident_find_or_create(
        data=resident_input(email="private@example.org", mobile_phone="(502) 555-0111"),
        actor=other.user,
        organization=other.organization,
    )
    client = signed_in(sender.user)
    response = client.post(
        new_url(receiver.service.pk),
        resident_post(
            receiver.service.pk,
            first_name="ANA",
            email="typed@example.org",
            mobile_phone="",
            preferred_contact_method="email",
        ),
        follow=True,
    )
    body = response.content.decode()
    assert Referral.objects.get().resident == existing
    assert Resident.objects.count() == 1
    assert "This resident already has a record; the referral was added to it." in body
    assert "typed@example.org" in body
    assert "private@example.org" not in body
    assert "5550111" not in body
    assert "555-0111" not in body


def test_what_the_sender_typed_is_kept_with_the_referral_and_the_record_stays_hidden_from_them():
    """Matched by client ID, under another name: the sender sees their own words in every later session,
    in the Outbox and on the referral; the receiver sees the record; the record cannot be picked by id."""
    receiver, sender, other = listed(partner()), partner(), partner()
    existing, _ = resident_find_or_create(
        data=resident_input(
            first_name="Rosa", client_id="KY-77", email="private@example.org", mobile_phone="(502) 555-0111"
        ),
        actor=other.user,
        organization=other.organization,
    )
    signed_in(sender.user).post(
        new_url(receiver.service.pk),
        resident_post(receiver.service.pk, client_id="KY-77", first_name="Rosie", email="typed@example.org"),
    )
    made = Referral.objects.get()
    assert made.resident == existing
    assert made.resident_as_typed["first_name"] == "Rosie"

    later = signed_in(sender.user)  # a new session
    page = later.get(reverse("referrals:detail", args=[made.pk])).content.decode()
    outbox = later.get(reverse("referrals:outbox")).content.decode()
    for body in (page, outbox):
        assert "Rosie" in body
        assert "Rosa" not in body
        assert "private@example.org" not in body
    assert "typed@example.org" in page
    assert "As you typed it" in page
    assert later.get(new_url(receiver.service.pk, resident=str(existing.pk))).status_code == 404

    received = signed_in(receiver.user).get(reverse("referrals:detail", args=[made.pk])).content.decode()
    assert "Rosa" in received
    assert "As you typed it" not in received


def test_a_referral_to_an_organization_not_onboarded_is_flagged_to_the_sender():
    receiver, sender = listed(partner(onboarded=False)), partner()
    response = signed_in(sender.user).post(
        new_url(receiver.service.pk), resident_post(receiver.service.pk), follow=True
    )
    assert Referral.objects.get().receiver_onboarded is False
    assert "a United Way referral specialist will follow up" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_date": "2990-01-01"}, "birth_date", "Enter a real date of birth"),
        ({"birth_date": "1990-02-31"}, "birth_date", "Enter a real date of birth"),
        ({"need": "spaceflight"}, "need", "Choose the need this referral is for."),
        ({"need": ""}, "need", "Choose the need this referral is for."),
        ({"note": "x" * 1_000_000}, "note", str(NOTE_MAX_LENGTH)),
        (
            {"service": "00000000-0000-0000-0000-000000000001"},
            "service",
            "This service is not in the directory.",
        ),
        (
            {"mobile_phone": "", "email": ""},
            "mobile_phone",
            "Enter a mobile phone number or an email address.",
        ),
        ({"urgency": "whenever"}, "urgency", "Select a valid choice"),
    ],
)
def test_bad_input_is_a_clear_form_error_and_nothing_is_saved(changes, field, message):
    receiver, sender = listed(partner()), partner()
    response = signed_in(sender.user).post(
        new_url(receiver.service.pk), resident_post(receiver.service.pk, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Referral.objects.exists()
    assert not Resident.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_a_partner_refers_an_existing_resident_from_their_record():
    receiver, sender = listed(partner()), partner()
    first = referral(sender, receiver)
    client = signed_in(sender.user)
    url = new_url(receiver.service.pk, resident=str(first.resident_id))
    page = client.get(url)
    assert "This referral is for Ana Reyes." in page.content.decode()
    assert AccessEvent.objects.filter(subject_id=str(first.resident_id), detail="making a referral").exists()
    response = client.post(
        url, {"service": str(receiver.service.pk), "need": "housing", "urgency": "routine"}
    )
    assert response.status_code == 302
    assert Referral.objects.filter(resident=first.resident, need="housing").exists()
    # A resident the organization has nothing to do with is not found.
    stranger, _ = resident_find_or_create(
        data=resident_input(first_name="Bo", client_id="X1"), actor=receiver.user, organization=None
    )
    assert client.get(new_url(receiver.service.pk, resident=str(stranger.pk))).status_code == 404


def test_a_signed_in_resident_refers_themselves():
    receiver = listed(partner())
    user = member(None, Role.RESIDENT)
    resident, _ = resident_find_or_create(data=resident_input(), actor=user, organization=None)
    Resident.objects.filter(pk=resident.pk).update(user=user)
    client = signed_in(user)
    assert "This referral is for you." in client.get(new_url(receiver.service.pk)).content.decode()
    response = client.post(
        new_url(receiver.service.pk),
        {"service": str(receiver.service.pk), "need": "food", "urgency": "routine"},
    )
    assert response.status_code == 302
    made = Referral.objects.get()
    assert (made.resident, made.sending_organization) == (resident, None)


def test_a_signed_in_resident_without_a_record_completes_their_profile_and_it_is_linked_to_them():
    receiver = listed(partner())
    user = member(None, Role.RESIDENT)
    client = signed_in(user)
    page = client.get(new_url(receiver.service.pk)).content.decode()
    assert "Complete your profile" in page
    assert f'value="{user.email}"' in page  # the account's contact, filled in
    response = client.post(
        new_url(receiver.service.pk), resident_post(receiver.service.pk, first_name="Lena", email=user.email)
    )
    assert response.status_code == 302, response.content.decode()
    made = Referral.objects.get()
    assert made.sending_organization is None
    assert made.resident.user == user
    assert made.resident.first_name == "Lena"
    # Their next referral uses the same record, without the form.
    assert "This referral is for you." in client.get(new_url(receiver.service.pk)).content.decode()
    again = {"service": str(receiver.service.pk), "need": "housing", "urgency": "routine"}
    assert client.post(new_url(receiver.service.pk), again).status_code == 302
    assert Resident.objects.count() == 1
    assert Referral.objects.filter(resident=made.resident).count() == 2
    assert "Lena" in client.get(reverse("referrals:detail", args=[made.pk])).content.decode()


def test_a_member_of_two_organizations_chooses_which_one_refers():
    receiver, sender, second = listed(partner()), partner(), partner()
    MembershipFactory.create(user=sender.user, organization=second.organization, role=Role.PARTNER_USER)
    client = signed_in(sender.user)
    page = client.get(new_url(receiver.service.pk)).content.decode()
    assert 'name="organization"' in page
    assert second.organization.name in page
    missing = client.post(new_url(receiver.service.pk), resident_post(receiver.service.pk))
    assert missing.status_code == 400
    assert not Referral.objects.exists()
    response = client.post(
        new_url(receiver.service.pk),
        resident_post(receiver.service.pk, organization=str(second.organization.pk)),
    )
    assert response.status_code == 302
    assert Referral.objects.get().sending_organization == second.organization


# --- Inbox and Outbox --------------------------------------------------------------------------------


def test_the_boxes_need_sign_in_and_an_organization_role():
    assert Client().get(reverse("referrals:inbox"))["Location"].startswith(reverse("accounts:login"))
    assert signed_in(member(None, Role.RESIDENT)).get(reverse("referrals:inbox")).status_code == 403
    assert signed_in(member(None, Role.INSURANCE_AGENT)).get(reverse("referrals:outbox")).status_code == 403


def test_inbox_and_outbox_show_each_side_with_counts_and_filters():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver, need="housing", urgency="urgent")
    referral(sender, receiver, need="food", resident=resident_input(first_name="Bea", client_id="B1"))
    inbox = signed_in(receiver.user).get(reverse("referrals:inbox"))
    body = inbox.content.decode()
    assert inbox.status_code == 200
    assert reverse("referrals:detail", kwargs={"referral_id": made.pk}) in body
    assert "<strong>New</strong>: 2" in body
    filtered = signed_in(receiver.user).get(reverse("referrals:inbox"), {"need": "housing"}).content.decode()
    assert "Ana Reyes" in filtered
    assert "Bea Reyes" not in filtered
    urgent = signed_in(receiver.user).get(reverse("referrals:inbox"), {"urgency": "urgent"}).content.decode()
    assert "Ana Reyes" in urgent
    assert "Bea Reyes" not in urgent
    closed = signed_in(receiver.user).get(reverse("referrals:inbox"), {"box": "closed"}).content.decode()
    assert "No referrals match." in closed
    assert "Ana Reyes" in signed_in(sender.user).get(reverse("referrals:outbox")).content.decode()
    assert "Ana Reyes" not in signed_in(sender.user).get(reverse("referrals:inbox")).content.decode()
    bad = signed_in(receiver.user).get(
        reverse("referrals:inbox"), {"created_from": "2026-05-02", "created_to": "2026-05-01"}
    )
    assert "Choose a date on or after the first one." in bad.content.decode()
    assert AccessEvent.objects.filter(
        subject_type="referral_box", subject_id=str(receiver.organization.pk)
    ).exists()


def test_a_user_of_several_organizations_chooses_which_box():
    sender, receiver, other = partner(), partner(), partner()
    referral(sender, receiver)
    both = receiver.user
    MembershipFactory.create(user=both, organization=other.organization, role=Role.PARTNER_USER)
    client = signed_in(both)
    first = receiver if receiver.organization.name < other.organization.name else other
    second = other if first is receiver else receiver
    default = client.get(reverse("referrals:inbox")).content.decode()
    assert ("Ana Reyes" in default) == (first is receiver)
    chosen = client.get(reverse("referrals:inbox"), {"organization": str(second.organization.pk)})
    assert ("Ana Reyes" in chosen.content.decode()) == (second is receiver)


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements a request ran, without the savepoints a test's own transaction turns each
    `atomic` block into (outside a test they are the connection's BEGIN and COMMIT)."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_the_boxes_are_paginated_with_a_constant_number_of_queries():
    """A box's page runs at most 10 statements in all (the session and the user included), whatever the
    number of rows and the page."""
    sender, receiver = partner(), partner()
    client = signed_in(receiver.user)
    for number in range(30):
        referral(
            sender,
            receiver,
            resident=resident_input(first_name=f"P{chr(97 + number % 26)}x", client_id=f"C{number}"),
        )
    client.get(reverse("referrals:inbox"))
    with CaptureQueriesContext(connection) as first_page:
        first = client.get(reverse("referrals:inbox"))
    assert len(statements(first_page)) <= 10, statements(first_page)
    with CaptureQueriesContext(connection) as second_page:
        second = client.get(reverse("referrals:inbox"), {"page": "2", "need": "food"})
    assert len(statements(second_page)) <= 10, statements(second_page)
    with CaptureQueriesContext(connection) as thirty:
        client.get(reverse("referrals:inbox"))
    referral(sender, receiver, resident=resident_input(first_name="Zed", client_id="Z1"))
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("referrals:inbox"))
    assert len(more) == len(thirty)
    assert first.content.decode().count("<tr>") == 26  # the header and 25 rows
    assert second.content.decode().count("<tr>") == 6
    assert 'aria-label="Page 2"' in first.content.decode()
    assert "<strong>New</strong>: 30" in first.content.decode()


# --- A referral's page -------------------------------------------------------------------------------


def test_guessing_another_organizations_referral_ids_is_404_and_recorded():
    sender, receiver, stranger = partner(), partner(), partner()
    made = referral(sender, receiver)
    token = {"Authorization": f"Bearer {api_token_create(user=stranger.user)[1]}"}
    client = signed_in(stranger.user)
    for path in (
        reverse("referrals:detail", kwargs={"referral_id": made.pk}),
        reverse("referrals:close", kwargs={"referral_id": made.pk}),
        "/referrals/00000000-0000-0000-0000-000000000001/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/api/referrals/{made.pk}", headers=token).status_code == 404
    denied = AccessEvent.objects.filter(actor=stranger.user, action=AccessEvent.Action.DENIED)
    assert denied.count() == 4
    assert set(denied.values_list("subject_type", flat=True)) == {"referral"}
    assert denied.filter(subject_id=str(made.pk)).count() == 3


def test_the_referral_page_per_role():
    sender, receiver, stranger = partner(), partner(), partner()
    made = referral(sender, receiver)
    url = reverse("referrals:detail", kwargs={"referral_id": made.pk})
    assert Client().get(url)["Location"].startswith(reverse("accounts:login"))
    assert signed_in(stranger.user).get(url).status_code == 404
    assert signed_in(member(None, Role.INSURANCE_AGENT)).get(url).status_code == 403
    page = signed_in(receiver.user).get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    for text in (
        "Ana Reyes",
        "+15025550199",
        "Food",
        "Routine",
        "Needs groceries this week.",
        "New",
        "Referral made",
    ):
        assert text in body, text
    assert sender.organization.name in body
    assert receiver.organization.name in body
    assert AccessEvent.objects.filter(
        actor=receiver.user, subject_type="resident", subject_id=str(made.resident_id)
    ).exists()
    assert "act/accept/" in body
    assert "act/cancel/" not in body
    sender_body = signed_in(sender.user).get(url).content.decode()
    assert "act/cancel/" in sender_body
    assert "act/accept/" not in sender_body


def _act(client: Client, made: Referral, action: str, seen: str, **fields: str) -> Any:
    data = {f"{action}-seen_status": seen, **{f"{action}-{key}": value for key, value in fields.items()}}
    return client.post(reverse("referrals:act", kwargs={"referral_id": made.pk, "action": action}), data)


def test_the_receiver_accepts_starts_holds_with_a_reason_and_resumes():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    client = signed_in(receiver.user)
    assert _act(client, made, "accept", "requested").status_code == 302
    assert _act(client, made, "start", "accepted").status_code == 302
    no_reason = _act(client, made, "hold", "in-progress")
    assert no_reason.status_code == 400
    assert "Give a reason." in no_reason.content.decode()
    assert _act(client, made, "hold", "in-progress", reason="Waiting for papers").status_code == 302
    made.refresh_from_db()
    assert (made.status, made.status_reason) == ("on-hold", "Waiting for papers")
    assert _act(client, made, "resume", "on-hold").status_code == 302
    timeline = client.get(reverse("referrals:detail", kwargs={"referral_id": made.pk})).content.decode()
    for text in ("Accepted", "Started", "Put on hold", "Waiting for papers", "Resumed"):
        assert text in timeline
    # The sender may not accept; someone else's referral is not found.
    assert _act(signed_in(sender.user), made, "accept", "in-progress").status_code == 403
    assert _act(signed_in(partner().user), made, "accept", "in-progress").status_code == 404
    assert (
        client.post(reverse("referrals:act", kwargs={"referral_id": made.pk, "action": "fly"})).status_code
        == 404
    )


def test_the_receiver_rejects_with_a_reason_and_the_sender_cancels():
    sender, receiver = partner(), partner()
    rejected, cancelled = referral(sender, receiver), referral(sender, receiver)
    assert _act(signed_in(receiver.user), rejected, "reject", "requested").status_code == 400
    assert _act(signed_in(receiver.user), rejected, "reject", "requested", reason="Full").status_code == 302
    assert _act(signed_in(sender.user), cancelled, "cancel", "requested").status_code == 302
    assert Referral.objects.get(pk=rejected.pk).status == "rejected"
    assert Referral.objects.get(pk=cancelled.pk).status == "cancelled"
    page = signed_in(sender.user).get(reverse("referrals:detail", kwargs={"referral_id": rejected.pk}))
    assert "Closed" in page.content.decode()
    assert "Full" in page.content.decode()


def test_two_people_acting_at_once_one_wins_and_the_other_sees_the_change():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    other = member(receiver.organization, Role.PARTNER_USER)
    assert _act(signed_in(receiver.user), made, "accept", "requested").status_code == 302
    late = _act(signed_in(other), made, "reject", "requested", reason="No room")
    assert late.status_code == 409
    body = late.content.decode()
    assert "This referral changed while you were looking at it." in body
    assert "Accepted" in body
    made.refresh_from_db()
    assert made.status == "accepted"
    assert ReferralEvent.objects.filter(referral=made).exclude(transition="create").count() == 1


def test_notes_are_added_and_bad_notes_rejected():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    url = reverse("referrals:note", kwargs={"referral_id": made.pk})
    client = signed_in(sender.user)
    assert client.post(url, {"body": "Called her twice."}).status_code == 302
    assert client.post(url, {"body": ""}).status_code == 400
    too_long = client.post(url, {"body": "x" * 1_000_000})
    assert too_long.status_code == 400
    assert ReferralNote.objects.count() == 1
    page = signed_in(receiver.user).get(reverse("referrals:detail", kwargs={"referral_id": made.pk}))
    assert "Called her twice." in page.content.decode()
    assert "Note added" in page.content.decode()
    assert signed_in(partner().user).post(url, {"body": "hi"}).status_code == 404


# --- Closing -----------------------------------------------------------------------------------------


def _close(client: Client, made: Referral, **fields: str) -> Any:
    data = {"seen_status": made.status, **fields}
    return client.post(reverse("referrals:close", kwargs={"referral_id": made.pk}), data)


def test_the_closing_form_has_the_overviews_words_and_16_reasons():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    page = signed_in(receiver.user).get(reverse("referrals:close", kwargs={"referral_id": made.pk}))
    body = page.content.decode()
    for text in (
        "How was your experience with the resident?",
        "Was the resource provided?",
        "Reason it was not provided",
        "Didn&#x27;t meet eligibility criteria",
        "The referral was made in error",
        "<legend",
    ):
        assert text in body, text
    assert body.count("<option") == 17  # None and the 16 reasons
    assert (
        signed_in(sender.user).get(reverse("referrals:close", kwargs={"referral_id": made.pk})).status_code
        == 403
    )


def test_closing_with_no_and_a_reason():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    response = _close(
        signed_in(receiver.user), made, experience="down", resource_provided="no", reason="too_far"
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.status, made.resource_provided, made.not_provided_reason) == ("failed", False, "too_far")
    page = signed_in(sender.user).get(reverse("referrals:detail", kwargs={"referral_id": made.pk}))
    assert "No, the organization was too far away" in page.content.decode()
    assert "Closed" in page.content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"experience": "up", "resource_provided": "no", "reason": ""},
            "Choose the reason it was not provided.",
        ),
        (
            {"experience": "up", "resource_provided": "yes", "reason": "too_far"},
            "Leave the reason empty when the resource was provided.",
        ),
        ({"resource_provided": "yes"}, "Tell us how your experience with the resident was."),
        ({"experience": "up"}, "Say whether the resource was provided."),
        (
            {"experience": "up", "resource_provided": "no", "reason": "moon"},
            "Choose the reason it was not provided.",
        ),
    ],
)
def test_bad_closing_input_is_an_error_and_nothing_changes(fields, message):
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    response = _close(signed_in(receiver.user), made, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    made.refresh_from_db()
    assert made.status == "requested"
    assert ReferralEvent.objects.filter(referral=made).count() == 1


def test_closing_a_referral_someone_else_closed_says_it_changed():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    assert _close(signed_in(receiver.user), made, experience="up", resource_provided="yes").status_code == 302
    late = _close(signed_in(receiver.admin), made, experience="down", resource_provided="no", reason="other")
    assert late.status_code == 409
    assert "This referral changed" in late.content.decode()
    assert ReferralEvent.objects.filter(referral=made, transition__in=["complete", "fail"]).count() == 1


# --- Spanish -----------------------------------------------------------------------------------------


def test_the_pages_in_spanish():
    receiver, sender = listed(partner()), partner()
    made = referral(sender, receiver)
    client = signed_in(receiver.user)
    detail = client.get(f"/es/referrals/{made.pk}/").content.decode()
    assert "Historial" in detail
    close = client.get(f"/es/referrals/{made.pk}/close/").content.decode()
    assert "¿Se brindó el recurso?" in close
    assert "La referencia se hizo por error" in close
    closed = client.post(
        f"/es/referrals/{made.pk}/close/",
        {"seen_status": "requested", "experience": "down", "resource_provided": "no", "reason": "too_far"},
    )
    assert closed.status_code == 302
    spanish_timeline = client.get(f"/es/referrals/{made.pk}/").content.decode()
    assert "Cerrada: no se brindó el recurso (No, la organización estaba demasiado lejos)" in spanish_timeline
    english_timeline = signed_in(sender.user).get(f"/referrals/{made.pk}/").content.decode()
    assert "Closed: resource not provided (No, the organization was too far away)" in english_timeline
    assert "Bandeja de entrada" in client.get("/es/referrals/inbox/").content.decode()
    new = signed_in(sender.user).get(f"/es/referrals/new/?service={receiver.service.pk}").content.decode()
    assert "Enviar la referencia" in new


# --- How a member of an organization is told of new referrals ----------------------------------------


def test_members_choose_email_or_email_and_text_on_my_information():
    receiver = partner()
    user = receiver.user
    client = signed_in(user)
    url = reverse("accounts:my_information")
    assert 'name="notify_by"' in client.get(url).content.decode()
    user.phone = ""
    user.save(update_fields=["phone"])
    refused = client.post(url, {"notify_by": "email_and_text"})
    assert refused.status_code == 400
    assert "Add a mobile phone number to your account to get texts." in refused.content.decode()
    user.phone = "+15025550123"
    user.save(update_fields=["phone"])
    assert client.post(url, {"notify_by": "email_and_text"}).status_code == 302
    user.refresh_from_db()
    assert user.notify_by == "email_and_text"
    referral(partner(), receiver)
    assert OutboundMessage.objects.filter(recipient="+15025550123", channel="sms").exists()
    # Someone who belongs to no organization has no such choice.
    resident = signed_in(member(None, Role.RESIDENT))
    assert 'name="notify_by"' not in resident.get(url).content.decode()
    assert resident.post(url, {"notify_by": "email"}).status_code == 403


def test_the_receiver_reopens_a_closed_referral_with_a_reason():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    referral_act(
        actor=receiver.user,
        referral_id=made.pk,
        action=Action.CLOSE,
        closure=Closure(experience="up", resource_provided=True),
    )
    client = signed_in(receiver.user)
    page = client.get(reverse("referrals:detail", kwargs={"referral_id": made.pk})).content.decode()
    assert "Reopen referral" in page
    assert "Reason for reopening it" in page
    assert (
        "Reopen referral"
        not in signed_in(sender.user)
        .get(reverse("referrals:detail", kwargs={"referral_id": made.pk}))
        .content.decode()
    )
    no_reason = _act(client, made, "reopen", "completed")
    assert no_reason.status_code == 400
    assert "Give a reason." in no_reason.content.decode()
    assert Referral.objects.get(pk=made.pk).status == "completed"
    assert _act(signed_in(sender.user), made, "reopen", "completed", reason="No").status_code == 403
    assert _act(client, made, "reopen", "completed", reason="Closed the wrong one").status_code == 302
    made.refresh_from_db()
    assert (made.status, made.closed_at, made.resource_provided) == ("in-progress", None, None)
    timeline = client.get(reverse("referrals:detail", kwargs={"referral_id": made.pk})).content.decode()
    assert "Reopened" in timeline
    assert "Closed the wrong one" in timeline
    spanish = client.get("/es" + reverse("referrals:detail", kwargs={"referral_id": made.pk}))
    assert "Reabierta" in spanish.content.decode()
