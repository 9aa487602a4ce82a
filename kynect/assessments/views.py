"""Taking an assessment (issue 18), page by page, without JavaScript: a resident alone without signing in
(answers kept in the session only, never in the database); a signed-in resident with their own record
(kept, in My Plan); staff with a resident who gave consent (Start Assessment on the Resident Detail
Screen, recorded against their organization). Then the results, with suggested resources near the
resident. Thin: `scoring` checks and rates, `services` writes, `selectors` reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kynect.accounts.decorators import resident_data_required
from kynect.accounts.models import Organization, User
from kynect.assessments.definitions import Definition
from kynect.assessments.models import Assessment, Instrument, Rating
from kynect.assessments.scoring import Answers, page_answers_check, page_answers_merged, result_of
from kynect.assessments.selectors import assessment_for, instrument_by_code, instruments_offered, risk_history
from kynect.assessments.services import assessment_complete, assessment_page_save, assessment_start
from kynect.assessments.suggestions import suggested_resources
from kynect.core import clock
from kynect.core.audit import audited_denial, audited_read
from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.core.sdoh import SdohDomain
from kynect.residents.access import (
    Action,
    Decision,
    View,
    consent_in_force,
    decide,
    resident_view,
    staff_organization_ids,
)
from kynect.residents.models import Resident
from kynect.residents.part2 import domain_is_part2, part2_unlocked

# The session key of an anonymous resident's answers: the only place they are kept.
SESSION_KEY = "kynect.assessment"


@dataclass
class Progress:
    """Where an assessment stands, wherever it is kept."""

    instrument: Instrument
    answers: Answers
    page: int  # the next page to answer (len(pages) once all are saved)
    revision: int
    assessment: Assessment | None  # None: the session's

    @property
    def definition(self) -> Definition:
        return self.instrument.parsed

    @property
    def done(self) -> bool:
        return self.page >= len(self.definition.pages)


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


def _own_resident(user: User | None) -> Resident | None:
    return Resident.objects.filter(user=user).first() if user is not None else None


# --- Starting --------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
def assessment_home(request: HttpRequest) -> HttpResponse:
    """The instruments a resident may take for themselves, and whether their answers will be kept."""
    user = _user(request)
    resident = _own_resident(user)
    return render(
        request,
        "assessments/home.html",
        {
            "instruments": instruments_offered(user=user or request.user),
            "kept": resident is not None,
            "in_session": SESSION_KEY in request.session,
        },
    )


@require_POST
def assessment_begin(request: HttpRequest, code: str) -> HttpResponse:
    """Begin an instrument for oneself: kept with one's record when signed in with one, else in the
    session only."""
    user = _user(request)
    instrument = instrument_by_code(code)
    if instrument is None or instrument not in instruments_offered(user=user or request.user):
        raise Http404
    resident = _own_resident(user)
    if user is not None and resident is not None:
        assessment = assessment_start(actor=user, resident=resident, instrument=instrument, organization=None)
        return redirect("assessments:take", assessment_id=assessment.pk)
    request.session[SESSION_KEY] = {
        "code": instrument.code,
        "version": instrument.version,
        "answers": {},
        "page": 0,
        "revision": 0,
    }
    return redirect("assessments:take_session")


@never_cache
@resident_data_required
@require_http_methods(["GET", "POST"])
def assessment_new_for_resident(request: HttpRequest, resident_id: Any) -> HttpResponse:
    """Start Assessment on the Resident Detail Screen: staff with the resident's consent choose one of the
    instruments their role offers."""
    user = _user(request)
    assert user is not None
    resident = Resident.objects.filter(pk=resident_id).first()
    decision = decide(user=user, action=Action.ASSESS, resident=resident) if resident else Decision.NOT_FOUND
    if decision == Decision.FORBIDDEN:
        raise PermissionDenied
    if decision != Decision.ALLOWED or resident is None:
        audited_denial(
            request=request, actor=user, subject_type="resident", subject_id=str(resident_id), detail="assess"
        )
        raise Http404
    offered = instruments_offered(user=user, staff=True)
    if request.method == "POST":
        instrument = next((i for i in offered if i.code == request.POST.get("instrument")), None)
        organization = (
            Organization.objects.filter(pk__in=staff_organization_ids(user=user)).order_by("name").first()
        )
        if instrument is None or organization is None:
            messages.error(request, _("Choose one of the assessments shown."))
        else:
            assessment = assessment_start(
                actor=user, resident=resident, instrument=instrument, organization=organization
            )
            return redirect("assessments:take", assessment_id=assessment.pk)
    return render(
        request,
        "assessments/new_for_resident.html",
        {"resident": resident, "instruments": offered},
        status=400 if request.method == "POST" else 200,
    )


# --- Page by page ----------------------------------------------------------------------------------------


def _session_progress(request: HttpRequest) -> Progress | None:
    kept = request.session.get(SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    # The version it was started with, even if a newer one was published meanwhile.
    instrument = Instrument.objects.filter(
        code=str(kept.get("code")), version=_int(kept.get("version")) or 0
    ).first()
    if instrument is None:
        return None
    return Progress(instrument, dict(kept["answers"]), int(kept["page"]), int(kept["revision"]), None)


def _session_save(request: HttpRequest, progress: Progress, page: int, answers: Answers) -> None:
    merged = page_answers_merged(page=progress.definition.pages[page], kept=progress.answers, answers=answers)
    request.session[SESSION_KEY] = {
        "code": progress.instrument.code,
        "version": progress.instrument.version,
        "answers": merged,
        "page": max(progress.page, page + 1),
        "revision": progress.revision + 1,
    }


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _take(request: HttpRequest, progress: Progress, *, take_url: str, result_url: str) -> HttpResponse:
    definition = progress.definition
    last = len(definition.pages) - 1
    status = 200
    errors: dict[str, str] = {}
    chosen = progress.answers
    if request.method == "POST":
        page, revision = _int(request.POST.get("page")), _int(request.POST.get("revision"))
        if page is None or revision is None or not 0 <= page <= min(progress.page, last):
            messages.error(request, _("That page could not be saved: start it again from here."))
            return redirect(take_url)
        answers, errors = page_answers_check(page=definition.pages[page], posted=request.POST)
        if errors:
            chosen = {**progress.answers, **answers}
            status = 400
        else:
            if revision != progress.revision:
                messages.info(request, _("That page was already saved."))
            elif progress.assessment is not None:
                if not assessment_page_save(
                    assessment=progress.assessment, page=page, revision=revision, answers=answers
                ):
                    messages.info(request, _("That page was already saved."))
            else:
                _session_save(request, progress, page, answers)
            if page < last:
                return redirect(f"{take_url}?page={page + 1}")
            if progress.assessment is not None:
                progress.assessment.refresh_from_db()
                try:
                    assessment_complete(assessment=progress.assessment, actor=progress.assessment.taken_by)
                except ValidationError as error:
                    messages.error(request, " ".join(error.messages))
                    return redirect(take_url)
            return redirect(result_url)
    else:
        page = _int(request.GET.get("page"))
        if page is None or not 0 <= page <= min(progress.page, last):
            page = min(progress.page, last)
    return render(
        request,
        "assessments/take.html",
        {
            "definition": definition,
            "page_number": page,
            "page": definition.pages[page],
            "pages": len(definition.pages),
            "revision": progress.revision,
            "chosen": chosen,
            "errors": errors,
            "previous_url": f"{take_url}?page={page - 1}" if page > 0 else "",
            "kept": progress.assessment is not None,
            "resident": progress.assessment.resident if progress.assessment else None,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def assessment_take_session(request: HttpRequest) -> HttpResponse:
    progress = _session_progress(request)
    if progress is None:
        return redirect("assessments:home")
    return _take(
        request,
        progress,
        take_url=reverse("assessments:take_session"),
        result_url=reverse("assessments:result_session"),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def assessment_take(request: HttpRequest, assessment_id: Any) -> HttpResponse:
    user = _user(request)
    assessment = assessment_for(actor=user, assessment_id=assessment_id)
    if assessment is None:
        audited_denial(
            request=request,
            actor=user,
            subject_type="assessment",
            subject_id=str(assessment_id),
            detail="take",
        )
        raise Http404
    if assessment.status == Assessment.Status.COMPLETED:
        return redirect("assessments:result", assessment_id=assessment.pk)
    progress = Progress(
        assessment.instrument, assessment.answers, assessment.page, assessment.revision, assessment
    )
    return _take(
        request,
        progress,
        take_url=reverse("assessments:take", args=[assessment.pk]),
        result_url=reverse("assessments:result", args=[assessment.pk]),
    )


# --- Results ---------------------------------------------------------------------------------------------


def _rows(ratings: dict[str, str], *, withheld: bool) -> list[dict[str, Any]]:
    labels = dict(Rating.choices)
    rows = []
    for code, label in SdohDomain.choices:
        if code not in ratings:
            continue
        hidden = withheld and domain_is_part2(code)
        rows.append({"domain": label, "rating": "" if hidden else labels[ratings[code]], "withheld": hidden})
    return rows


def _zip(request: HttpRequest, default: str) -> tuple[str, str]:
    """The ZIP code to suggest near (asked on the page), and what is wrong with one typed."""
    typed = request.GET.get("zip", "").strip()
    if not typed:
        return default, ""
    try:
        zip_lookup(typed)
    except UnknownZipCodeError as error:
        return "", str(error)
    return typed, ""


@never_cache
@require_http_methods(["GET"])
def assessment_result_session(request: HttpRequest) -> HttpResponse:
    progress = _session_progress(request)
    if progress is None or not progress.done:
        return redirect("assessments:take_session" if progress else "assessments:home")
    ratings = result_of(definition=progress.definition, answers=progress.answers).ratings
    postal_code, zip_error = _zip(request, "")
    return render(
        request,
        "assessments/result.html",
        {
            "definition": progress.definition,
            "rows": _rows(ratings, withheld=False),
            "suggestions": suggested_resources(ratings=ratings, postal_code=postal_code, now=clock.now())
            if postal_code
            else [],
            "postal_code": postal_code,
            "zip_error": zip_error,
            "anonymous": True,
        },
        status=400 if zip_error else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def assessment_result(request: HttpRequest, assessment_id: Any) -> HttpResponse:
    user = _user(request)
    assert user is not None
    assessment = assessment_for(actor=user, assessment_id=assessment_id)
    if assessment is None:
        audited_denial(
            request=request,
            actor=user,
            subject_type="assessment",
            subject_id=str(assessment_id),
            detail="result",
        )
        raise Http404
    if assessment.status != Assessment.Status.COMPLETED:
        return redirect("assessments:take", assessment_id=assessment.pk)
    resident = assessment.resident
    consent = consent_in_force(user=user, resident=resident)
    ratings = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: result_of(definition=assessment.instrument.parsed, answers=assessment.answers).ratings,
        detail=f"assessment {assessment.pk}",
        consent_id=consent.pk if consent else None,
    )
    withheld = not part2_unlocked(user=user, resident=resident)
    shown = {
        domain: rating for domain, rating in ratings.items() if not (withheld and domain_is_part2(domain))
    }
    postal_code, zip_error = _zip(request, resident.postal_code)
    return render(
        request,
        "assessments/result.html",
        {
            "definition": assessment.instrument.parsed,
            "assessment": assessment,
            "resident": resident,
            "rows": _rows(ratings, withheld=withheld),
            "suggestions": suggested_resources(ratings=shown, postal_code=postal_code, now=clock.now())
            if postal_code
            else [],
            "postal_code": postal_code,
            "zip_error": zip_error,
            "anonymous": False,
            "staff": assessment.organization_id is not None,
        },
        status=400 if zip_error else 200,
    )


@never_cache
@resident_data_required
@require_http_methods(["GET"])
def risk_factor_history(request: HttpRequest, resident_id: Any, domain: str) -> HttpResponse:
    """Every rating of one domain for a resident, newest first, with its source, date and who: for those
    who see the full record (a Part 2 domain only with the resident's Part 2 consent)."""
    user = _user(request)
    assert user is not None
    if domain not in SdohDomain.values:
        raise Http404
    resident = Resident.objects.filter(pk=resident_id).first()
    if resident is None or resident_view(user=user, resident=resident) != View.FULL:
        audited_denial(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(resident_id),
            detail="risk history",
        )
        raise Http404
    withheld = domain_is_part2(domain) and not part2_unlocked(user=user, resident=resident)
    consent = consent_in_force(user=user, resident=resident)
    ratings = (
        []
        if withheld
        else audited_read(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(resident.pk),
            read=lambda: risk_history(resident=resident, domain=domain),
            detail=f"risk history: {domain}",
            consent_id=consent.pk if consent else None,
        )
    )
    return render(
        request,
        "assessments/risk_history.html",
        {
            "resident": resident,
            "domain": SdohDomain(domain).label,
            "ratings": ratings,
            "withheld": withheld,
            "part2_shown": domain_is_part2(domain) and bool(ratings),
        },
    )
