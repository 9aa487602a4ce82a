"""Demo helpers for `seed_demo`: the demo agent, kynector and agency admin, registered and available
around the clock in every county, through the same services a person uses. Demo environment only."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from kynect.accounts.models import Role, User
from kynect.accounts.selectors import active_memberships
from kynect.core import clock
from kynect.core.geo import KENTUCKY_COUNTIES
from kynect.interop.doi.roster import Roster, RosterRow
from kynect.ondemand.models import MINUTES_PER_DAY, Helper, Language, Program
from kynect.ondemand.services.deregistration import helper_agency_active_set
from kynect.ondemand.services.helpers import (
    WindowSpec,
    helper_agree_terms,
    helper_contact_update,
    helper_schedule_update,
    helper_start,
)
from kynect.ondemand.services.roster import licence_roster_import
from kynect.ondemand.services.verification import mobile_code_verify

DEMO_AGENT_NPN = "9990001"
# email, mobile phone (fictional 555 numbers), home ZIP
DEMO_HELPERS = (
    ("agent@example.org", "+15025550111", "42101"),
    ("kynector@example.org", "+16065550112", "41701"),
    ("agency-admin@example.org", "+15025550113", "40601"),
)


def _demo_licence(user: User, phone: str) -> None:
    row = RosterRow(
        line=2,
        npn=DEMO_AGENT_NPN,
        licence_number="DOI-DEMO-1",
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        phone=phone,
        status="active",
        lines_of_authority=("Health", "Life"),
        expires_on=date(clock.now().year + 2, 12, 31),
        certification_completed_on=date(2026, 1, 15),
    )
    licence_roster_import(roster=Roster(rows=[row], problems=[]))


@transaction.atomic
def demo_helpers_seed(*, state_admin: User) -> int:
    """Register the demo helpers that are not registered yet; returns how many were registered."""
    registered = 0
    for email, phone, home_zip in DEMO_HELPERS:
        user = User.objects.get(email=email)
        helper = helper_start(user=user)
        if helper.status == Helper.Status.REGISTERED:
            continue
        if helper.role == Helper.Role.AGENT:
            _demo_licence(user, phone)
        else:
            membership = active_memberships(
                user=user, role=Role.KYNECTOR if helper.role == Helper.Role.KYNECTOR else Role.AGENCY_ADMIN
            ).get()
            helper_agency_active_set(actor=state_admin, membership=membership, active=True)
        helper = helper_agree_terms(helper=helper, npn=DEMO_AGENT_NPN)
        result = helper_contact_update(
            helper=helper,
            phone=phone,
            phone_source=Helper.ContactSource.ON_DEMAND,
            email=email,
            email_source=Helper.ContactSource.ON_DEMAND,
            channel=Helper.Channel.SMS_AND_EMAIL,
        )
        if result.verification is not None:
            mobile_code_verify(helper=helper, code=result.verification.code_derive())
        helper_schedule_update(
            helper=helper,
            home_zip=home_zip,
            counties=[county.fips for county in KENTUCKY_COUNTIES],
            languages=[Language.ENGLISH, Language.SPANISH],
            programs=[Program.QUALIFIED_HEALTH_PLAN, Program.MEDICAID_KCHIP],
            windows=[WindowSpec(weekday=day, start_minute=0, end_minute=MINUTES_PER_DAY) for day in range(7)],
            is_available=True,
        )
        registered += 1
    return registered
