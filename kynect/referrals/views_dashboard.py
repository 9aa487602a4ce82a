"""The Partner Referral Dashboard: one page per organization, for its members with referral roles and
for state administrators. Aggregates only: no resident's details are shown."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kynect.accounts.models import Organization, User
from kynect.accounts.selectors import is_state_admin
from kynect.core import clock
from kynect.core.charts import Chart, chart_build, number, percent
from kynect.core.counting import Scope
from kynect.core.forms import PeriodForm
from kynect.core.periods import Period, PeriodKey
from kynect.referrals.access import Action, Decision, decide, user_organization_ids
from kynect.referrals.models import ClosureReason, Referral
from kynect.referrals.selectors_dashboard import MAX_PERIOD_DAYS, DashboardFigures, dashboard_figures
from kynect.reporting.figures import metrics_build, metrics_csv_rows

PERIODS = (PeriodKey.LAST_30_DAYS, PeriodKey.MONTH, PeriodKey.YEAR, PeriodKey.RANGE)


def _member_organization_ids(user: User) -> set[Any]:
    if decide(user=user, action=Action.BOXES) != Decision.ALLOWED:
        return set()
    return user_organization_ids(user=user)


@login_required
@require_GET
def dashboard(request: HttpRequest, organization_id: Any = None) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if decide(user=user, action=Action.DASHBOARD) != Decision.ALLOWED:
        raise PermissionDenied
    mine = _member_organization_ids(user)
    state = is_state_admin(user=user)
    if organization_id is None:
        if mine:
            first = Organization.objects.filter(pk__in=mine).order_by("name").first()
            assert first is not None
            return redirect("referrals:dashboard_organization", organization_id=first.pk)
        if not state:
            raise PermissionDenied
        return render(
            request,
            "referrals/dashboard_choose.html",
            {"organizations": Organization.objects.order_by("name").only("pk", "name")},
        )
    organization = _organization(user, organization_id, mine, state)
    period, form = _period(request)
    now = clock.now()
    figures = dashboard_figures(organization_id=organization.pk, period=period, now=now)
    metrics = metrics_build(
        scope=Scope(organization_id=organization.pk), period=period, now=now, statewide=False
    )
    query = urlencode(
        {"period": PeriodKey.RANGE, "start": period.first.isoformat(), "end": period.last.isoformat()}
    )
    return render(
        request,
        "referrals/dashboard.html",
        {
            "organization": organization,
            "others": Organization.objects.filter(pk__in=mine).exclude(pk=organization.pk).order_by("name"),
            "form": form,
            "period": period,
            "figures": figures,
            "charts": _charts(figures),
            "rows": _rows(figures),
            "metrics": metrics,
            "csv_url": reverse("referrals:dashboard_csv", args=[organization.pk]) + "?" + query,
        },
        status=400 if form.errors else 200,
    )


def _organization(user: User, organization_id: Any, mine: set[Any], state: bool) -> Organization:
    if not state and organization_id not in mine:
        raise PermissionDenied
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise Http404
    return organization


def _period(request: HttpRequest) -> tuple[Period, PeriodForm]:
    """The period asked for (the last 30 days by default), and its form."""
    bound = any(name in request.GET for name in ("period", "start", "end"))
    form = PeriodForm(request.GET if bound else None, keys=PERIODS, max_days=MAX_PERIOD_DAYS)
    period = form.chosen_period(now=clock.now(), default=PeriodKey.LAST_30_DAYS)
    if not bound:
        form = PeriodForm(
            initial={"period": period.key, "start": period.first, "end": period.last},
            keys=PERIODS,
            max_days=MAX_PERIOD_DAYS,
        )
    return period, form


def _days(days: float | None) -> str:
    return "—" if days is None else _("%(days)s days") % {"days": number(days, 1)}


def _rows(figures: DashboardFigures) -> list[tuple[str, str]]:
    """Every figure as (name, value), for the summary and the CSV."""
    rows = [
        (_("Referrals created"), str(figures.created)),
        (_("Referrals received"), str(figures.received)),
        (_("Referrals received and closed"), str(figures.closed)),
        (_("Closure rate"), percent(figures.closure_rate)),
        (_("Median days to close"), _days(figures.median_days_to_close)),
        (_("Open more than 7 days (now)"), str(figures.open_over_7_days)),
    ]
    rows += [
        (_("Outcome: %(status)s") % {"status": Referral.Status(status).label}, str(count))
        for status, count in figures.outcomes.items()
    ]
    rows += [
        (_("Reason not provided: %(reason)s") % {"reason": ClosureReason(code).label}, str(count))
        for code, count in figures.top_reasons
    ]
    return rows


def _charts(figures: DashboardFigures) -> list[Chart]:
    count = _("Referrals")
    return [
        chart_build(
            slug="volume",
            title=_("Referrals created and received"),
            summary=_(
                "Closure rate: %(rate)s (%(closed)s of %(received)s received). "
                "Median days to close: %(median)s."
            )
            % {
                "rate": percent(figures.closure_rate),
                "closed": number(figures.closed),
                "received": number(figures.received),
                "median": _days(figures.median_days_to_close),
            },
            label_heading=_("Referrals"),
            value_heading=count,
            figures=[
                (_("Created"), figures.created, number(figures.created)),
                (_("Received"), figures.received, number(figures.received)),
                (_("Closed"), figures.closed, number(figures.closed)),
                (_("Open more than 7 days"), figures.open_over_7_days, number(figures.open_over_7_days)),
            ],
        ),
        chart_build(
            slug="outcomes",
            title=_("Outcomes of the referrals received"),
            summary=_("Closed referrals: %(count)s.") % {"count": number(sum(figures.outcomes.values()))},
            label_heading=_("Outcome"),
            value_heading=count,
            figures=[
                (str(Referral.Status(status).label), value, number(value))
                for status, value in figures.outcomes.items()
            ],
        ),
        chart_build(
            slug="reasons",
            title=_("Top reasons a resource was not provided"),
            summary=(
                _("Most frequent: %(reason)s.") % {"reason": ClosureReason(figures.top_reasons[0][0]).label}
                if figures.top_reasons
                else _("No referral was closed with a reason in the period.")
            ),
            label_heading=_("Reason"),
            value_heading=count,
            figures=[
                (str(ClosureReason(code).label), value, number(value)) for code, value in figures.top_reasons
            ],
        ),
    ]


@login_required
@require_GET
def dashboard_csv(request: HttpRequest, organization_id: Any) -> HttpResponse:
    """The dashboard's figures as CSV."""
    user: User = request.user  # type: ignore[assignment]
    organization = _organization(
        user, organization_id, _member_organization_ids(user), is_state_admin(user=user)
    )
    period, _form = _period(request)
    now = clock.now()
    figures = dashboard_figures(organization_id=organization.pk, period=period, now=now)
    metrics = metrics_build(
        scope=Scope(organization_id=organization.pk), period=period, now=now, statewide=False
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="referrals-{period.first.isoformat()}-{period.last.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([_("Organization"), organization.name])
    writer.writerow([_("Period"), period.first.isoformat(), period.last.isoformat()])
    writer.writerow([_("Figure"), _("Value")])
    for row in _rows(figures):
        writer.writerow(row)
    writer.writerow([])
    writer.writerows(metrics_csv_rows(metrics))
    return response
