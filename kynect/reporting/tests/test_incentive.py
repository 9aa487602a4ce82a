"""The monthly incentive report on a fixed data set, with the amounts worked out by hand: the exclusions, the
initiative's start, a referral reopened (taken back), closed, reopened and closed again (paid once), an
organization's type corrected after its month was reported (paid late), and 23:30 Central on the last day
of a month (the next month on Kentucky's clock)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from kynect.accounts.models import Organization, Role
from kynect.assessments.models import Assessment
from kynect.assessments.selectors import instrument_by_code
from kynect.core import recurring
from kynect.directory.models import Service
from kynect.notifications.models import OutboundMessage
from kynect.referrals.access import Action
from kynect.referrals.services import Closure, referral_act
from kynect.referrals.tests.factories import Partner, member, partner, referral
from kynect.reporting.incentive import (
    IncentiveReportError,
    incentive_report_make,
    incentive_report_monthly,
    month_parse,
)
from kynect.reporting.models import IncentiveItem, IncentiveReport

pytestmark = pytest.mark.django_db

EASTERN = ZoneInfo("America/New_York")
CENTRAL = ZoneInfo("America/Chicago")
OCTOBER = date(2026, 10, 1)
NOVEMBER = date(2026, 11, 1)


def at(month: int, day: int, hour: int = 12, minute: int = 0, zone: ZoneInfo = EASTERN) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


def _close(receiver: Partner, made: Any, moment: datetime, *, provided: bool = True) -> None:
    with time_machine.travel(moment, tick=False):
        referral_act(
            actor=receiver.user,
            referral_id=made.pk,
            action=Action.CLOSE,
            closure=Closure(
                experience="up", resource_provided=provided, reason="" if provided else "unreachable"
            ),
        )


def _reopen(receiver: Partner, made: Any, moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        referral_act(actor=receiver.user, referral_id=made.pk, action=Action.REOPEN, reason="Closed in error")


def _assessment(organization: Organization, resident: Any, moment: datetime) -> Assessment:
    instrument = instrument_by_code("kynect-sdoh")
    assert instrument is not None
    return Assessment.objects.create(
        resident=resident,
        instrument=instrument,
        organization=organization,
        taken_by=member(organization, Role.PARTNER_USER),
        status=Assessment.Status.COMPLETED,
        completed_at=moment,
    )


@pytest.fixture
def world(settings, tmp_path: Path) -> dict[str, Any]:
    """October and November 2026. The amounts each test expects are worked out in the comments."""
    settings.REPORTS_DIR = str(tmp_path)
    with time_machine.travel(at(9, 10), tick=False):
        b = partner(
            name="Bluegrass Food Pantry", address_1="1 Main St", city="Lexington", postal_code="40507"
        )
        sender = partner(type=Organization.Type.STATE_AGENCY, name="DCBS Franklin")
    with time_machine.travel(at(10, 3), tick=False):
        c = partner(type=Organization.Type.OTHER, name="Cumberland Helpers")  # corrected to NFP on 10 Nov
    with time_machine.travel(at(10, 5), tick=False):
        a = partner(name="Appalachian Aid", address_1="5 Oak Rd", address_2="Suite 2", city="Hazard")
        hospital = partner(type=Organization.Type.HOSPITAL, name="Spring View Hospital")
        partner(type=Organization.Type.FOR_PROFIT, name="For Profit Care")
        no_service = partner(name="No Longer Serving")

    with time_machine.travel(at(10, 6), tick=False):
        r1, r2, r3, r3b, r6, r7 = (referral(sender, a) for _ in range(6))
        r4, r5 = referral(sender, hospital), referral(sender, c)
        r8 = referral(sender, no_service)
    # It no longer serves anyone: off the incentive list.
    Service.objects.filter(organization=no_service.organization.hsds_organization).update(status="inactive")
    resident = r1.resident
    _close(a, r1, at(10, 12))  # October: A +10
    _close(a, r2, at(10, 20), provided=False)  # October: A +10; reopened 3 Nov: November -10
    _close(a, r3, at(10, 25))
    _reopen(a, r3, at(10, 26))  # open at October's end: nothing; closed again 2 Nov: November +10
    _close(a, r3b, at(10, 15))  # October: A +10; reopened and closed again in November: nothing more
    _close(hospital, r4, at(10, 16))  # a hospital: never paid
    _close(c, r5, at(10, 18))  # C is "other" in October; November, once corrected: +10 late
    _close(no_service, r8, at(10, 19))  # no active service: never paid
    with time_machine.travel(at(10, 22), tick=False):
        referral_act(actor=a.user, referral_id=r7.pk, action=Action.REJECT, reason="Full")  # no outcome
    _close(a, r6, at(10, 31, 23, 30, zone=CENTRAL))  # 00:30 on 1 November, Eastern: November +10
    _assessment(a.organization, resident, at(10, 8))  # October: A +10
    _assessment(b.organization, resident, at(10, 9))  # October: B +10
    _assessment(hospital.organization, resident, at(10, 9))  # a hospital: never paid
    return {"a": a, "b": b, "c": c, "r2": r2, "r3": r3, "r3b": r3b, "resident": resident}


def _november(world: dict[str, Any]) -> None:
    a = world["a"]
    _close(a, world["r3"], at(11, 2))
    _reopen(a, world["r2"], at(11, 3))
    _reopen(a, world["r3b"], at(11, 5))
    _close(a, world["r3b"], at(11, 6))
    Organization.objects.filter(pk=world["c"].organization.pk).update(type=Organization.Type.NOT_FOR_PROFIT)
    _assessment(a.organization, world["resident"], at(11, 12))  # November: A +10


def _table(report: IncentiveReport) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(report.csv)))
    header = rows.index(next(row for row in rows if row[:1] == ["Organization"]))
    table = {}
    for row in rows[header + 1 :]:
        if not row:
            break
        table[row[0]] = row[6:]
    return table


def test_october_pays_the_eligible_organizations_for_the_month_only(world):
    report = incentive_report_make(month=OCTOBER, now=at(11, 1, 2))
    # A: onboarding 100, one assessment 10, three closings (r1, r2, r3b) 30 = 140.
    # B: onboarded in September, before the first report: its onboarding is not paid; one assessment 10.
    # Hospital, state agency, for-profit, "other" and the organization with no active service: nothing.
    assert _table(report) == {
        "Appalachian Aid": ["1", "100.00", "1", "10.00", "3", "30.00", "0", "0.00", "140.00"],
        "Bluegrass Food Pantry": ["0", "0.00", "1", "10.00", "0", "0.00", "0", "0.00", "10.00"],
        "Total": ["1", "100.00", "2", "20.00", "3", "30.00", "0", "0.00", "150.00"],
    }
    assert report.total_cents == 150_00
    rows = list(csv.reader(io.StringIO(report.csv)))
    assert rows[1] == ["Month", "2026-10"]
    assert rows[2] == ["Clock", "America/New_York"]
    line = report.lines.get(name="Appalachian Aid")
    assert (line.address_1, line.address_2, line.city) == ("5 Oak Rd", "Suite 2", "Hazard")


def test_november_lists_the_changes_to_october_as_adjustments_and_pays_each_closing_once(world):
    october = incentive_report_make(month=OCTOBER, now=at(11, 1, 2))
    _november(world)
    november = incentive_report_make(month=NOVEMBER, now=at(12, 1, 2))
    # A: closings r3 (2 Nov) and r6 (23:30 Central on 31 Oct) 20, one assessment 10; r2 reopened and not
    #    closed again -10 (an adjustment); r3b, paid in October and closed again, nothing: 20.
    # C: corrected to not-for-profit: onboarding (3 October) 100 and r5 (18 October) 10, as adjustments.
    assert _table(november) == {
        "Appalachian Aid": ["0", "0.00", "1", "10.00", "2", "20.00", "1", "-10.00", "20.00"],
        "Cumberland Helpers": ["0", "0.00", "0", "0.00", "0", "0.00", "2", "110.00", "110.00"],
        "Total": ["0", "0.00", "1", "10.00", "2", "20.00", "3", "100.00", "130.00"],
    }
    whys = sorted((item.kind, item.why, item.amount_cents) for item in november.items.exclude(why="month"))
    assert whys == [
        ("closed_referral", "late", 10_00),
        ("closed_referral", "undone", -10_00),
        ("onboarding", "late", 100_00),
    ]
    assert "Adjustments" in november.csv
    assert "Paid before, no longer payable" in november.csv
    # Across both reports every subject nets to at most one payment.
    nets: dict[tuple[str, str], int] = {}
    for item in IncentiveItem.objects.all():
        nets[(item.kind, item.subject_id)] = nets.get((item.kind, item.subject_id), 0) + item.amount_cents
    assert set(nets.values()) <= {0, 10_00, 100_00}
    assert nets[("closed_referral", str(world["r3b"].pk))] == 10_00
    # October is settled: asked again, it is given back as it was made.
    again = incentive_report_make(month=OCTOBER, now=at(12, 2))
    assert again.pk == october.pk
    assert again.csv == october.csv


def test_remaking_the_latest_month_is_byte_for_byte_the_same_unless_the_data_changed(world):
    first = incentive_report_make(month=OCTOBER, now=at(11, 1, 2))
    made = first.csv
    second = incentive_report_make(month=OCTOBER, now=at(11, 1, 3))
    assert second.csv.encode() == made.encode()
    assert IncentiveReport.objects.count() == 1
    assert IncentiveItem.objects.count() == 6  # A: onboarding, an assessment, three closings; B: one
    # A late change while October is still the latest report: re-made, October changes.
    Organization.objects.filter(pk=world["c"].organization.pk).update(type=Organization.Type.NOT_FOR_PROFIT)
    third = incentive_report_make(month=OCTOBER, now=at(11, 1, 4))
    assert third.csv != made
    assert "Cumberland Helpers" in _table(third)


def test_a_month_not_over_a_later_month_reported_and_a_bad_month_are_refused(world):
    with pytest.raises(IncentiveReportError, match="not over yet"):
        incentive_report_make(month=NOVEMBER, now=at(11, 30, 23, 59))
    incentive_report_make(month=NOVEMBER, now=at(12, 1, 2))
    with pytest.raises(IncentiveReportError, match="later month is already reported"):
        incentive_report_make(month=OCTOBER, now=at(12, 1, 3))
    assert list(IncentiveReport.objects.values_list("month", flat=True)) == [NOVEMBER]
    for text in ("2026-13", "November", "2026-11-01", ""):
        with pytest.raises(IncentiveReportError, match="YYYY-MM"):
            month_parse(text)


def test_the_command_makes_a_month_and_prints_the_csv_path(world, settings, capsys):
    with time_machine.travel(at(11, 2), tick=False):
        call_command("incentive_report", "--month", "2026-10")
    path = Path(capsys.readouterr().out.strip())
    assert path == Path(settings.REPORTS_DIR) / "incentive-2026-10.csv"
    assert path.read_bytes() == IncentiveReport.objects.get(month=OCTOBER).csv.encode()
    with time_machine.travel(at(11, 2), tick=False), pytest.raises(CommandError, match="YYYY-MM"):
        call_command("incentive_report", "--month", "October")
    with time_machine.travel(at(11, 2), tick=False), pytest.raises(CommandError, match="not over yet"):
        call_command("incentive_report", "--month", "2026-11")


def test_the_job_on_the_first_makes_the_month_before_and_emails_the_referral_specialists(world, settings):
    specialist = member(None, Role.REFERRAL_SPECIALIST)
    member(None, Role.STATE_ADMIN)
    assert recurring.jobs()["reporting.incentive_monthly"].schedule.describe() == "monthly on day 1 at 02:00"
    with time_machine.travel(at(11, 1, 2), tick=False):
        incentive_report_monthly(period=NOVEMBER, due_at=at(11, 1, 2))
    report = IncentiveReport.objects.get()
    assert report.month == OCTOBER
    emails = OutboundMessage.objects.filter(template="reporting/incentive_ready")
    assert [email.recipient for email in emails] == [specialist.email]
    assert "2026-10" in emails[0].subject
    assert "/metrics/incentive/2026-10/" in emails[0].body
