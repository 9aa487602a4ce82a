"""Oversight pages (DESIGN §5.4, §5.7): agency admins' and state administrators' view of helpers and open
requests, with reassignment, and the state On Demand dashboard (state administrators only).

Lists show a request's ZIP code, city, county, program, language, status and times, never the
requester's name or contact details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.core.audit import audited_read
from kynect.core.charts import Chart, chart_build, number, percent
from kynect.core.geo import KENTUCKY_COUNTIES
from kynect.core.periods import Period, PeriodKey, period_named
from kynect.ondemand.confirmation import ZONE_NAMES
from kynect.ondemand.forms_oversight import ReassignForm
from kynect.ondemand.models import Helper, HelpRequest, Language, RequestedProgram
from kynect.ondemand.selectors_oversight import (
    ESCALATED,
    OversightScope,
    call_backs,
    deregistrations_by_day,
    help_request_for_reassign,
    help_requests_overseen,
    helper_ids_available_now,
    helpers_available_now,
    helpers_overseen,
    median_times,
    missed_offers,
    oversight_agency_choices,
    oversight_scope,
    reassign_candidates,
    requests_by_status,
)
from kynect.ondemand.services.help_requests import can_reassign, help_request_reassign
from kynect.ondemand.views_common import form_errors_add

PAGE_SIZE = 50
ESCALATED_LIMIT = 200  # escalations are exceptions; more than this and the list says so
CANDIDATE_LIMIT = 500


def _scope(request: HttpRequest) -> tuple[User, OversightScope]:
    user = request.user
    scope = oversight_scope(user=user) if isinstance(user, User) else None
    if scope is None:
        raise PermissionDenied
    assert isinstance(user, User)
    return user, scope


@dataclass(frozen=True)
class LocalTime:
    iso: str
    text: str


def _local(at: datetime | None, time_zone: str) -> LocalTime | None:
    """A time on the request's own Kentucky wall clock, like 'Nov. 24, 10:00 a.m.'; Central time says so
    (the page says that other times are Eastern)."""
    if at is None:
        return None
    local = at.astimezone(ZoneInfo(time_zone))
    text = str(formats.date_format(local, "N j, P"))
    if time_zone != "America/New_York":
        text += f" ({ZONE_NAMES.get(time_zone, time_zone)})"
    return LocalTime(iso=at.isoformat(), text=text)


def _person(helper: Helper | None) -> str:
    if helper is None:
        return ""
    return str(helper.user.get_full_name() or helper.user.email)


def _request_row(help_request: HelpRequest, scope: OversightScope) -> dict[str, Any]:
    helper = help_request.accepted_helper
    county = help_request.county
    zone = help_request.time_zone
    return {
        "request": help_request,
        "county": county.label if county else "",
        "program": RequestedProgram(help_request.program).label,
        "language": Language(help_request.language).label,
        "submitted": _local(help_request.submitted_at, zone),
        "due": _local(help_request.sla_due_at, zone),
        "accepted": _local(help_request.accepted_at, zone),
        "first_contact": _local(help_request.first_contact_at, zone),
        "escalated": _local(help_request.escalated_at, zone),
        "helper": _person(helper),
        "agency": helper.organization.name if helper and helper.organization else "",
        "can_reassign": help_request.status == HelpRequest.Status.IN_PROGRESS
        and helper is not None
        and scope.covers(helper.organization_id),
    }


def _helper_row(helper: Helper, available_ids: set[Any]) -> dict[str, Any]:
    if helper.status != Helper.Status.REGISTERED:
        availability = "—"
    elif helper.pk in available_ids:
        availability = _("Available now")
    elif not helper.is_available:
        availability = _("Not available: switched off")
    else:
        availability = _("Not available: outside their schedule or on time off")
    return {
        "helper": helper,
        "name": _person(helper),
        "availability": availability,
    }


def _page_links(request: HttpRequest, page: Page[Any], parameter: str) -> dict[str, str | None]:
    """The previous and next pages' addresses, keeping the other query parameters."""

    def link(number: int) -> str:
        query = request.GET.copy()
        query[parameter] = str(number)
        return "?" + query.urlencode()

    return {
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
        "next": link(page.next_page_number()) if page.has_next() else None,
    }


