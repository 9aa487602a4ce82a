"""Reads of assessments: which instruments a user may take, an assessment to go on with, and a
resident's risk factors (the latest rating per domain) with their history."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, F, QuerySet, Value
from django.db.models.functions import Concat, ExtractYear, TruncMonth

from kynect.accounts.models import Role
from kynect.accounts.selectors import memberships_held
from kynect.assessments.models import Assessment, Instrument, RiskRating
from kynect.core.counting import Scope
from kynect.core.periods import KENTUCKY
from kynect.core.sdoh import SdohDomain
from kynect.interop.fhir.patient import CLIENT_ID_SYSTEM, RESIDENT_SYSTEM
from kynect.residents.access import ORGANIZATION_ROLES, Action, Decision, View, decide
from kynect.residents.models import Resident
from kynect.residents.part2 import domain_is_part2, part2_unlocked
from kynect.residents.sections import Section

# Months and years are Kentucky's, on the eastern clock its state offices keep.


def _audiences(user: Any) -> set[str]:
    """Who the user is, in an instrument's `audience` words: `anonymous`, `resident`, `staff` (any
    organization role) and each of their roles."""
    if user is None or not user.is_authenticated:
        return {"anonymous"}
    roles = {membership.role for membership in memberships_held(user=user)}
    audiences = set(roles)
    if Role.RESIDENT in roles:
        audiences.add("resident")
    if roles & ORGANIZATION_ROLES:
        audiences.add("staff")
    return audiences


def instruments_current() -> list[Instrument]:
    """The newest version of each instrument."""
    newest: dict[str, Instrument] = {}
    for instrument in Instrument.objects.order_by("code", "-version"):
        newest.setdefault(instrument.code, instrument)
    return list(newest.values())


def instrument_offered(*, user: Any, instrument: Instrument) -> bool:
    return bool(set(instrument.parsed.audience) & _audiences(user))


def instruments_offered(*, user: Any, staff: bool = False) -> list[Instrument]:
    """The instruments the user may take: for themselves, or (`staff`) with a resident as staff."""
    audiences = _audiences(user)
    if staff:
        audiences -= {"anonymous", "resident"}
    else:
        audiences &= {"anonymous", "resident"}
    return [instrument for instrument in instruments_current() if set(instrument.parsed.audience) & audiences]


def instrument_by_code(code: str) -> Instrument | None:
    return Instrument.objects.filter(code=code).order_by("-version").first()


def assessment_for(*, actor: Any, assessment_id: Any) -> Assessment | None:
    """An assessment the actor may go on with: one they started, while they still have the standing to
    assess the resident (a consent revoked meanwhile stops it)."""
    try:
        assessment = (
            Assessment.objects.select_related("instrument", "resident", "organization")
            .filter(pk=assessment_id, taken_by=actor)
            .first()
        )
    except (ValidationError, ValueError):
        return None
    if assessment is None:
        return None
    if decide(user=actor, action=Action.ASSESS, resident=assessment.resident) != Decision.ALLOWED:
        return None
    return assessment


@dataclass(frozen=True)
class RiskFactor:
    domain: str
    label: str
    latest: RiskRating | None
    withheld: bool  # a Part 2 domain the user may not see (said whether or not it is rated)


def risk_factors(*, resident: Resident, user: Any) -> list[RiskFactor]:
    """Each of the 18 domains with its latest rating (its date, source and who), in the overview's order."""
    unlocked = part2_unlocked(user=user, resident=resident)
    latest: dict[str, RiskRating] = {}
    for rating in (
        RiskRating.objects.filter(resident=resident)
        .select_related("assessment__instrument", "rated_by", "organization")
        .order_by("domain", "-rated_at", "-created_at")
    ):
        latest.setdefault(rating.domain, rating)
    factors = []
    for code, label in SdohDomain.choices:
        withheld = domain_is_part2(code) and not unlocked
        factors.append(RiskFactor(code, str(label), None if withheld else latest.get(code), withheld))
    return factors


def risk_history(*, resident: Resident, domain: str) -> list[RiskRating]:
    return list(
        RiskRating.objects.filter(resident=resident, domain=domain)
        .select_related("assessment__instrument", "rated_by", "organization")
        .order_by("-rated_at", "-created_at")
    )


