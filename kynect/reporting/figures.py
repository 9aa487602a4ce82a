"""The figures of the kynect resources metrics (the resources overview, "kynect resources Metrics"; DESIGN
§5.7), for the statewide dashboard and for one organization's (the Partner Referral Dashboard). Each figure
is counted by the selectors of the app that owns it; this module only puts them into key figures and charts.

- Referrals Created and Closed: all time, and in the period.
- Resource Provision Metrics: the last 30 days, resource provided or not, and the top 3 reasons not provided.
- Community Partner Network: organizations onboarded (statewide only).
- SDoH by Referral Creation: the needs of the referrals made in the period.
- Social Drivers of Health Assessment Results: ratings given in the period, by domain.
- Top Creators and Top Closers (statewide only): the organizations that made and closed the most referrals.
- Assessment Counts: assessments completed in the period, by instrument, and all time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from kynect.accounts.selectors import organizations_named, organizations_onboarded_count
from kynect.assessments.models import Rating
from kynect.assessments.selectors import instruments_current
from kynect.core.charts import Chart, chart_build, charts_csv_rows, number, percent
from kynect.core.counting import Scope
from kynect.core.periods import Period, PeriodKey, period_named
from kynect.core.sdoh import SdohDomain
from kynect.referrals.models import ClosureReason
from kynect.reporting.counts import Counts

TOP_ORGANIZATIONS = 5
TOP_REASONS = 3


@dataclass(frozen=True)
class Metrics:
    key_figures: list[tuple[str, str]]  # (name, value), the headline numbers
    charts: list[Chart]


def metrics_build(*, scope: Scope, period: Period, now: datetime, statewide: bool) -> Metrics:
    """The key figures and charts for the scope and period (statewide: with the partner network and the
    top creators and closers)."""
    counts = Counts(scope=scope)
    tonight = period_named(key=PeriodKey.TODAY, now=now).end
    created_all = counts.total("created", since=None, until=tonight)
    created = counts.total("created", since=period.start, until=period.end)
    closed_all = counts.total("closed", since=None, until=tonight)
    closed = counts.total("closed", since=period.start, until=period.end)
    assessed = counts.rows("assessed", since=period.start, until=period.end, by="key")
    assessed_all = counts.total("assessed", since=None, until=tonight)
    key_figures = [
        (_("Referrals created, all time"), number(created_all)),
        (_("Referrals created in the period"), number(created)),
        (_("Referrals closed, all time"), number(closed_all)),
        (_("Referrals closed in the period"), number(closed)),
        (_("Assessments completed, all time"), number(assessed_all)),
        (_("Assessments completed in the period"), number(sum(assessed.values()))),
    ]
    if statewide:
        network = organizations_onboarded_count(organization_type=scope.organization_type)
        key_figures.append((_("Community Partner Network: organizations onboarded"), number(network)))

    charts = [
        chart_build(
            slug="referrals",
            title=_("Referrals created and closed"),
            summary=_("Created in the period: %(created)s. Closed in the period: %(closed)s.")
            % {"created": number(created), "closed": number(closed)},
            label_heading=_("Referrals"),
            value_heading=_("Number"),
            figures=[
                (_("Created, all time"), created_all, number(created_all)),
                (_("Created in the period"), created, number(created)),
                (_("Closed, all time"), closed_all, number(closed_all)),
                (_("Closed in the period"), closed, number(closed)),
            ],
        ),
        *_provision_charts(counts, now),
        _needs_chart(counts, period),
        _results_chart(counts, period),
    ]
    if statewide:
        charts += _top_charts(counts, period)
    titles = {instrument.code: str(instrument.parsed.title) for instrument in instruments_current()}
    charts.append(
        chart_build(
            slug="assessments",
            title=_("Assessment counts"),
            summary=_("Assessments completed in the period: %(count)s.")
            % {"count": number(sum(assessed.values()))},
            label_heading=_("Assessment"),
            value_heading=_("Completed"),
            figures=[
                (titles.get(code, code), value, number(value)) for code, value in sorted(assessed.items())
            ],
        )
    )
    return Metrics(key_figures=key_figures, charts=charts)


def _top(counted: dict[Any, int], limit: int) -> list[tuple[Any, int]]:
    """The largest counts, most first; ties in the order of their keys, so the order is stable."""
    return sorted(
        ((key, n) for key, n in counted.items() if key and n), key=lambda item: (-item[1], str(item[0]))
    )[:limit]


def _provision_charts(counts: Counts, now: datetime) -> list[Chart]:
    last_30 = period_named(key=PeriodKey.LAST_30_DAYS, now=now)
    provided = counts.total("provided", since=last_30.start, until=last_30.end)
    reasons = counts.rows("not_provided", since=last_30.start, until=last_30.end, by="key")
    not_provided = sum(reasons.values())
    top_reasons = _top(reasons, TOP_REASONS)
    total = provided + not_provided
    return [
        chart_build(
            slug="provision",
            title=_("Resource provision in the last 30 days"),
            summary=_("Resource provided: %(provided)s of %(total)s referrals closed with an outcome.")
            % {"provided": percent(provided / total if total else None), "total": number(total)},
            label_heading=_("Outcome"),
            value_heading=_("Referrals"),
            figures=[
                (_("Resource provided"), provided, number(provided)),
                (_("Resource not provided"), not_provided, number(not_provided)),
            ],
        ),
        chart_build(
            slug="not-provided",
            title=_("Not provided: top 3 reasons"),
            summary=(
                _("Most frequent: %(reason)s.") % {"reason": ClosureReason(top_reasons[0][0]).label}
                if top_reasons
                else _("No referral was closed as not provided in the last 30 days.")
            ),
            label_heading=_("Reason"),
            value_heading=_("Referrals"),
            figures=[(str(ClosureReason(code).label), value, number(value)) for code, value in top_reasons],
        ),
    ]


def _needs_chart(counts: Counts, period: Period) -> Chart:
    needs = counts.rows("created", since=period.start, until=period.end, by="key")
    ordered = sorted(
        ((need, n) for need, n in needs.items() if n),
        key=lambda item: (-item[1], SdohDomain.values.index(item[0])),
    )
    return chart_build(
        slug="needs",
        title=_("SDoH by referral creation"),
        summary=(
            _("Most frequent need: %(need)s.") % {"need": SdohDomain(ordered[0][0]).label}
            if ordered
            else _("No referral was made in the period.")
        ),
        label_heading=_("Need"),
        value_heading=_("Referrals"),
        figures=[(str(SdohDomain(code).label), value, number(value)) for code, value in ordered],
    )


def _results_chart(counts: Counts, period: Period) -> Chart:
    keyed = counts.rows("rated", since=period.start, until=period.end, by="key")
    ratings = {tuple(key.split(":", 1)): n for key, n in keyed.items()}
    figures = []
    for domain in SdohDomain:
        crisis = ratings.get((domain.value, Rating.IN_CRISIS), 0)
        vulnerable = ratings.get((domain.value, Rating.VULNERABLE), 0)
        stable = ratings.get((domain.value, Rating.STABLE), 0)
        if crisis + vulnerable + stable == 0:
            continue
        text = _("%(risk)s at risk (In-Crisis %(crisis)s, Vulnerable %(vulnerable)s; Stable %(stable)s)") % {
            "risk": number(crisis + vulnerable),
            "crisis": number(crisis),
            "vulnerable": number(vulnerable),
            "stable": number(stable),
        }
        figures.append((str(domain.label), crisis + vulnerable, text))
    return chart_build(
        slug="results",
        title=_("Social Drivers of Health assessment results"),
        summary=_("Ratings given in the period: %(count)s.") % {"count": number(sum(ratings.values()))},
        label_heading=_("Domain"),
        value_heading=_("Ratings"),
        figures=figures,
    )


def _top_charts(counts: Counts, period: Period) -> list[Chart]:
    creators = _top(
        counts.rows("created", since=period.start, until=period.end, by="organization"), TOP_ORGANIZATIONS
    )
    closings: dict[Any, int] = dict(
        counts.rows("provided", since=period.start, until=period.end, by="organization")
    )
    for organization, n in counts.rows(
        "not_provided", since=period.start, until=period.end, by="organization"
    ).items():
        closings[organization] = closings.get(organization, 0) + n
    closers = _top(closings, TOP_ORGANIZATIONS)
    names = organizations_named(organization_ids=[pk for pk, _n in creators + closers])
    return [
        chart_build(
            slug="creators",
            title=_("Top creators"),
            summary=_("The organizations that made the most referrals in the period."),
            label_heading=_("Organization"),
            value_heading=_("Referrals made"),
            figures=[(names[pk], value, number(value)) for pk, value in creators],
        ),
        chart_build(
            slug="closers",
            title=_("Top closers"),
            summary=_("The organizations that closed the most referrals with an outcome in the period."),
            label_heading=_("Organization"),
            value_heading=_("Referrals closed"),
            figures=[(names[pk], value, number(value)) for pk, value in closers],
        ),
    ]


def metrics_csv_rows(metrics: Metrics) -> list[list[str]]:
    """The figures as CSV rows, after a dashboard's own heading: the key figures, then every chart's."""
    rows = [[_("Figure"), _("Label"), _("Value")]]
    rows += [[_("Key figures"), name, value] for name, value in metrics.key_figures]
    return rows + charts_csv_rows(metrics.charts)