def _chosen_agency(request: HttpRequest, choices: list[Organization]) -> Organization | None:
    wanted = request.GET.get("agency", "")
    return next((agency for agency in choices if str(agency.pk) == wanted), None)


@dataclass(frozen=True)
class _Overseen:
    """What the oversight page shows: escalated requests (one more than it lists, to say there are more),
    a page of the other open requests, a page of helpers, and which of those are available now."""

    escalated: list[HelpRequest]
    request_page: Page[HelpRequest]
    helper_page: Page[Helper]
    available_ids: set[Any]


@login_required
@require_GET
def oversight(request: HttpRequest) -> HttpResponse:
    """Agency admins: their agencies' helpers and open requests; state administrators: every agency's.
    Escalated requests (no call logged by the due time) come first. Viewing is an access event."""
    user, scope = _scope(request)
    now = clock.now()
    agency_choices = oversight_agency_choices(scope=scope)
    agency = _chosen_agency(request, agency_choices)

    def read() -> _Overseen:
        requests = help_requests_overseen(scope=scope, agency=agency)
        helper_page = Paginator(helpers_overseen(scope=scope, agency=agency), PAGE_SIZE).get_page(
            request.GET.get("helpers_page")
        )
        return _Overseen(
            escalated=list(requests.filter(ESCALATED)[: ESCALATED_LIMIT + 1]),
            request_page=Paginator(requests.exclude(ESCALATED), PAGE_SIZE).get_page(
                request.GET.get("requests_page")
            ),
            helper_page=helper_page,
            available_ids=helper_ids_available_now(helper_ids=[helper.pk for helper in helper_page], at=now),
        )

    overseen = audited_read(
        request=request,
        actor=user,
        subject_type="ondemand.oversight",
        subject_id=str(agency.pk) if agency else "all" if scope.is_state else "own agencies",
        read=read,
        detail=lambda shown: (
            f"{len(shown.helper_page.object_list)} helpers, {len(shown.escalated)} escalated and "
            f"{len(shown.request_page.object_list)} other open requests"
        ),
    )
    escalated, request_page, helper_page = overseen.escalated, overseen.request_page, overseen.helper_page
    return render(
        request,
        "ondemand/oversight/index.html",
        {
            "scope": scope,
            "agency": agency,
            "agency_choices": agency_choices,
            "escalated_rows": [_request_row(item, scope) for item in escalated[:ESCALATED_LIMIT]],
            "escalated_more": len(escalated) > ESCALATED_LIMIT,
            "request_page": request_page,
            "request_links": _page_links(request, request_page, "requests_page"),
            "request_rows": [_request_row(item, scope) for item in request_page],
            "helper_page": helper_page,
            "helper_links": _page_links(request, helper_page, "helpers_page"),
            "helper_rows": [_helper_row(helper, overseen.available_ids) for helper in helper_page],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, request_id: Any) -> HttpResponse:
    """Give an In Progress request to another registered helper: of the same agency for an agency admin,
    any for a state administrator (who sees those serving the request's county unless `every=1`)."""
    user, scope = _scope(request)
    help_request = help_request_for_reassign(help_request_id=request_id)
    if help_request is None:
        raise Http404
    if not can_reassign(actor=user, help_request=help_request):
        raise PermissionDenied
    every_county = scope.is_state and request.GET.get("every") == "1"
    candidates = list(
        reassign_candidates(
            scope=scope, help_request=help_request, at=clock.now(), every_county=every_county
        )[:CANDIDATE_LIMIT]
    )
    form = ReassignForm(request.POST if request.method == "POST" else None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        new_helper = form.cleaned_data["helper"]
        try:
            help_request_reassign(help_request_id=help_request.pk, actor=user, to_helper=new_helper)
        except ValidationError as error:
            form_errors_add(form, error)
        else:
            messages.success(
                request,
                _("The request from ZIP code %(zip)s is now %(name)s's to call.")
                % {"zip": help_request.zip_code, "name": _person(new_helper)},
            )
            return redirect("ondemand:oversight")
    row = audited_read(
        request=request,
        actor=user,
        subject_type="ondemand.helprequest",
        subject_id=str(help_request.pk),
        detail="oversight: reassign page",
        read=lambda: _request_row(help_request, scope),
    )
    return render(
        request,
        "ondemand/oversight/reassign.html",
        {
            "row": row,
            "form": form,
            "scope": scope,
            "every_county": every_county,
            "candidate_count": len(candidates),
            "candidates_cut": len(candidates) >= CANDIDATE_LIMIT,
            "in_progress": help_request.status == HelpRequest.Status.IN_PROGRESS,
        },
        status=400 if form.errors else 200,
    )


# --- The state dashboard ---------------------------------------------------------------------------


def _minutes(minutes: float | None) -> str:
    return "—" if minutes is None else _("%(minutes)s min") % {"minutes": number(minutes, 1)}


def _day(day: date) -> str:
    return str(formats.date_format(day, "l")) + ", " + str(formats.date_format(day, "DATE_FORMAT"))


DASHBOARD_PERIODS = (PeriodKey.TODAY, PeriodKey.WEEK, PeriodKey.MONTH)
PROMISE_TARGET = 0.95  # of requests called back within the promised minutes (ADR 0044)


def _dashboard_charts(period: Period, now: datetime) -> dict[str, Any]:
    count = _("Requests")
    by_status = requests_by_status(period=period)
    status_chart = chart_build(
        slug="status",
        title=_("Requests by status"),
        summary=_("Requests submitted: %(count)s.") % {"count": number(sum(by_status.values()))},
        label_heading=_("Status"),
        value_heading=count,
        figures=[
            (str(HelpRequest.Status(status).label), value, number(value))
            for status, value in by_status.items()
        ],
    )

    minutes = settings.ONDEMAND_CALLBACK_MINUTES
    calls = call_backs(period=period, now=now)
    calls_chart = chart_build(
        slug="callbacks",
        title=_("Called back within %(minutes)s minutes") % {"minutes": minutes},
        summary=_("Called back on time: %(share)s (%(on_time)s of %(due)s due).")
        % {
            "share": percent(calls.on_time_share),
            "on_time": number(calls.on_time),
            "due": number(calls.due),
        },
        label_heading=_("Call back"),
        value_heading=count,
        figures=[
            (_("On time"), calls.on_time, number(calls.on_time)),
            (_("Late"), calls.late, number(calls.late)),
            (_("No call logged"), calls.not_called, number(calls.not_called)),
        ],
    )

    medians = median_times(period=period)
    median_chart = chart_build(
        slug="medians",
        title=_("Median time from the clock start"),
        summary=_(
            "Median time to accept: %(accept)s (requests accepted: %(accepted)s). "
            "Median time to first contact: %(contact)s (requests called: %(contacted)s)."
        )
        % {
            "accept": _minutes(medians.to_accept.minutes),
            "accepted": number(medians.to_accept.count),
            "contact": _minutes(medians.to_first_contact.minutes),
            "contacted": number(medians.to_first_contact.count),
        },
        label_heading=_("Step"),
        value_heading=_("Median"),
        figures=[
            (_("To accept"), medians.to_accept.minutes or 0, _minutes(medians.to_accept.minutes)),
            (
                _("To first contact"),
                medians.to_first_contact.minutes or 0,
                _minutes(medians.to_first_contact.minutes),
            ),
            (
                _("To first contact, 9 in 10 within (90th percentile)"),
                medians.to_first_contact.p90 or 0,
                _minutes(medians.to_first_contact.p90),
            ),
        ],
    )

    missed = missed_offers(period=period)
    missed_chart = chart_build(
        slug="missed",
        title=_("Missed offers"),
        summary=_("Missed-offer rate: %(rate)s (%(missed)s missed out of %(offers)s).")
        % {
            "rate": percent(missed.rate),
            "missed": number(missed.missed),
            "offers": number(missed.could_miss),
        },
        label_heading=_("Offers"),
        value_heading=_("Number"),
        figures=[
            (_("Offers that could be missed"), missed.could_miss, number(missed.could_miss)),
            (_("Missed"), missed.missed, number(missed.missed)),
        ],
    )

    deregistered = deregistrations_by_day(period=period)
    deregistered_chart = chart_build(
        slug="deregistrations",
        title=_("De-registered for missed referrals"),
        summary=_("Helpers de-registered after missing three referrals in a row: %(count)s.")
        % {"count": number(sum(deregistered.values()))},
        label_heading=_("Day"),
        value_heading=_("Helpers"),
        figures=[(_day(day), value, number(value)) for day, value in deregistered.items()],
    )

    available = helpers_available_now(at=now)
    language_chart = chart_build(
        slug="languages",
        title=_("Helpers available now by language"),
        summary=_("Helpers available now: %(count)s.") % {"count": number(available.total)},
        label_heading=_("Language"),
        value_heading=_("Helpers"),
        figures=[
            (str(Language(code).label), value, number(value)) for code, value in available.by_language.items()
        ],
    )
    coverage = {"none": 0, "one": 0, "few": 0, "many": 0}
    for value in available.by_county.values():
        coverage["none" if value == 0 else "one" if value == 1 else "few" if value < 5 else "many"] += 1
    county_chart = chart_build(
        slug="counties",
        title=_("Counties by helpers available now"),
        summary=_("Counties with no helper available now: %(none)s of %(total)s.")
        % {"none": number(coverage["none"]), "total": number(len(KENTUCKY_COUNTIES))},
        label_heading=_("Helpers available now"),
        value_heading=_("Counties"),
        figures=[
            (_("None"), coverage["none"], number(coverage["none"])),
            (_("One"), coverage["one"], number(coverage["one"])),
            (_("Two to four"), coverage["few"], number(coverage["few"])),
            (_("Five or more"), coverage["many"], number(coverage["many"])),
        ],
    )
    names = {county.fips: county.label for county in KENTUCKY_COUNTIES}
    return {
        "period_charts": [status_chart, calls_chart, median_chart, missed_chart, deregistered_chart],
        "available_charts": [language_chart, county_chart],
        "county_rows": [(names[fips], value) for fips, value in available.by_county.items()],
        "available_total": available.total,
        "callback_minutes": minutes,
    }


def _promise_chart(now: datetime) -> Chart:
    """The share called back within the promised minutes today, in the last 7 days and this month, side
    by side whatever period is chosen below: the figure the routing simulation predicts (ADR 0044)."""
    minutes = settings.ONDEMAND_CALLBACK_MINUTES
    figures = []
    for key in DASHBOARD_PERIODS:
        calls = call_backs(period=period_named(key=key, now=now), now=now)
        share = calls.on_time_share
        text = _("%(share)s (%(on_time)s of %(due)s due)") % {
            "share": percent(share, digits=1),
            "on_time": number(calls.on_time),
            "due": number(calls.due),
        }
        figures.append((str(PeriodKey(key).label), (share or 0) * 100, text))
    return chart_build(
        slug="promise",
        title=_("Called back within %(minutes)s minutes: today, last 7 days, this month")
        % {"minutes": minutes},
        summary=_("The target is at least %(target)s of requests called back on time.")
        % {"target": percent(PROMISE_TARGET)},
        label_heading=_("Period"),
        value_heading=_("Called back on time"),
        figures=figures,
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The state On Demand dashboard: today's or the last 7 days' figures, and who is available now.
    Aggregates only (no personal data), for state administrators."""
    scope = _scope(request)[1]
    if not scope.is_state:
        raise PermissionDenied
    now = clock.now()
    key = request.GET.get("period", PeriodKey.TODAY)
    period = period_named(key=key if key in DASHBOARD_PERIODS else PeriodKey.TODAY, now=now)
    return render(
        request,
        "ondemand/oversight/dashboard.html",
        {
            "period": period,
            "periods": [(key, PeriodKey(key).label) for key in DASHBOARD_PERIODS],
            "first_day": _day(period.days[0]),
            "last_day": _day(period.days[-1]),
            "promise_chart": _promise_chart(now),
            **_dashboard_charts(period, now),
        },
    )