def resident_assessments(*, resident: Resident) -> list[Assessment]:
    return list(
        Assessment.objects.filter(resident=resident)
        .select_related("instrument", "organization", "taken_by")
        .order_by("-created_at")
    )


RECENT_ASSESSMENTS = 5


def resident_assessments_section(*, resident: Resident, user: Any, view: Any) -> Section | None:
    """The Resident Detail Screen's Assessments: the latest few, with who took them and when."""
    if view != View.FULL:
        return None
    taken = list(
        Assessment.objects.filter(resident=resident)
        .select_related("instrument", "organization")
        .order_by("-created_at")[:RECENT_ASSESSMENTS]
    )
    return Section(
        order=40, template="assessments/_resident_assessments.html", context={"assessments": taken}
    )


def resident_risk_factors_section(*, resident: Resident, user: Any, view: Any) -> Section | None:
    """The Resident Detail Screen's Risk Factors: each domain's latest rating, its date and source, the
    Part 2 domain withheld from whoever has not the resident's Part 2 consent."""
    if view != View.FULL:
        return None
    factors = risk_factors(resident=resident, user=user)
    return Section(
        order=60,
        template="assessments/_risk_factors.html",
        context={"factors": factors},
        part2=any(factor.latest is not None and domain_is_part2(factor.domain) for factor in factors),
    )


def resident_plan_assessments_section(*, resident: Resident, user: Any, view: Any) -> Section | None:
    """My Plan's assessments: every one the resident took or was taken with, and their latest ratings."""
    factors = risk_factors(resident=resident, user=user)
    return Section(
        order=20,
        template="assessments/_plan_assessments.html",
        context={"assessments": resident_assessments(resident=resident), "factors": factors},
        part2=any(factor.latest is not None and domain_is_part2(factor.domain) for factor in factors),
    )


def resident_risk_factors_api(*, resident: Resident, user: Any) -> list[dict[str, Any]]:
    """The Residents API's `risk_factors`: each rated domain's latest rating, Part 2 withheld as on the
    screen (left out, since the API lists only what is rated)."""
    return [
        {
            "domain": factor.domain,
            "rating": factor.latest.rating,
            "rated_at": factor.latest.rated_at,
            "source": factor.latest.source,
        }
        for factor in risk_factors(resident=resident, user=user)
        if factor.latest is not None
    ]


# --- Counts the metrics read (issue 19) --------------------------------------------------------------------


