"""The metrics dashboards on a fixed data set, with the figures worked out by hand: the statewide page
(public, and state administrators' filters), its CSV, the Partner Referral Dashboard's share of the same
figures, and who may see the incentive reports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client

from kynect.accounts.models import Organization, Role
from kynect.assessments.models import Assessment, RiskRating
from kynect.assessments.selectors import instrument_by_code
from kynect.core import recurring
from kynect.core.counting import Scope
from kynect.core.periods import period_between
from kynect.referrals.access import Action
from kynect.referrals.models import Referral
from kynect.referrals.services import Closure, referral_act
from kynect.referrals.tests.factories import member, partner, referral, resident_input
from kynect.reporting.counts import Counts, metrics_recount, metrics_recount_nightly
from kynect.reporting.figures import metrics_build
from kynect.reporting.incentive import incentive_report_make
from kynect.reporting.models import CountRun, MonthlyCount, StaleMonth

pytestmark = pytest.mark.django_db

EASTERN = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=EASTERN)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=EASTERN)


@pytest.fixture
def world() -> dict[str, Any]:
    return metrics_world()


def metrics_world() -> dict[str, Any]:
    """Referrals from a hospital and a state agency to two not-for-profits; residents in Franklin (21073)
    and Fayette (21067) counties."""
    with time_machine.travel(at(1, 5, 2025), tick=False):
        hospital = partner(type=Organization.Type.HOSPITAL, name="Norton Hospital")
        dcbs = partner(type=Organization.Type.STATE_AGENCY, name="DCBS")
        pantry = partner(name="Lake Cumberland Community Action")
        shelter = partner(name="Louisville Metro Resilience")
    franklin = resident_input()  # ZIP 40601: Franklin County
    fayette = resident_input(first_name="Bo", last_name="Lee", postal_code="40507", mobile_phone="5025550100")
    with time_machine.travel(at(6, 1, 2025), tick=False):
        old = referral(hospital, pantry, need="food", resident=franklin)  # last year
    with time_machine.travel(at(3, 2), tick=False):
        made = [
            referral(hospital, pantry, need="food", resident=franklin),
            referral(hospital, pantry, need="housing", resident=fayette),
            referral(hospital, shelter, need="housing", resident=franklin),
            referral(dcbs, shelter, need="housing", resident=fayette),
            referral(dcbs, pantry, need="income", resident=franklin),
        ]
    closings = [
        (pantry, old, at(6, 3, 2025), True, ""),
        (pantry, made[0], at(11, 1), True, ""),
        (pantry, made[1], at(11, 2), False, "unreachable"),
        (shelter, made[2], at(11, 3), False, "unreachable"),
        (shelter, made[3], at(11, 4), False, "helped_by_other_org"),
        (pantry, made[4], at(3, 10), True, ""),  # more than 30 days before NOW
    ]
    for receiver, row, moment, provided, reason in closings:
        with time_machine.travel(moment, tick=False):
            referral_act(
                actor=receiver.user,
                referral_id=row.pk,
                action=Action.CLOSE,
                closure=Closure(experience="up", resource_provided=provided, reason=reason),
            )
    instrument = instrument_by_code("kynect-sdoh")
    assert instrument is not None
    resident = made[0].resident
    for organization, moment in ((pantry.organization, at(4, 1)), (pantry.organization, at(5, 1))):
        Assessment.objects.create(
            resident=resident,
            instrument=instrument,
            organization=organization,
            taken_by=pantry.user,
            status=Assessment.Status.COMPLETED,
            completed_at=moment,
        )
    for domain, rating in (("housing", "in_crisis"), ("housing", "vulnerable"), ("food", "stable")):
        RiskRating.objects.create(
            resident=resident,
            domain=domain,
            rating=rating,
            source="assessment",
            rated_at=at(5, 1),
            organization=pantry.organization,
        )
    return {"hospital": hospital, "dcbs": dcbs, "pantry": pantry, "shelter": shelter}


def _charts(metrics: Any) -> dict[str, list[tuple[str, str]]]:
    return {chart.slug: [(bar.label, bar.text) for bar in chart.bars] for chart in metrics.charts}


YEAR_2026 = period_between(first=date(2026, 1, 1), last=date(2026, 11, 20))


def test_the_statewide_figures(world):
    metrics = metrics_build(scope=Scope(), period=YEAR_2026, now=NOW, statewide=True)
    assert dict(metrics.key_figures) == {
        "Referrals created, all time": "6",
        "Referrals created in the period": "5",
        "Referrals closed, all time": "6",
        "Referrals closed in the period": "5",
        "Assessments completed, all time": "2",
        "Assessments completed in the period": "2",
        "Community Partner Network: organizations onboarded": "4",
    }
    charts = _charts(metrics)
    # Last 30 days (21 October to 20 November): four closings, one provided; the March one is left out.
    assert charts["provision"] == [("Resource provided", "1"), ("Resource not provided", "3")]
    assert charts["not-provided"] == [
        ("Unable to reach client", "2"),
        ("Yes, resident got help from another organization", "1"),
    ]
    assert charts["needs"] == [("Housing", "3"), ("Food", "1"), ("Income", "1")]
    assert charts["creators"] == [("Norton Hospital", "3"), ("DCBS", "2")]
    assert charts["closers"] == [
        ("Lake Cumberland Community Action", "3"),
        ("Louisville Metro Resilience", "2"),
    ]
    assert charts["results"] == [
        ("Food", "0 at risk (In-Crisis 0, Vulnerable 0; Stable 1)"),
        ("Housing", "2 at risk (In-Crisis 1, Vulnerable 1; Stable 0)"),
    ]
    assert charts["assessments"] == [("kynect SDoH assessment", "2")]


def test_the_filters_narrow_by_the_residents_county_and_the_credited_organizations_type(world):
    fayette = metrics_build(scope=Scope(county_fips="21067"), period=YEAR_2026, now=NOW, statewide=True)
    assert dict(fayette.key_figures)["Referrals created in the period"] == "2"
    assert _charts(fayette)["needs"] == [("Housing", "2")]
    agencies = metrics_build(
        scope=Scope(organization_type=Organization.Type.STATE_AGENCY),
        period=YEAR_2026,
        now=NOW,
        statewide=True,
    )
    assert dict(agencies.key_figures)["Referrals created in the period"] == "2"
    # Closings are credited to the receivers, not-for-profits: none for state agencies.
    assert dict(agencies.key_figures)["Referrals closed in the period"] == "0"
    assert dict(agencies.key_figures)["Community Partner Network: organizations onboarded"] == "1"


def test_the_partner_dashboard_shows_the_same_figures_for_its_organization(world):
    pantry = world["pantry"]
    client = Client()
    client.force_login(pantry.user)
    with time_machine.travel(NOW, tick=False):
        page = client.get(
            f"/referrals/dashboard/{pantry.organization.pk}/",
            {"period": "range", "start": "2026-01-01", "end": "2026-11-20"},
        )
        assert page.status_code == 200
        metrics = page.context["metrics"]
        assert dict(metrics.key_figures)["Referrals closed in the period"] == "3"
        assert dict(metrics.key_figures)["Assessments completed in the period"] == "2"
        assert "creators" not in _charts(metrics)
        assert "Community Partner Network: organizations onboarded" not in dict(metrics.key_figures)
        text = page.content.decode()
        assert "kynect resources metrics for this organization" in text
        assert 'id="chart-provision"' in text
        download = client.get(
            f"/referrals/dashboard/{pantry.organization.pk}/figures.csv",
            {"period": "range", "start": "2026-01-01", "end": "2026-11-20"},
        )
        rows = list(csv.reader(io.StringIO(download.content.decode())))
        assert ["Key figures", "Referrals closed in the period", "3"] in rows


def test_the_public_page_has_no_filters_and_state_administrators_have_them(world):
    with time_machine.travel(NOW, tick=False):
        public = Client().get("/metrics/", {"county": "21067"})
        assert public.status_code == 200
        assert "county" not in public.context["form"].fields
        assert dict(public.context["figures"].key_figures)["Referrals created in the period"] == "5"
        spanish = Client().get("/es/metrics/")
        assert "Métricas de kynect resources" in spanish.content.decode()
        admin = Client()
        admin.force_login(member(None, Role.STATE_ADMIN))
        narrowed = admin.get("/metrics/", {"period": "year", "county": "21067"})
        assert dict(narrowed.context["figures"].key_figures)["Referrals created in the period"] == "2"
        assert "Fayette County" in narrowed.content.decode()
        download = admin.get("/metrics/figures.csv", {"period": "year", "county": "21067"})
        rows = list(csv.reader(io.StringIO(download.content.decode())))
        assert ["Narrowed to", "Fayette County"] in rows
        assert ["SDoH by referral creation", "Housing", "2"] in rows
        bad = admin.get("/metrics/", {"start": "2026-11-20", "end": "2026-01-01"})
        assert bad.status_code == 400
        assert "must not be before its start" in bad.content.decode()
        assert admin.get("/metrics/figures.csv", {"start": "nonsense"}).status_code == 400


def test_incentive_reports_are_for_state_administrators_and_referral_specialists(world):
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=EASTERN), tick=False):
        incentive_report_make(month=date(2026, 11, 1))
        partner_user = Client()
        partner_user.force_login(world["pantry"].user)
        assert partner_user.get("/metrics/incentive/").status_code == 403
        assert partner_user.get("/metrics/incentive/2026-11.csv").status_code == 403
        assert Client().get("/metrics/incentive/").status_code == 302  # sign in first
        specialist = Client()
        specialist.force_login(member(None, Role.REFERRAL_SPECIALIST))
        listing = specialist.get("/metrics/incentive/")
        assert listing.status_code == 200
        assert "Lake Cumberland Community Action" in listing.content.decode()  # on the incentive list
        assert "Norton Hospital" not in listing.content.decode()
        report = specialist.get("/metrics/incentive/2026-11/")
        assert report.status_code == 200
        # November: the pantry closed two referrals (1 and 2 November), the shelter two (3 and 4).
        assert [(line.name, line.closed_referrals, line.total_cents) for line in report.context["lines"]] == [
            ("Lake Cumberland Community Action", 2, 20_00),
            ("Louisville Metro Resilience", 2, 20_00),
        ]
        download = specialist.get("/metrics/incentive/2026-11.csv")
        assert download["Content-Disposition"] == 'attachment; filename="incentive-2026-11.csv"'
        assert download.content.decode().startswith("kynect resources Community Partner Incentive report")
        spanish = specialist.get("/es/metrics/incentive/2026-11.csv")
        assert spanish.content.decode().startswith("Informe de incentivos")
        assert specialist.get("/metrics/incentive/2026-10/").status_code == 404
        assert specialist.get("/metrics/incentive/2026-99/").status_code == 404


# --- The monthly summary gives the figures counting live gives -------------------------------------------


SCOPES = [
    Scope(),
    Scope(county_fips="21067"),
    Scope(organization_type=Organization.Type.NOT_FOR_PROFIT),
    Scope(organization_type=Organization.Type.HOSPITAL),
    Scope(county_fips="21073", organization_type=Organization.Type.STATE_AGENCY),
]
PERIODS = [
    YEAR_2026,
    period_between(first=date(2025, 1, 1), last=date(2026, 11, 20)),
    period_between(first=date(2026, 3, 5), last=date(2026, 11, 2)),  # partial months at both ends
]


ORGANIZATION = {"id": None}  # the pantry's, set by the test: its own dashboard's figures


def _everything() -> list[Any]:
    scopes = [*SCOPES, Scope(organization_id=ORGANIZATION["id"])]
    return [
        (
            metrics.key_figures,
            [(chart.slug, [(bar.label, bar.text) for bar in chart.bars]) for chart in metrics.charts],
        )
        for scope in scopes
        for period in PERIODS
        for metrics in [
            metrics_build(scope=scope, period=period, now=NOW, statewide=scope.organization_id is None)
        ]
    ]


def _live() -> list[Any]:
    """The figures counted live, the summary left as it is."""
    saved = list(CountRun.objects.all())
    CountRun.objects.all().delete()
    figures = _everything()
    CountRun.objects.bulk_create(saved)
    return figures


def test_the_summary_gives_what_counting_live_gives_and_stays_exact_after_changes(world):
    ORGANIZATION["id"] = world["pantry"].organization.pk
    live = _everything()
    run = metrics_recount(now=NOW)
    assert (run.first_month, run.last_month) == (date(2025, 6, 1), date(2026, 10, 1))  # the first referral
    assert (
        MonthlyCount.objects.filter(cut="organization", measure="created").aggregate(Sum("n"))["n__sum"] == 6
    )
    assert _everything() == live
    # The summary is read: this year's figures for the whole state are mostly its rows.
    counted = Counts(scope=Scope())
    months, windows = counted._split(YEAR_2026.start, YEAR_2026.end)
    assert months == [date(2026, month, 1) for month in range(1, 11)]
    assert windows == [(datetime(2026, 11, 1, tzinfo=EASTERN), YEAR_2026.end)]

    # A referral closed in March is reopened: March is counted live until the next counting.
    pantry = world["pantry"]
    march = Referral.objects.get(closed_at__month=3)
    with time_machine.travel(NOW, tick=False):
        referral_act(actor=pantry.user, referral_id=march.pk, action=Action.REOPEN, reason="Closed in error")
    assert list(StaleMonth.objects.values_list("month", flat=True)) == [date(2026, 3, 1)]
    after = _everything()
    assert after == _live()
    assert after != live
    assert dict(after[0][0])["Referrals closed in the period"] == "4"

    # An organization's type corrected: figures for a type stay exact.
    Organization.objects.filter(pk=world["dcbs"].organization.pk).update(
        type=Organization.Type.NOT_FOR_PROFIT
    )
    assert _everything() == _live()
    # The next counting takes both changes in and reads the summary again.
    metrics_recount(now=NOW)
    assert not StaleMonth.objects.exists()
    assert _everything() == _live()


def test_the_months_are_counted_every_night_and_by_command(world, capsys):
    job = recurring.jobs()["reporting.metrics_recount"]
    assert job.schedule.describe() == "daily at 01:30"
    with time_machine.travel(NOW, tick=False):
        call_command("metrics_recount")
    assert capsys.readouterr().out.startswith("counted 2025-06 to 2026-10: ")
    first = CountRun.objects.get()
    with time_machine.travel(NOW, tick=False):
        metrics_recount_nightly(period=NOW.date(), due_at=NOW)
    assert CountRun.objects.get().pk != first.pk  # the latest counting replaces the one before
    # Counting again gives the same rows.
    assert MonthlyCount.objects.filter(cut="county", measure="created").aggregate(Sum("n"))["n__sum"] == 6
