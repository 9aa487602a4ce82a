"""The statewide metrics dashboard (public figures; state administrators also filter by county and
organization type) and the monthly incentive reports (state administrators and referral specialists).
Aggregates and organizations only: no resident's details are shown."""

from __future__ import annotations

import csv
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kynect.accounts.models import Organization, User
from kynect.accounts.selectors import (
    incentive_eligible_organizations,
    is_state_admin,
    user_sees_incentive_reports,
)
from kynect.core import clock
from kynect.core.counting import Scope
from kynect.core.geo import KENTUCKY_COUNTIES
from kynect.core.periods import Period, PeriodKey
from kynect.reporting.figures import Metrics, metrics_build, metrics_csv_rows
from kynect.reporting.forms import MetricsFilterForm
from kynect.reporting.incentive import AMOUNT_CENTS, incentive_csv
from kynect.reporting.models import IncentiveItem, IncentiveKind, IncentiveReport

PERIODS = (
    PeriodKey.YEAR,
    PeriodKey.MONTH,
    PeriodKey.LAST_30_DAYS,
    PeriodKey.WEEK,
    PeriodKey.TODAY,
    PeriodKey.RANGE,
)
MAX_PERIOD_DAYS = 3660
FILTER_FIELDS = ("period", "start", "end", "county", "organization_type")


def _filters(request: HttpRequest) -> tuple[MetricsFilterForm, Period, Scope, bool]:
    """The form, the period and the scope asked for; this year and the whole state by default."""
    user = request.user
    state = isinstance(user, User) and is_state_admin(user=user)
    bound = any(name in request.GET for name in FILTER_FIELDS)
    form = MetricsFilterForm(
        request.GET if bound else None, keys=PERIODS, max_days=MAX_PERIOD_DAYS, filters=state
    )
    period = form.chosen_period(now=clock.now(), default=PeriodKey.YEAR)
    scope = Scope()
    if state and bound and form.is_valid():
        scope = Scope(
            county_fips=form.cleaned_data.get("county") or "",
            organization_type=form.cleaned_data.get("organization_type") or "",
        )
    if not bound:
        form = MetricsFilterForm(
            initial={"period": period.key, "start": period.first, "end": period.last},
            keys=PERIODS,
            max_days=MAX_PERIOD_DAYS,
            filters=state,
        )
    return form, period, scope, state


def _scope_named(scope: Scope) -> list[str]:
    named = []
    if scope.county_fips:
        named += [county.label for county in KENTUCKY_COUNTIES if county.fips == scope.county_fips]
    if scope.organization_type:
        named.append(str(Organization.Type(scope.organization_type).label))
    return named


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    form, period, scope, state = _filters(request)
    figures = metrics_build(scope=scope, period=period, now=clock.now(), statewide=True)
    query = {"period": PeriodKey.RANGE, "start": period.first.isoformat(), "end": period.last.isoformat()}
    if scope.county_fips:
        query["county"] = scope.county_fips
    if scope.organization_type:
        query["organization_type"] = scope.organization_type
    return render(
        request,
        "reporting/metrics.html",
        {
            "form": form,
            "period": period,
            "figures": figures,
            "scope_named": _scope_named(scope),
            "state": state,
            "csv_url": reverse("reporting:metrics_csv") + "?" + urlencode(query),
            "sees_incentive": isinstance(request.user, User)
            and user_sees_incentive_reports(user=request.user),
        },
        status=400 if form.errors else 200,
    )


def metrics_csv_response(*, filename: str, heading: list[list[str]], figures: Metrics) -> HttpResponse:
    """The figures of a dashboard as CSV: its heading rows, the key figures, then every chart's figures."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerows(heading)
    writer.writerows(metrics_csv_rows(figures))
    return response


@require_GET
def metrics_csv(request: HttpRequest) -> HttpResponse:
    form, period, scope, _state = _filters(request)
    if form.errors:
        return metrics(request)
    figures = metrics_build(scope=scope, period=period, now=clock.now(), statewide=True)
    heading = [
        [_("kynect resources metrics")],
        [_("Period"), period.first.isoformat(), period.last.isoformat()],
        [_("Clock"), "America/New_York"],
        [_("Narrowed to"), "; ".join(_scope_named(scope)) or _("All of Kentucky")],
    ]
    return metrics_csv_response(
        filename=f"kynect-metrics-{period.first.isoformat()}-{period.last.isoformat()}.csv",
        heading=heading,
        figures=figures,
    )


def _incentive_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user_sees_incentive_reports(user=user):
        raise PermissionDenied
    return user


@login_required
@require_GET
def incentive_reports(request: HttpRequest) -> HttpResponse:
    _incentive_user(request)
    return render(
        request,
        "reporting/incentive_list.html",
        {
            "reports": IncentiveReport.objects.only("month", "total_cents", "made_at"),
            "eligible": incentive_eligible_organizations()
            .order_by("name")
            .only("name", "city", "onboarded_at"),
            "amounts": AMOUNT_CENTS,
        },
    )


def _report(month: str) -> IncentiveReport:
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Http404 from None
    report = IncentiveReport.objects.filter(month=first).first()
    if report is None:
        raise Http404
    return report


@login_required
@require_GET
def incentive_report(request: HttpRequest, month: str) -> HttpResponse:
    _incentive_user(request)
    report = _report(month)
    adjustments = list(
        report.items.exclude(why=IncentiveItem.Why.MONTH)
        .select_related("organization")
        .order_by("organization__name", "kind", "subject_id")
    )
    return render(
        request,
        "reporting/incentive_report.html",
        {
            "report": report,
            "lines": list(report.lines.all()),
            "adjustments": adjustments,
            "kinds": dict(IncentiveKind.choices),
            "amounts": AMOUNT_CENTS,
        },
    )


@login_required
@require_GET
def incentive_report_csv(request: HttpRequest, month: str) -> HttpResponse:
    _incentive_user(request)
    report = _report(month)
    response = HttpResponse(incentive_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incentive-{report.month:%Y-%m}.csv"'
    return response