def assessment_counts(
    *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Completed assessments by instrument, organization and year (Kentucky's eastern clock), completed in
    [since, until): each row `instrument`, `organization_id` (None for a resident alone), `year`, `count`."""
    rows = Assessment.objects.filter(status=Assessment.Status.COMPLETED)
    if since is not None:
        rows = rows.filter(completed_at__gte=since)
    if until is not None:
        rows = rows.filter(completed_at__lt=until)
    return list(
        rows.annotate(year=ExtractYear("completed_at", tzinfo=KENTUCKY))
        .values("year", "organization_id", instrument_code=F("instrument__code"))
        .annotate(count=Count("id"))
        .order_by("year", "instrument_code", "organization_id")
    )


def rating_counts(*, since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    """Ratings given in [since, until) by domain, rating, source, instrument and year: each row `domain`,
    `rating`, `source`, `instrument_code` (None unless from an assessment), `year`, `count`."""
    rows = RiskRating.objects.all()
    if since is not None:
        rows = rows.filter(rated_at__gte=since)
    if until is not None:
        rows = rows.filter(rated_at__lt=until)
    return list(
        rows.annotate(year=ExtractYear("rated_at", tzinfo=KENTUCKY))
        .values("domain", "rating", "source", "year", instrument_code=F("assessment__instrument__code"))
        .annotate(count=Count("id"))
        .order_by("year", "domain", "rating", "source")
    )


def _scoped(rows: QuerySet[Any], scope: Scope) -> QuerySet[Any]:
    """Assessments or ratings narrowed to the scope: the resident's county, the organization credited."""
    if scope.county_fips:
        rows = rows.filter(resident__county_fips=scope.county_fips)
    if scope.organization_type:
        rows = rows.filter(organization__type=scope.organization_type)
    if scope.organization_id is not None:
        rows = rows.filter(organization_id=scope.organization_id)
    return rows


def _grouped(rows: QuerySet[Any], fields: dict[str, Any], by: Iterable[str]) -> list[dict[str, Any]]:
    groups = list(by)
    if not groups:
        return [{"n": rows.count()}]
    grouped = (
        rows.values(**{f"group_{name}": fields[name] for name in groups}).annotate(n=Count("*")).order_by()
    )
    return [{**{name: row[f"group_{name}"] for name in groups}, "n": row["n"]} for row in grouped]


def assessment_counts_by(
    *, scope: Scope, since: datetime | None = None, until: datetime | None = None, by: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Assessments completed in [since, until) (all time without bounds), narrowed to the scope and grouped
    `by` any of "organization", "organization_type", "county" (the resident's), "key" (the instrument's
    code) and "month" (its first instant on Kentucky's clock): each row holds the groups asked for and `n`."""
    rows = _scoped(Assessment.objects.filter(status=Assessment.Status.COMPLETED), scope)
    if since is not None:
        rows = rows.filter(completed_at__gte=since)
    if until is not None:
        rows = rows.filter(completed_at__lt=until)
    fields = {
        "organization": F("organization_id"),
        "organization_type": F("organization__type"),
        "county": F("resident__county_fips"),
        "key": F("instrument__code"),
        "month": TruncMonth("completed_at", tzinfo=KENTUCKY),
    }
    return _grouped(rows, fields, by)


def rating_counts_by(
    *, scope: Scope, since: datetime | None = None, until: datetime | None = None, by: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Ratings given in [since, until), from every source, grouped as `assessment_counts_by` groups; the key
    is "domain:rating"."""
    rows = _scoped(RiskRating.objects.all(), scope)
    if since is not None:
        rows = rows.filter(rated_at__gte=since)
    if until is not None:
        rows = rows.filter(rated_at__lt=until)
    fields = {
        "organization": F("organization_id"),
        "organization_type": F("organization__type"),
        "county": F("resident__county_fips"),
        "key": Concat("domain", Value(":"), "rating", output_field=CharField()),
        "month": TruncMonth("rated_at", tzinfo=KENTUCKY),
    }
    return _grouped(rows, fields, by)


def assessment_completions(
    *, organization_ids: Iterable[Any], until: datetime, since: datetime | None = None
) -> list[tuple[Any, Any, datetime]]:
    """The assessments the organizations completed in [since, until): (assessment id, organization id,
    completed at), as the incentive report pays them."""
    completed = Assessment.objects.filter(
        organization_id__in=list(organization_ids),
        status=Assessment.Status.COMPLETED,
        completed_at__lt=until,
    )
    if since is not None:
        completed = completed.filter(completed_at__gte=since)
    rows = completed.values_list("pk", "organization_id", "completed_at")
    # `completed_at` is set on every completed assessment (a constraint): the filter only tells the types.
    return [(pk, organization, at) for pk, organization, at in rows if at is not None]


def assessments_first_at() -> datetime | None:
    """When the first assessment was completed or rating given: where counting starts."""
    completed = (
        Assessment.objects.filter(completed_at__isnull=False)
        .order_by("completed_at")
        .values_list("completed_at", flat=True)
        .first()
    )
    rated = RiskRating.objects.order_by("rated_at").values_list("rated_at", flat=True).first()
    return min((at for at in (completed, rated) if at is not None), default=None)


def resident_by_identifier(*, system: str, value: str) -> Resident | None:
    """The resident a FHIR identifier names (kynect's resident id or the client ID), not erased; None for
    any other system, a malformed value or no one."""
    residents = Resident.objects.filter(erased_at__isnull=True)
    if system == CLIENT_ID_SYSTEM and value:
        return residents.filter(client_id=value).first()
    if system == RESIDENT_SYSTEM and value:
        try:
            return residents.filter(pk=uuid.UUID(value)).first()
        except ValueError:
            return None
    return None
