"""Helpers at each stage of registration, built through the services as a person would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.test import TestCase

from kynect.accounts.models import Membership, Role
from kynect.accounts.tests.factories import MembershipFactory
from kynect.core.geo import KENTUCKY_COUNTIES
from kynect.core.worker import side_loop_once
from kynect.notifications.sms import LocmemSmsBackend
from kynect.ondemand.models import MINUTES_PER_DAY, Helper, Language, Program
from kynect.ondemand.services.deregistration import helper_agency_active_set
from kynect.ondemand.services.helpers import (
    WindowSpec,
    helper_agree_terms,
    helper_contact_update,
    helper_schedule_update,
    helper_start,
)
from kynect.ondemand.services.verification import mobile_code_verify
from kynect.ondemand.tests.factories import DoiLicenceFactory


@contextmanager
def sending() -> Iterator[None]:
    """As the block ends, what follows a commit: the workers' routing loop takes the requests now due
    (ADR 0036), and the on-commit callbacks run (the outbox sending its messages)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
        side_loop_once("ondemand.routing")


def last_code() -> str:
    """The code in the last text message sent (the only place it ever exists in clear)."""
    import re

    match = re.search(r"\b(\d{6})\b", LocmemSmsBackend.outbox[-1].body)
    assert match, LocmemSmsBackend.outbox[-1].body
    return match.group(1)


@pytest.fixture
def state_admin() -> Membership:
    return MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)


@pytest.fixture
def agency_admin() -> Membership:
    return MembershipFactory.create(role=Role.AGENCY_ADMIN)


@pytest.fixture
def kynector(agency_admin: Membership) -> Membership:
    return MembershipFactory.create(role=Role.KYNECTOR, organization=agency_admin.organization)


@pytest.fixture
def active_kynector(kynector: Membership, agency_admin: Membership) -> Helper:
    return helper_agency_active_set(actor=agency_admin.user, membership=kynector, active=True)


@pytest.fixture
def agent() -> Membership:
    membership = MembershipFactory.create(role=Role.INSURANCE_AGENT)
    DoiLicenceFactory.create(npn="1234567", email=membership.user.email)
    return membership


ALL_WEEK = [WindowSpec(weekday=day, start_minute=0, end_minute=MINUTES_PER_DAY) for day in range(7)]


def register(helper: Helper, *, npn: str = "", phone: str = "(502) 555-0142", windows=None, zip_code="40601"):
    helper = helper_agree_terms(helper=helper, npn=npn)
    with sending():
        result = helper_contact_update(
            helper=helper,
            phone=phone,
            phone_source=Helper.ContactSource.ON_DEMAND,
            email="helper@example.org",
            email_source=Helper.ContactSource.ON_DEMAND,
            channel=Helper.Channel.SMS_AND_EMAIL,
        )
    if result.verification is not None:
        mobile_code_verify(helper=helper, code=last_code())
    return helper_schedule_update(
        helper=helper,
        home_zip=zip_code,
        counties=[KENTUCKY_COUNTIES[0].fips, "21073"],
        languages=[Language.ENGLISH],
        programs=[Program.MEDICAID_KCHIP],
        windows=windows if windows is not None else ALL_WEEK,
        is_available=True,
    )


@pytest.fixture
def registered_kynector(active_kynector: Helper) -> Helper:
    return register(active_kynector)


@pytest.fixture
def make_registered_agent() -> Callable[..., Helper]:
    counter = iter(range(100))

    def make(**kwargs) -> Helper:
        n = next(counter)
        membership = MembershipFactory.create(role=Role.INSURANCE_AGENT)
        DoiLicenceFactory.create(npn=f"55500{n:02d}", email=membership.user.email)
        return register(helper_start(user=membership.user), npn=f"55500{n:02d}", **kwargs)

    return make
