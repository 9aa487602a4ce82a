"""The monthly Community Partner Incentive report (the resources overview, "Community Partner Incentive
Initiative"; DESIGN §5.7; ADR 0043).

"$100 for Organization Onboarding, $10 for Completed Assessment, $10 for Closed Referral", paid monthly to
the organizations on the incentive list (`accounts.selectors.incentive_eligible_organizations`). On the 1st
of each month a recurring job makes the report of the month before; United Way's referral specialists are
emailed that it is ready. `manage.py incentive_report --month YYYY-MM` makes or re-makes a month.

How a month is made. Each payable event has a subject: the organization's onboarding, an assessment, a
referral's closing with an outcome. The reports so far form a ledger (`IncentiveItem`) in which a subject
nets to at most one payment. Making month M compares what the data says is payable at the end of M with what
the reports before M paid:

- payable and not paid: paid now, as the month's activity when it happened in M, otherwise as an adjustment
  ("earlier activity not paid before": a closing recorded late, an organization that joined the list);
- paid and no longer payable (a referral reopened and not closed again): taken back, as an adjustment;
- paid and still payable: nothing, so a referral closed, reopened and closed again pays once.

An organization that leaves the list keeps what it was paid; it is paid nothing more. Activity from before
the first report ever made is not paid: the initiative starts with its first report.

Re-making the latest month recomputes it against the months before, so it is the same report, byte for byte,
unless the data changed. A month followed by a later report is settled: re-making it gives it back as it was
made, and what changed since is an adjustment on the next report.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kynect.accounts.models import Organization
from kynect.accounts.selectors import (
    incentive_eligible_organizations,
    incentive_report_recipients,
    organizations_in,
)
from kynect.assessments.selectors import assessment_completions
from kynect.core import clock, recurring
from kynect.core.periods import KENTUCKY, KENTUCKY_CLOCK_NAME, month_before, month_period
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import MessageSpec, messages_queue
from kynect.referrals.selectors_metrics import referral_closings
from kynect.reporting.models import IncentiveItem, IncentiveKind, IncentiveLine, IncentiveReport

logger = logging.getLogger(__name__)

# The resources overview, "Incentive Amounts".
AMOUNT_CENTS = {
    IncentiveKind.ONBOARDING: 100_00,
    IncentiveKind.ASSESSMENT: 10_00,
    IncentiveKind.CLOSED_REFERRAL: 10_00,
}
READY_TEMPLATE = "reporting/incentive_ready"


class IncentiveReportError(Exception):
    """A month that cannot be made: the message says why, and nothing was changed."""


@dataclass(frozen=True)
class Event:
    kind: str
    subject_id: str
    organization_id: Any
    at: datetime


def _events(
    organizations: list[Organization], since: datetime, until: datetime
) -> dict[tuple[str, str], Event]:
    """The payable events of these organizations in [since, until), by (kind, subject). Everything paid
    happened after `since` (the initiative's start), so nothing older needs reading."""
    events: dict[tuple[str, str], Event] = {}
    for organization in organizations:
        if organization.onboarded_at is not None and since <= organization.onboarded_at < until:
            key = (IncentiveKind.ONBOARDING.value, str(organization.pk))
            events[key] = Event(key[0], key[1], organization.pk, organization.onboarded_at)
    ids = [organization.pk for organization in organizations]
    for pk, organization_id, at in assessment_completions(organization_ids=ids, since=since, until=until):
        key = (IncentiveKind.ASSESSMENT.value, str(pk))
        events[key] = Event(key[0], key[1], organization_id, at)
    for pk, organization_id, at in referral_closings(organization_ids=ids, since=since, until=until):
        key = (IncentiveKind.CLOSED_REFERRAL.value, str(pk))
        events[key] = Event(key[0], key[1], organization_id, at)
    return events


def _paid_before(month: date) -> dict[tuple[str, str], Any]:
    """The subjects the reports before `month` paid (net), with the organization paid."""
    rows = (
        IncentiveItem.objects.filter(report__month__lt=month)
        .values("kind", "subject_id", "organization_id")
        .annotate(net=Sum("amount_cents"))
        .order_by()
        .values_list("kind", "subject_id", "organization_id", "net")
    )
    return {(kind, subject): organization for kind, subject, organization, net in rows if net > 0}


def month_parse(text: str) -> date:
    """'YYYY-MM' as the month's first day; a clear error otherwise."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        raise IncentiveReportError(_("Give the month as YYYY-MM, for example 2026-11.")) from None


def incentive_report_make(*, month: date, now: datetime | None = None) -> IncentiveReport:
    """Make (or re-make) the report of `month` (its first day). See the module's notes."""
    now = now or clock.now()
    month = month.replace(day=1)
    period = month_period(year=month.year, month=month.month)
    if period.end > now:
        raise IncentiveReportError(
            _("%(month)s is not over yet: a month is reported once it has ended.")
            % {"month": f"{month:%Y-%m}"}
        )
    with transaction.atomic():
        # One maker at a time: the reports' rows are the ledger each month reads.
        list(IncentiveReport.objects.select_for_update().order_by("month").values_list("pk", flat=True))
        existing = IncentiveReport.objects.filter(month=month).first()
        if IncentiveReport.objects.filter(month__gt=month).exists():
            if existing is not None:
                return existing
            raise IncentiveReportError(
                _("A later month is already reported: %(month)s can no longer be made.")
                % {"month": f"{month:%Y-%m}"}
            )
        if existing is not None:
            existing.delete()
        first = IncentiveReport.objects.order_by("month").values_list("month", flat=True).first()
        since = month_period(year=(first or month).year, month=(first or month).month).start
        paid = _paid_before(month)
        eligible = list(incentive_eligible_organizations())
        eligible_ids = {organization.pk for organization in eligible}
        paid_only = list(organizations_in(organization_ids=set(paid.values()) - eligible_ids).values())
        holding = _events(eligible + paid_only, since=since, until=period.end)

        items: list[IncentiveItem] = []
        for key, event in holding.items():
            if event.organization_id not in eligible_ids or key in paid:
                continue
            why = IncentiveItem.Why.MONTH if event.at >= period.start else IncentiveItem.Why.LATE
            items.append(_item(event.kind, event.subject_id, event.organization_id, event.at, why, +1))
        for key, organization_id in paid.items():
            if key not in holding:
                items.append(_item(key[0], key[1], organization_id, None, IncentiveItem.Why.UNDONE, -1))
        items.sort(key=lambda item: (item.kind, item.subject_id))

        report = IncentiveReport.objects.create(
            month=month, made_at=now, csv="", total_cents=sum(item.amount_cents for item in items)
        )
        for item in items:
            item.report = report
        IncentiveItem.objects.bulk_create(items)
        IncentiveLine.objects.bulk_create(_lines(report, items))
        with translation.override("en"):
            report.csv = incentive_csv(report)
        report.save(update_fields=["csv"])
    logger.info("incentive report made", extra={"month": f"{month:%Y-%m}", "items": len(items)})
    return report


def _item(
    kind: str, subject_id: str, organization_id: Any, at: datetime | None, why: str, sign: int
) -> IncentiveItem:
    return IncentiveItem(
        organization_id=organization_id,
        kind=kind,
        subject_id=subject_id,
        event_at=at,
        why=why,
        amount_cents=sign * AMOUNT_CENTS[IncentiveKind(kind)],
    )


def _lines(report: IncentiveReport, items: list[IncentiveItem]) -> list[IncentiveLine]:
    organizations = organizations_in(organization_ids={item.organization_id for item in items})
    lines: dict[Any, IncentiveLine] = {}
    for item in items:
        organization = organizations[item.organization_id]
        line = lines.get(organization.pk)
        if line is None:
            line = lines[organization.pk] = IncentiveLine(
                report=report,
                organization=organization,
                name=organization.name,
                address_1=organization.address_1,
                address_2=organization.address_2,
                city=organization.city,
                state_province=organization.state_province,
                postal_code=organization.postal_code,
            )
        if item.why == IncentiveItem.Why.MONTH:
            field = {
                IncentiveKind.ONBOARDING: "onboardings",
                IncentiveKind.ASSESSMENT: "assessments",
                IncentiveKind.CLOSED_REFERRAL: "closed_referrals",
            }[IncentiveKind(item.kind)]
            setattr(line, field, getattr(line, field) + 1)
        else:
            line.adjustments += 1
            line.adjustments_cents += item.amount_cents
        line.total_cents += item.amount_cents
    return sorted(lines.values(), key=lambda line: (line.name, str(line.organization_id)))


def dollars(cents: int) -> str:
    """Cents as a plain amount for a CSV: 1230.00, -10.00."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def incentive_csv(report: IncentiveReport) -> str:
    """The report as CSV, in the active language; the same report gives the same bytes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    lines = list(report.lines.order_by("name", "organization_id"))
    writer.writerow([_("kynect resources Community Partner Incentive report")])
    writer.writerow([_("Month"), f"{report.month:%Y-%m}"])
    writer.writerow([_("Clock"), KENTUCKY_CLOCK_NAME])
    writer.writerow(
        [
            _("Amounts"),
            _("$100 for Organization Onboarding; $10 for Completed Assessment; $10 for Closed Referral"),
        ]
    )
    writer.writerow([])
    writer.writerow(
        [
            _("Organization"),
            _("Mailing address"),
            _("Address line 2"),
            _("City"),
            _("State"),
            _("ZIP code"),
            _("Onboarding"),
            _("Onboarding amount"),
            _("Completed assessments"),
            _("Completed assessments amount"),
            _("Closed referrals"),
            _("Closed referrals amount"),
            _("Adjustments"),
            _("Adjustments amount"),
            _("Total"),
        ]
    )
    for line in lines:
        writer.writerow(
            [
                line.name,
                line.address_1,
                line.address_2,
                line.city,
                line.state_province,
                line.postal_code,
                line.onboardings,
                dollars(line.onboardings * AMOUNT_CENTS[IncentiveKind.ONBOARDING]),
                line.assessments,
                dollars(line.assessments * AMOUNT_CENTS[IncentiveKind.ASSESSMENT]),
                line.closed_referrals,
                dollars(line.closed_referrals * AMOUNT_CENTS[IncentiveKind.CLOSED_REFERRAL]),
                line.adjustments,
                dollars(line.adjustments_cents),
                dollars(line.total_cents),
            ]
        )
    writer.writerow([_("Total"), "", "", "", "", "", *_column_totals(lines), dollars(report.total_cents)])
    adjustments = list(report.items.exclude(why=IncentiveItem.Why.MONTH).select_related("organization"))
    writer.writerow([])
    writer.writerow([_("Adjustments")])
    writer.writerow(
        [_("Organization"), _("Activity"), _("Reference"), _("Activity date"), _("Why"), _("Amount")]
    )
    for item in sorted(adjustments, key=lambda item: (item.organization.name, item.kind, item.subject_id)):
        writer.writerow(
            [
                item.organization.name,
                IncentiveKind(item.kind).label,
                item.subject_id,
                f"{item.event_at.astimezone(KENTUCKY):%Y-%m-%d}" if item.event_at else "",
                IncentiveItem.Why(item.why).label,
                dollars(item.amount_cents),
            ]
        )
    return out.getvalue()


def _column_totals(lines: list[IncentiveLine]) -> list[Any]:
    onboardings = sum(line.onboardings for line in lines)
    assessments = sum(line.assessments for line in lines)
    closed = sum(line.closed_referrals for line in lines)
    return [
        onboardings,
        dollars(onboardings * AMOUNT_CENTS[IncentiveKind.ONBOARDING]),
        assessments,
        dollars(assessments * AMOUNT_CENTS[IncentiveKind.ASSESSMENT]),
        closed,
        dollars(closed * AMOUNT_CENTS[IncentiveKind.CLOSED_REFERRAL]),
        sum(line.adjustments for line in lines),
        dollars(sum(line.adjustments_cents for line in lines)),
    ]


def incentive_report_file(report: IncentiveReport) -> Path:
    """Write the report's CSV (as made, in English) to `REPORTS_DIR` and give its path. The file is written
    whole under another name and then renamed, so a reader never sees half of it."""
    directory = Path(settings.REPORTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"incentive-{report.month:%Y-%m}.csv"
    partial = path.with_suffix(".csv.partial")
    partial.write_bytes(report.csv.encode("utf-8"))
    os.replace(partial, path)
    return path


def incentive_ready_notify(*, report: IncentiveReport) -> None:
    """Email United Way's referral specialists that the month's report is ready, with a link to it."""
    specs = []
    for user in incentive_report_recipients():
        language = user.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            link = settings.SITE_URL + reverse("reporting:incentive_report", args=[f"{report.month:%Y-%m}"])
        specs.append(
            MessageSpec(
                OutboundMessage.Channel.EMAIL,
                user.email,
                READY_TEMPLATE,
                {"month": f"{report.month:%Y-%m}", "link": link},
                language,
            )
        )
    messages_queue(specs)


@recurring.register(
    "reporting.incentive_monthly",
    schedule=recurring.monthly(day=1, at=time(2, 0)),
    time_zone=KENTUCKY_CLOCK_NAME,
    catch_up=recurring.CatchUp.EVERY_PERIOD,
)
def incentive_report_monthly(*, period: date, due_at: datetime) -> None:
    """On the 1st: the report of the month before, and the email that it is ready (sent on commit)."""
    report = incentive_report_make(month=month_before(period), now=due_at)
    incentive_ready_notify(report=report)
    transaction.on_commit(lambda: incentive_report_file(report))
