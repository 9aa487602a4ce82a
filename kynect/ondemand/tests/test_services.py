"""Registration through the services: eligibility, the three steps, mobile verification, the active flag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from kynect.accounts.models import Role
from kynect.accounts.tests.factories import MembershipFactory, UserFactory
from kynect.core import clock
from kynect.core.tests.digits import ARABIC_INDIC, FULLWIDTH, written_in
from kynect.notifications.models import OutboundMessage
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import (
    DoiLicence,
    Helper,
    HelperCounty,
    MobileVerification,
    ScheduleWindow,
)
from kynect.ondemand.services.deregistration import helper_agency_active_set, helper_deregister
from kynect.ondemand.services.helpers import (
    WindowSpec,
    helper_agree_terms,
    helper_availability_set,
    helper_contact_update,
    helper_schedule_update,
    helper_start,
    time_off_add,
)
from kynect.ondemand.services.verification import mobile_code_resend, mobile_code_verify
from kynect.ondemand.tests.conftest import ALL_WEEK, last_code, register, sending
from kynect.ondemand.tests.factories import DoiLicenceFactory

pytestmark = pytest.mark.django_db


def contact(helper: Helper, phone: str = "(502) 555-0142", **kwargs):
    values = {
        "phone": phone,
        "phone_source": Helper.ContactSource.ON_DEMAND,
        "email": "me@example.org",
        "email_source": Helper.ContactSource.ON_DEMAND,
        "channel": Helper.Channel.SMS_AND_EMAIL,
    }
    values.update(kwargs)
    with sending():
        return helper_contact_update(helper=helper, **values)


def resend(helper: Helper) -> MobileVerification:
    with sending():
        return mobile_code_resend(helper=helper)


def schedule(helper: Helper, **kwargs):
    values: dict[str, Any] = {
        "home_zip": "40601",
        "counties": ["21073"],
        "languages": ["en"],
        "programs": ["qhp"],
        "windows": ALL_WEEK,
        "is_available": True,
    }
    values.update(kwargs)
    return helper_schedule_update(helper=helper, **values)


# --- Starting and agreeing ---------------------------------------------------------------------------


def test_helper_start_takes_the_role_and_agency_from_the_membership(kynector):
    helper = helper_start(user=kynector.user)
    assert helper.role == Helper.Role.KYNECTOR
    assert helper.organization == kynector.organization
    assert helper.status == Helper.Status.NOT_REGISTERED
    assert helper_start(user=kynector.user).pk == helper.pk


def test_helper_start_refuses_people_without_a_helper_role():
    partner = MembershipFactory.create(role=Role.PARTNER_USER)
    with pytest.raises(PermissionDenied):
        helper_start(user=partner.user)
    assert not Helper.objects.exists()


def test_an_agent_agrees_with_an_eligible_licence(agent, settings):
    helper = helper_agree_terms(helper=helper_start(user=agent.user), npn="1234567")
    assert helper.licence_id == "1234567"
    assert helper.terms_version == settings.ONDEMAND_TERMS_VERSION
    assert helper.terms_agreed_at is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": DoiLicence.Status.INACTIVE}, "not active"),
        ({"expires_on": "2020-01-01"}, "not active"),
        ({"has_health_authority": False}, "no health line of authority"),
        ({"certification_completed_on": None}, "My Purpose Certification"),
        ({"phone": ""}, "latest contact information in the DOI"),
    ],
)
def test_an_agent_whose_licence_falls_short_is_told_why_and_nothing_changes(agent, change, message):
    DoiLicence.objects.filter(npn="1234567").update(**change)
    helper = helper_start(user=agent.user)
    with pytest.raises(ValidationError) as error:
        helper_agree_terms(helper=helper, npn="1234567")
    assert any(message in text for text in error.value.messages)
    helper.refresh_from_db()
    assert helper.terms_agreed_at is None
    assert helper.licence_id is None


@pytest.mark.parametrize(
    ("npn", "message"),
    [("12ab", "up to 10 digits"), ("7654321", "not on the Department of Insurance roster")],
)
def test_an_agent_must_name_a_licence_on_the_roster(agent, npn, message):
    with pytest.raises(ValidationError) as error:
        helper_agree_terms(helper=helper_start(user=agent.user), npn=npn)
    assert message in error.value.message_dict["npn"][0]


def test_an_agent_cannot_claim_a_licence_with_another_email_address(agent):
    DoiLicenceFactory.create(npn="2222222", email="someone-else@example.org")
    with pytest.raises(ValidationError) as error:
        helper_agree_terms(helper=helper_start(user=agent.user), npn="2222222")
    assert "different email address" in error.value.message_dict["npn"][0]


def test_a_kynector_must_be_marked_active_before_agreeing(kynector):
    helper = helper_start(user=kynector.user)
    with pytest.raises(ValidationError) as error:
        helper_agree_terms(helper=helper)
    assert "Only active kynectors and Agency Admins" in error.value.messages[0]


# --- Contact and the mobile code -----------------------------------------------------------------------


def test_contact_sends_a_code_that_is_stored_nowhere_in_clear(active_kynector):
    helper = helper_agree_terms(helper=active_kynector)
    result = contact(helper)
    assert result.verification is not None
    assert len(LocmemSmsBackend.outbox) == 1
    sent = LocmemSmsBackend.outbox[0]
    assert sent.to == "+15025550142"
    code = last_code()
    message = OutboundMessage.objects.get(pk=result.verification.message_id)
    assert message.status == OutboundMessage.Status.SENT
    assert code not in message.body
    assert "••••••" in message.body
    verification = MobileVerification.objects.get()
    assert code not in (verification.code_hash, verification.code_key)
    assert len(verification.code_hash) == 64
    # The number is not the helper's until the code is entered.
    helper.refresh_from_db()
    assert helper.phone == ""
    assert helper.contact_completed_at is None


def test_a_number_typed_in_other_digits_is_the_same_number(registered_kynector):
    assert registered_kynector.phone == "+15025550142"
    unchanged = contact(registered_kynector, phone=written_in(ARABIC_INDIC, "(502) 555-0142"))
    assert unchanged.verification is None
    assert unchanged.helper.phone == "+15025550142"
    changed = contact(unchanged.helper, phone=written_in(FULLWIDTH, "502-555-0177"))
    assert changed.verification is not None
    assert changed.verification.phone == "+15025550177"
    assert LocmemSmsBackend.outbox[-1].to == "+15025550177"


def test_the_right_code_verifies_the_number_and_wipes_the_code_key(active_kynector):
    helper = helper_agree_terms(helper=active_kynector)
    contact(helper)
    helper = mobile_code_verify(helper=helper, code=last_code())
    assert helper.phone == "+15025550142"
    assert helper.phone_verified_at is not None
    assert helper.contact_completed_at is not None
    verification = MobileVerification.objects.get()
    assert verification.verified_at is not None
    assert verification.code_key == ""
    with pytest.raises(ValidationError, match="expired or was replaced"):
        mobile_code_verify(helper=helper, code=last_code())


def test_wrong_codes_count_down_and_the_fifth_locks_the_code(active_kynector, settings):
    helper = helper_agree_terms(helper=active_kynector)
    contact(helper)
    right = last_code()
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(ValidationError, match=f"{left} tries left"):
            mobile_code_verify(helper=helper, code=wrong)
    with pytest.raises(ValidationError, match="Too many wrong codes"):
        mobile_code_verify(helper=helper, code=wrong)
    with pytest.raises(ValidationError):
        mobile_code_verify(helper=helper, code=right)
    helper.refresh_from_db()
    assert helper.phone == ""
    assert MobileVerification.objects.get().code_key == ""


def test_a_code_expires(active_kynector, settings):
    helper = helper_agree_terms(helper=active_kynector)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        contact(helper)
        traveller.shift(timedelta(seconds=settings.ONDEMAND_MOBILE_CODE_TTL_SECONDS + 1))
        with pytest.raises(ValidationError, match="expired"):
            mobile_code_verify(helper=helper, code=last_code())


def test_resend_waits_for_the_cooldown_and_replaces_the_old_code(active_kynector, settings):
    helper = helper_agree_terms(helper=active_kynector)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        contact(helper)
        first = last_code()
        with pytest.raises(ValidationError, match="seconds"):
            resend(helper)
        assert len(LocmemSmsBackend.outbox) == 1
        traveller.shift(timedelta(seconds=settings.ONDEMAND_MOBILE_CODE_RESEND_SECONDS))
        resend(helper)
        second = last_code()
    assert len(LocmemSmsBackend.outbox) == 2
    if first != second:
        with pytest.raises(ValidationError):
            mobile_code_verify(helper=helper, code=first)
    assert mobile_code_verify(helper=helper, code=second).phone == "+15025550142"


def test_codes_per_day_are_limited(active_kynector, settings):
    settings.ONDEMAND_MOBILE_CODES_PER_DAY = 2
    settings.ONDEMAND_MOBILE_CODE_RESEND_SECONDS = 0
    helper = helper_agree_terms(helper=active_kynector)
    contact(helper)
    resend(helper)
    with pytest.raises(ValidationError, match="Too many codes"):
        resend(helper)
    assert len(LocmemSmsBackend.outbox) == 2


def test_a_code_not_yet_sent_when_replaced_is_withdrawn(
    active_kynector, settings, django_capture_on_commit_callbacks
):
    settings.ONDEMAND_MOBILE_CODE_RESEND_SECONDS = 0
    helper = helper_agree_terms(helper=active_kynector)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = helper_contact_update(
            helper=helper,
            phone="(502) 555-0142",
            phone_source=Helper.ContactSource.ON_DEMAND,
            email="me@example.org",
            email_source=Helper.ContactSource.ON_DEMAND,
            channel=Helper.Channel.SMS_AND_EMAIL,
        ).verification
        mobile_code_resend(helper=helper)
    for callback in callbacks:
        callback()
    assert first is not None
    assert first.message_id is not None
    withdrawn = OutboundMessage.objects.get(pk=first.message_id)
    assert withdrawn.status == OutboundMessage.Status.FAILED
    assert withdrawn.last_error == "Withdrawn before sending"
    assert len(LocmemSmsBackend.outbox) == 1


def test_a_kynector_may_use_the_sign_in_account_phone_and_email(active_kynector):
    user = active_kynector.user
    user.phone = "+16065550177"
    user.save()
    helper = helper_agree_terms(helper=active_kynector)
    result = contact(
        helper,
        phone="",
        email="",
        phone_source=Helper.ContactSource.ACCOUNT,
        email_source=Helper.ContactSource.ACCOUNT,
    )
    assert result.verification is not None
    assert result.verification.phone == "+16065550177"
    helper = mobile_code_verify(helper=helper, code=last_code())
    assert helper.phone_source == Helper.ContactSource.ACCOUNT
    assert helper.contact_email == user.email
    assert helper.email == ""


def test_the_account_phone_must_exist_to_be_used(active_kynector):
    helper = helper_agree_terms(helper=active_kynector)
    with pytest.raises(ValidationError) as error:
        contact(helper, phone="", phone_source=Helper.ContactSource.ACCOUNT)
    assert "phone_source" in error.value.message_dict
    assert not MobileVerification.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"phone": "555-0142"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"channel": "pigeon"}, "channel"),
    ],
)
def test_bad_contact_details_change_nothing(active_kynector, values, field):
    helper = helper_agree_terms(helper=active_kynector)
    with pytest.raises(ValidationError) as error:
        contact(helper, **values)
    assert field in error.value.message_dict
    helper.refresh_from_db()
    assert helper.email == ""
    assert not MobileVerification.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_agents_always_give_on_demand_contact_details(agent):
    helper = helper_agree_terms(helper=helper_start(user=agent.user), npn="1234567")
    contact(helper, phone_source=Helper.ContactSource.ACCOUNT, email_source=Helper.ContactSource.ACCOUNT)
    helper.refresh_from_db()
    assert helper.email == "me@example.org"
    assert helper.email_source == Helper.ContactSource.ON_DEMAND


def test_saving_the_verified_number_again_sends_no_code(registered_kynector):
    LocmemSmsBackend.outbox.clear()
    result = contact(registered_kynector, phone="502-555-0142", email="new@example.org")
    assert result.verification is None
    assert result.helper.email == "new@example.org"
    assert LocmemSmsBackend.outbox == []


def test_a_registered_helper_keeps_the_old_number_until_the_new_one_is_verified(registered_kynector):
    contact(registered_kynector, phone="(859) 555-0199")
    registered_kynector.refresh_from_db()
    assert registered_kynector.phone == "+15025550142"
    assert registered_kynector.is_registered
    helper = mobile_code_verify(helper=registered_kynector, code=last_code())
    assert helper.phone == "+18595550199"


# --- Schedule and registration --------------------------------------------------------------------------


def test_the_third_step_registers_the_helper(active_kynector):
    helper = register(active_kynector, zip_code="42101")
    assert helper.status == Helper.Status.REGISTERED
    assert helper.registered_at is not None
    assert helper.is_available
    assert helper.consecutive_misses == 0
    assert helper.time_zone == "America/Chicago"
    assert helper.home_county_fips == "21227"  # Warren County
    assert helper.home_latitude
    assert helper.home_longitude
    assert ScheduleWindow.objects.filter(helper=helper).count() == 7


def test_an_agent_registers(make_registered_agent):
    helper = make_registered_agent()
    assert helper.status == Helper.Status.REGISTERED
    assert helper.role == Helper.Role.AGENT


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"home_zip": "00000"}, "home_zip"),
        ({"home_zip": "abc"}, "home_zip"),
        ({"counties": []}, "counties"),
        ({"counties": ["99999"]}, "counties"),
        ({"languages": []}, "languages"),
        ({"programs": ["dental"]}, "programs"),
        ({"windows": []}, "windows"),
        (
            {"windows": [WindowSpec(0, 540, 720), WindowSpec(0, 700, 900)]},
            "windows",
        ),
        ({"windows": [WindowSpec(0, 540, 720, breaks=((500, 560),))]}, "windows"),
        ({"windows": [WindowSpec(0, 540, 720, breaks=((600, 660), (650, 700)))]}, "windows"),
    ],
)
def test_a_bad_schedule_changes_nothing(active_kynector, values, field):
    helper = helper_agree_terms(helper=active_kynector)
    contact(helper)
    mobile_code_verify(helper=helper, code=last_code())
    with pytest.raises(ValidationError) as error:
        schedule(helper, **values)
    assert field in error.value.message_dict
    helper.refresh_from_db()
    assert helper.status == Helper.Status.NOT_REGISTERED
    assert helper.schedule_completed_at is None
    assert not ScheduleWindow.objects.exists()
    assert not HelperCounty.objects.exists()


def test_the_schedule_step_needs_a_verified_phone(active_kynector):
    helper = helper_agree_terms(helper=active_kynector)
    with pytest.raises(ValidationError, match="preferred contact"):
        schedule(helper)


def test_editing_the_schedule_replaces_it(registered_kynector):
    helper = schedule(registered_kynector, windows=[WindowSpec(2, 540, 1020, breaks=((720, 750),))])
    assert helper.is_registered
    window = ScheduleWindow.objects.get(helper=helper)
    assert (window.weekday, window.start_minute, window.end_minute) == (2, 540, 1020)
    assert list(window.breaks.values_list("start_minute", "end_minute")) == [(720, 750)]


def test_the_switch_needs_registration(active_kynector, registered_kynector):
    assert helper_availability_set(helper=registered_kynector, is_available=False).is_available is False
    other = helper_start(user=MembershipFactory.create(role=Role.KYNECTOR).user)
    with pytest.raises(ValidationError):
        helper_availability_set(helper=other, is_available=True)


def test_time_off_must_end_after_it_starts_and_not_be_over(registered_kynector):
    now = clock.now()
    with pytest.raises(ValidationError):
        time_off_add(helper=registered_kynector, starts_at=now, ends_at=now)
    with pytest.raises(ValidationError):
        time_off_add(
            helper=registered_kynector, starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)
        )
    assert time_off_add(helper=registered_kynector, starts_at=now, ends_at=now + timedelta(hours=2)).pk


# --- De-registration and the active flag ----------------------------------------------------------------


def test_deregistration_keeps_the_reason_and_asks_for_the_steps_again(registered_kynector):
    assert helper_deregister(helper=registered_kynector, reason=Helper.DeregistrationReason.MISSED_REFERRALS)
    helper = registered_kynector
    assert helper.status == Helper.Status.DEREGISTERED
    assert helper.deregistration_reason == Helper.DeregistrationReason.MISSED_REFERRALS
    assert not helper.is_available
    assert helper.terms_agreed_at is None
    assert not helper_deregister(helper=helper, reason=Helper.DeregistrationReason.ADMINISTRATOR)
    # Registering again: the three steps, with the verified number kept.
    helper = helper_agree_terms(helper=helper)
    assert helper.status == Helper.Status.NOT_REGISTERED
    LocmemSmsBackend.outbox.clear()
    assert contact(helper).verification is None
    assert schedule(helper).status == Helper.Status.REGISTERED
    # Registered again, the helper no longer carries the date, but the de-registration is still on record
    # (the state dashboard counts it), and only the one that happened.
    helper.refresh_from_db()
    assert helper.deregistered_at is None
    assert list(helper.deregistrations.values_list("reason", flat=True)) == [
        Helper.DeregistrationReason.MISSED_REFERRALS
    ]


def test_an_agency_admin_marks_a_kynector_of_their_agency_active_and_not(kynector, agency_admin):
    helper = helper_agency_active_set(actor=agency_admin.user, membership=kynector, active=True)
    assert helper.agency_active
    assert helper.agency_active_changed_by == agency_admin.user
    helper = register(helper)
    helper = helper_agency_active_set(actor=agency_admin.user, membership=kynector, active=False)
    assert not helper.agency_active
    assert helper.status == Helper.Status.DEREGISTERED
    assert helper.deregistration_reason == Helper.DeregistrationReason.DEACTIVATED


def test_a_state_administrator_may_mark_anyone_active(kynector, state_admin):
    assert helper_agency_active_set(actor=state_admin.user, membership=kynector, active=True).agency_active


def test_nobody_else_may_set_the_active_flag(kynector, agency_admin):
    other_agency_admin = MembershipFactory.create(role=Role.AGENCY_ADMIN)
    partner_admin = MembershipFactory.create(role=Role.PARTNER_ADMIN, organization=kynector.organization)
    for actor in (other_agency_admin.user, partner_admin.user, kynector.user, UserFactory.create()):
        with pytest.raises(PermissionDenied):
            helper_agency_active_set(actor=actor, membership=kynector, active=True)
    with pytest.raises(PermissionDenied):
        helper_agency_active_set(actor=agency_admin.user, membership=agency_admin, active=True)
    agent = MembershipFactory.create(role=Role.INSURANCE_AGENT, organization=kynector.organization)
    with pytest.raises(PermissionDenied):
        helper_agency_active_set(actor=agency_admin.user, membership=agent, active=True)
    assert not Helper.objects.filter(agency_active=True).exists()
