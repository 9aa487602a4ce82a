"""Consent pages (DESIGN §5.2): an organization's consent for one resident (request it by a link,
record it given in person or by phone, record it revoked), and the page a consent request's link opens,
where the resident grants or declines without signing in. Thin: `services_consent` writes, `access`
decides, and every view of a resident's data goes through `audited_read`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kynect.accounts.decorators import resident_data_required
from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.core.audit import audited_denial, audited_read
from kynect.core.forms import form_errors_add
from kynect.core.pages import secret_page
from kynect.residents.access import Action, Decision, decide, staff_organization_ids
from kynect.residents.forms import (
    ConsentAnswerForm,
    ConsentRecordForm,
    ConsentRequestForm,
    ConsentRevokeForm,
    Part2RecordForm,
    Part2RequestForm,
    Part2TermsForm,
)
from kynect.residents.models import Consent, Resident
from kynect.residents.part2 import PART2_LONGEST, PART2_SHARES
from kynect.residents.services_consent import (
    LinkState,
    consent_record,
    consent_request_answer,
    consent_request_find,
    consent_request_send,
    consent_revoke,
    part2_terms_check,
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


def _organization(user: User, chosen: str | None) -> Organization:
    organizations = list(
        Organization.objects.filter(pk__in=staff_organization_ids(user=user)).order_by("name")
    )
    if not organizations:
        raise PermissionDenied
    return next((o for o in organizations if str(o.pk) == chosen), organizations[0])


# The consent page's forms, by the name each posts in `form`: the general consent's and the Part 2
# consent's (42 CFR Part 2, whose request and record name its terms).
_FORMS: dict[str, type[forms.Form]] = {
    "request": ConsentRequestForm,
    "record": ConsentRecordForm,
    "revoke": ConsentRevokeForm,
    "part2_request": Part2RequestForm,
    "part2_record": Part2RecordForm,
    "part2_revoke": ConsentRevokeForm,
}


def _consent_write(
    *, name: str, form: forms.Form, user: User, resident: Resident, organization: Organization
) -> str:
    """Do what the posted form asks; returns the message to show. Raises what the service raises."""
    part2 = name.startswith("part2_")
    action = name.removeprefix("part2_")
    data = form.cleaned_data
    if action == "revoke":
        kind = Consent.Kind.PART2 if part2 else Consent.Kind.GENERAL
        consent = Consent.objects.filter(resident=resident, organization=organization, kind=kind).first()
        if consent is None:
            raise Http404
        consent_revoke(actor=user, consent_id=consent.pk, note=data["note"])
        return _("The consent was revoked.")
    terms = None
    if isinstance(form, Part2TermsForm):
        terms = part2_terms_check(**form.terms_values(), now=clock.now())
    if action == "request":
        consent_request_send(
            actor=user, resident=resident, organization=organization, channel=data["channel"], part2=terms
        )
        return _("The consent request was sent.")
    consent_record(
        actor=user,
        resident=resident,
        organization=organization,
        channel=data.get("channel", Consent.Channel.IN_PERSON),
        note=data["note"],
        part2=terms,
    )
    return _("The consent was recorded.")


@never_cache
@resident_data_required
@require_http_methods(["GET", "POST"])
def consent_manage(request: HttpRequest, resident_id: Any) -> HttpResponse:
    """The user's organization's consents for one resident (the general one and the Part 2 one), their
    history, and what they may do with them."""
    user = request.user
    assert isinstance(user, User)
    resident = _resident_or_404(request, user, resident_id, Action.CONSENTS)
    organization = _organization(user, request.POST.get("organization") or request.GET.get("organization"))
    posted = request.POST.get("form", "") if request.method == "POST" else ""
    if request.method == "POST" and posted not in _FORMS:
        raise Http404
    initial = {"expires_at": timezone.localdate(clock.now()) + PART2_LONGEST}
    bound = {
        name: form_class(request.POST if name == posted else None, prefix=name, initial=initial)
        for name, form_class in _FORMS.items()
    }
    status = 200
    if posted:
        form = bound[posted]
        if form.is_valid():
            try:
                message = _consent_write(
                    name=posted, form=form, user=user, resident=resident, organization=organization
                )
                messages.success(request, message)
                return redirect(request.get_full_path())
            except ValidationError as error:
                form_errors_add(form, error)
        status = 400
    consents = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: {
            consent.kind: consent
            for consent in Consent.objects.filter(
                resident=resident, organization=organization
            ).prefetch_related("events__actor")
        },
        detail=f"consent of {organization.pk}",
    )
    now = clock.now()
    general, part2 = consents.get(Consent.Kind.GENERAL), consents.get(Consent.Kind.PART2)
    return render(
        request,
        "residents/consent_manage.html",
        {
            "resident": resident,
            "organization": organization,
            "consent": general,
            "part2": part2,
            "consent_in_force": general is not None and general.in_force(now),
            "part2_in_force": part2 is not None and part2.in_force(now),
            "part2_shares": PART2_SHARES,
            "may_request": decide(user=user, action=Action.CONSENT_REQUEST, resident=resident)
            == Decision.ALLOWED,
            "forms": bound,
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
            try:
                found = consent_request_answer(
                    request_id=request_id,
                    secret=secret,
                    answer=form.cleaned_data["answer"],
                    signature=form.cleaned_data["signature"],
                )
            except ValidationError as error:
                form_errors_add(form, error)
                found = consent_request_find(request_id=request_id, secret=secret)
                return secret_page(
                    render(
                        request,
                        "residents/consent_answer.html",
                        {"found": found, "state": found.state.value, "form": form},
                        status=400,
                    )
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
