"""Consent pages (DESIGN §5.2): an organization's consent for one resident (request it by a link,
record it given in person or by phone, record it revoked), and the page a consent request's link opens,
where the resident grants or declines without signing in. Thin: `services_consent` writes, `access`
decides, and every view of a resident's data goes through `audited_read`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kynect.accounts.decorators import resident_data_required
from kynect.accounts.models import Organization, User
from kynect.core.audit import audited_denial, audited_read
from kynect.core.forms import form_errors_add
from kynect.core.pages import secret_page
from kynect.residents.access import Action, Decision, decide, staff_organization_ids
from kynect.residents.forms import ConsentAnswerForm, ConsentRecordForm, ConsentRequestForm, ConsentRevokeForm
from kynect.residents.models import Consent, Resident
from kynect.residents.services_consent import (
    LinkState,
    consent_record,
    consent_request_answer,
    consent_request_find,
    consent_request_send,
    consent_revoke,
)


def _resident_or_404(request: HttpRequest, user: User, resident_id: Any, action: Action) -> Resident:
    """The resident, for a user whose standing allows `action`; 404 (recorded as a denied access) for
    anyone else, as if the resident did not exist; 403 for a role that may never."""
    resident = Resident.objects.filter(pk=resident_id).first()
    decision = decide(user=user, action=action, resident=resident) if resident else Decision.NOT_FOUND
    if decision == Decision.FORBIDDEN:
        raise PermissionDenied
    if decision != Decision.ALLOWED or resident is None:
        audited_denial(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(resident_id),
            detail=f"consent page: {action}",
        )
        raise Http404
    return resident


def _organization(user: User, resident: Resident, chosen: str | None) -> Organization:
    organizations = list(
        Organization.objects.filter(pk__in=staff_organization_ids(user=user)).order_by("name")
    )
    if not organizations:
        raise PermissionDenied
    return next((o for o in organizations if str(o.pk) == chosen), organizations[0])


@never_cache
@resident_data_required
@require_http_methods(["GET", "POST"])
def consent_manage(request: HttpRequest, resident_id: Any) -> HttpResponse:
    """The user's organization's consent for one resident, its history, and what they may do with it."""
    user = request.user
    assert isinstance(user, User)
    resident = _resident_or_404(request, user, resident_id, Action.CONSENTS)
    organization = _organization(
        user, resident, request.POST.get("organization") or request.GET.get("organization")
    )
    kind = request.POST.get("form", "")
    request_form = ConsentRequestForm(request.POST if kind == "request" else None, prefix="request")
    record_form = ConsentRecordForm(request.POST if kind == "record" else None, prefix="record")
    revoke_form = ConsentRevokeForm(request.POST if kind == "revoke" else None, prefix="revoke")
    status = 200
    if request.method == "POST":
        bound = {"request": request_form, "record": record_form, "revoke": revoke_form}.get(kind)
        if bound is None:
            raise Http404
        if bound.is_valid():
            try:
                if kind == "request":
                    consent_request_send(
                        actor=user,
                        resident=resident,
                        organization=organization,
                        channel=bound.cleaned_data["channel"],
                    )
                    messages.success(request, _("The consent request was sent."))
                elif kind == "record":
                    consent_record(
                        actor=user,
                        resident=resident,
                        organization=organization,
                        channel=bound.cleaned_data["channel"],
                        note=bound.cleaned_data["note"],
                    )
                    messages.success(request, _("The consent was recorded."))
                else:
                    consent = Consent.objects.filter(resident=resident, organization=organization).first()
                    if consent is None:
                        raise Http404
                    consent_revoke(actor=user, consent_id=consent.pk, note=bound.cleaned_data["note"])
                    messages.success(request, _("The consent was revoked."))
                return redirect(request.get_full_path())
            except ValidationError as error:
                form_errors_add(bound, error)
            except PermissionDenied:
                raise
        status = 400
    consent = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: (
            Consent.objects.filter(resident=resident, organization=organization)
            .prefetch_related("events__actor")
            .first()
        ),
        detail=f"consent of {organization.pk}",
    )
    return render(
        request,
        "residents/consent_manage.html",
        {
            "resident": resident,
            "organization": organization,
            "consent": consent,
            "may_request": decide(user=user, action=Action.CONSENT_REQUEST, resident=resident)
            == Decision.ALLOWED,
            "request_form": request_form,
            "record_form": record_form,
            "revoke_form": revoke_form,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def consent_answer(request: HttpRequest, request_id: Any, secret: str) -> HttpResponse:
    """What a consent request's link opens, for the resident, without signing in. Its GET changes
    nothing (mail scanners open links first); the answer is a POST, taken once."""
    form = ConsentAnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            found = consent_request_answer(
                request_id=request_id, secret=secret, answer=form.cleaned_data["answer"]
            )
            return secret_page(
                render(
                    request,
                    "residents/consent_answer.html",
                    {"found": found, "state": found.state.value},
                    status=404 if found.state == LinkState.INVALID else 200,
                )
            )
        status = 400
    found = consent_request_find(request_id=request_id, secret=secret)
    return secret_page(
        render(
            request,
            "residents/consent_answer.html",
            {"found": found, "state": found.state.value, "form": form},
            status=404 if found.state == LinkState.INVALID else status,
        )
    )
