"""Referral pages: making a referral (Connect), the organizations' Inbox and Outbox, and a referral's
page with its timeline, notes, actions and the closing form. Thin: `services` writes, `selectors` reads,
`access` decides who may, and every view of a resident's data goes through `audited_read`."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kynect.accounts.decorators import resident_data_required, training_url
from kynect.accounts.models import User
from kynect.accounts.selectors import (
    user_may_see_resident_data,
    user_organizations,
    user_sees_only_own_data,
    user_training_is_current,
)
from kynect.core import clock
from kynect.core.audit import audited_denial, audited_read
from kynect.core.phones import phone_display
from kynect.directory.listings import service_detail_get
from kynect.referrals import selectors
from kynect.referrals.access import ORGANIZATION_ROLES, Action, Decision, decide, user_organization_ids
from kynect.referrals.forms import (
    ActionForm,
    BoxFilterForm,
    CloseForm,
    NoteForm,
    ReferralForm,
    ResidentForm,
    errors_add,
)
from kynect.referrals.models import Referral
from kynect.referrals.services import (
    ActionNotAllowedError,
    Closure,
    ReferralChangedError,
    ReferralInput,
    referral_act,
    referral_allowed_actions,
    referral_create,
    referral_note_add,
)
from kynect.residents.access import Action as ResidentAction
from kynect.residents.access import Decision as ResidentDecision
from kynect.residents.access import decide as resident_decide

PER_PAGE = 25
# The actions taken with a button on the referral's page (closing has its own form).
BUTTON_ACTIONS = (
    Action.ACCEPT,
    Action.START,
    Action.HOLD,
    Action.RESUME,
    Action.REJECT,
    Action.CANCEL,
    Action.REOPEN,
)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _require(decision: Decision) -> None:
    if decision == Decision.NOT_FOUND:
        raise Http404
    if decision != Decision.ALLOWED:
        raise PermissionDenied


# --- Making a referral -------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    """Connect: a referral to the service in `?service=`, for a new or matched resident, an existing one
    (`?resident=`) or a signed-in resident themselves. Anyone else sees the service's own contact
    options (and, when not signed in, a way to sign in)."""
    service_id = request.POST.get("service") if request.method == "POST" else request.GET.get("service")
    detail = _service_detail(service_id)
    if detail is None and request.method == "GET":
        raise Http404
    signed_in = request.user.is_authenticated
    may_refer = signed_in and decide(user=request.user, action=Action.CREATE) == Decision.ALLOWED
    if request.method == "POST":
        if not signed_in:
            return redirect_to_login(request.get_full_path())
        if not may_refer:
            raise PermissionDenied
    context: dict[str, Any] = {
        "detail": detail,
        "card": detail.card if detail else None,
        "may_refer": may_refer,
    }
    if not may_refer:
        return render(request, "referrals/new.html", context)
    user = _user(request)
    if not (user_may_see_resident_data(user=user) or user_sees_only_own_data(user=user)):
        if not user_training_is_current(user=user):
            return redirect(training_url(next_url=request.get_full_path()))
        raise PermissionDenied
    resident_self = not user_organization_ids(user=user)
    chosen = None
    chosen_id = request.POST.get("resident_id") or request.GET.get("resident") or None
    if resident_self:
        chosen = selectors.resident_of_user(user=user)
    elif chosen_id:
        found = selectors.resident_referable(user=user, resident_id=chosen_id)
        if found is None:
            raise Http404
        chosen = audited_read(
            request=request,
            actor=user,
            subject_type="resident",
            subject_id=str(found.pk),
            read=lambda: found,
            detail="making a referral",
        )
    receiver_name = detail.card.organization_name if detail else ""
    senders = [] if resident_self else user_organizations(user=user, role=ORGANIZATION_ROLES)
    form = ReferralForm(
        request.POST or None,
        receiver_name=receiver_name,
        organizations=[(str(organization.pk), organization.name) for organization in senders],
        initial={"service": service_id},
    )
    resident_form = None
    if chosen is None:
        # A signed-in resident without a record yet completes their profile here (their account's name
        # and contact filled in); a partner describes the resident.
        own = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "mobile_phone": phone_display(user.phone) if user.phone else "",
            "preferred_language": user.preferred_language,
        }
        resident_form = ResidentForm(request.POST or None, initial=own if resident_self else None)
    context |= {
        "form": form,
        "resident_form": resident_form,
        "resident_self": resident_self,
        "chosen": chosen,
    }
    if request.method == "GET":
        return render(request, "referrals/new.html", context)
    valid = form.is_valid() & (resident_form is None or resident_form.is_valid())
    if not valid:
        return render(request, "referrals/new.html", context, status=400)
    data = ReferralInput(
        service_id=form.cleaned_data["service"],
        need=form.cleaned_data["need"],
        note=form.cleaned_data["note"],
        urgency=form.cleaned_data["urgency"],
        pre_consent=form.cleaned_data["pre_consent"],
        resident=resident_form.resident_input() if resident_form else None,
        resident_id=chosen.pk if chosen else None,
    )
    try:
        sender = next((o for o in senders if str(o.pk) == form.cleaned_data.get("organization")), None)
        created = referral_create(actor=user, data=data, organization=sender)
    except ValidationError as error:
        errors_add(error, *(f for f in (form, resident_form) if f is not None))
        return render(request, "referrals/new.html", context, status=400)
    referral = created.referral
    if created.resident_matched and resident_form is not None:
        messages.info(request, _("This resident already has a record; the referral was added to it."))
    messages.success(request, _("Your referral was sent."))
    if created.receiver_not_onboarded:
        messages.warning(
            request,
            _(
                "This organization has not joined kynect resources yet: a United Way referral specialist "
                "will follow up on your referral."
            ),
        )
    return redirect("referrals:detail", referral_id=referral.pk)


def _service_detail(service_id: str | None) -> Any:
    if not service_id:
        return None
    try:
        parsed = uuid.UUID(service_id)
    except ValueError:
        return None
    return service_detail_get(service_id=parsed, location_id=None, now=clock.now())


# --- Inbox and Outbox --------------------------------------------------------------------------------


@never_cache
@resident_data_required
def referral_inbox(request: HttpRequest) -> HttpResponse:
    return _box(request, outbox=False)


@never_cache
@resident_data_required
def referral_outbox(request: HttpRequest) -> HttpResponse:
    return _box(request, outbox=True)


def _box(request: HttpRequest, *, outbox: bool) -> HttpResponse:
    user = _user(request)
    _require(decide(user=user, action=Action.BOXES))
    organizations = user_organizations(user=user, role=ORGANIZATION_ROLES)
    if not organizations:
        raise PermissionDenied
    choices = [(str(organization.pk), organization.name) for organization in organizations]
    form = BoxFilterForm(request.GET or None, organizations=choices)
    chosen = request.GET.get("organization", "")
    organization = next((o for o in organizations if str(o.pk) == chosen), organizations[0])
    filters = form.filters() if form.is_bound else selectors.BoxFilters()
    referrals = selectors.referrals_box(organization_id=organization.pk, outbox=outbox, filters=filters)
    counts = selectors.referrals_box_counts(organization_id=organization.pk, outbox=outbox, filters=filters)
    paginator = Paginator(referrals, PER_PAGE)
    # The counts already hold the total: no second COUNT of the same rows.
    paginator.__dict__["count"] = counts[filters.box] if filters.box else sum(counts.values())
    page = paginator.get_page(request.GET.get("page"))
    rows = audited_read(
        request=request,
        actor=user,
        subject_type="referral_box",
        subject_id=str(organization.pk),
        read=lambda: list(page.object_list),
        detail=lambda rows: f"{'outbox' if outbox else 'inbox'} page {page.number}: {len(rows)} referrals",
    )
    params = request.GET.copy()
    params.pop("page", None)
    query = params.urlencode()

    def url(number: int) -> str:
        return f"?{query}&page={number}" if query else f"?page={number}"

    pages = {
        "current": page.number,
        "previous_url": url(page.number - 1) if page.has_previous() else "",
        "next_url": url(page.number + 1) if page.has_next() else "",
        "numbers": [
            (number, url(number))
            for number in range(max(1, page.number - 2), min(paginator.num_pages, page.number + 2) + 1)
        ],
    }
    return render(
        request,
        "referrals/box.html",
        {
            "outbox": outbox,
            "organization": organization,
            "form": form,
            "rows": rows,
            "part2_shown": any(referral.part2 for referral in rows),
            "counts": [(box, label, counts[box]) for box, label in Referral.Box.choices],
            "page": page,
            "pages": pages,
            "show_pages": paginator.num_pages > 1,
        },
    )


# --- A referral's page -------------------------------------------------------------------------------


def _viewable(request: HttpRequest, referral_id: Any) -> Referral:
    """The referral, for a user who may see it; 404 for anyone else, as if it did not exist, recorded as
    a denied access (guessing another organization's ids leaves a trace)."""
    referral = selectors.referral_with_timeline(referral_id=referral_id)
    decision = (
        decide(user=request.user, action=Action.VIEW, referral=referral) if referral else Decision.NOT_FOUND
    )
    if referral is None or decision == Decision.NOT_FOUND:
        audited_denial(
            request=request,
            actor=_user(request),
            subject_type="referral",
            subject_id=str(referral_id),
            detail="referral page",
        )
        raise Http404
    _require(decision)
    return referral


def _detail_response(
    request: HttpRequest,
    referral_id: Any,
    *,
    bound: dict[str, Any] | None = None,
    changed: bool = False,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    """The referral's page, read again (the current state), with any bound form that failed."""
    user = _user(request)
    referral = _audited_referral(request, referral_id)
    bound = bound or {}
    allowed = referral_allowed_actions(user=user, referral=referral)
    action_forms = [
        (
            action,
            bound.get(action.value)
            or ActionForm(prefix=action.value, initial={"seen_status": referral.status}),
        )
        for action in BUTTON_ACTIONS
        if action in allowed
    ]
    may_note = decide(user=user, action=Action.NOTE, referral=referral) == Decision.ALLOWED
    resident = selectors.resident_shown(referral=referral, user=user)
    consent_allowed = (
        resident is referral.resident
        and bool(user_organization_ids(user=user))
        and resident_decide(user=user, action=ResidentAction.CONSENTS, resident=referral.resident)
        == ResidentDecision.ALLOWED
    )
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "resident": resident,
            "typed": resident is not referral.resident,
            "consent_allowed": consent_allowed,
            "action_forms": action_forms,
            "may_close": Action.CLOSE in allowed,
            "note_form": bound.get("note") or (NoteForm() if may_note else None),
            "changed": changed,
            "problem": problem,
        },
        status=status,
    )


def _audited_referral(request: HttpRequest, referral_id: Any) -> Referral:
    """The referral, for a party to it, with the read of its resident recorded."""
    referral = _viewable(request, referral_id)
    return audited_read(
        request=request,
        actor=_user(request),
        subject_type="resident",
        subject_id=str(referral.resident_id),
        read=lambda: referral,
        detail=f"referral {referral.pk}",
    )


@never_cache
@resident_data_required
def referral_detail(request: HttpRequest, referral_id: Any) -> HttpResponse:
    return _detail_response(request, referral_id)


@never_cache
@resident_data_required
@require_POST
def referral_action(request: HttpRequest, referral_id: Any, action: str) -> HttpResponse:
    try:
        chosen = Action(action)
    except ValueError:
        raise Http404 from None
    if chosen not in BUTTON_ACTIONS:
        raise Http404
    referral = _viewable(request, referral_id)
    _require(decide(user=request.user, action=chosen, referral=referral))
    form = ActionForm(request.POST, prefix=chosen.value)
    if not form.is_valid():
        return _detail_response(request, referral_id, bound={chosen.value: form}, status=400)
    try:
        referral_act(
            actor=_user(request),
            referral_id=referral.pk,
            action=chosen,
            seen_status=form.cleaned_data["seen_status"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        errors_add(error, form)
        return _detail_response(request, referral_id, bound={chosen.value: form}, status=400)
    except ReferralChangedError:
        return _detail_response(request, referral_id, changed=True, status=409)
    except ActionNotAllowedError as error:
        return _detail_response(request, referral_id, problem=error.message, status=409)
    messages.success(request, _("The referral was updated."))
    return redirect("referrals:detail", referral_id=referral.pk)


@never_cache
@resident_data_required
@require_POST
def referral_note(request: HttpRequest, referral_id: Any) -> HttpResponse:
    referral = _viewable(request, referral_id)
    _require(decide(user=request.user, action=Action.NOTE, referral=referral))
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            referral_note_add(actor=_user(request), referral_id=referral.pk, body=form.cleaned_data["body"])
        except ValidationError as error:
            errors_add(error, form)
        else:
            messages.success(request, _("Your note was added."))
            return redirect("referrals:detail", referral_id=referral.pk)
    return _detail_response(request, referral_id, bound={"note": form}, status=400)


@never_cache
@resident_data_required
@require_http_methods(["GET", "POST"])
def referral_close(request: HttpRequest, referral_id: Any) -> HttpResponse:
    """The resources overview's "Tell us about your experience" form."""
    referral = _viewable(request, referral_id)
    user = _user(request)
    _require(decide(user=user, action=Action.CLOSE, referral=referral))
    if request.method == "GET":
        if Action.CLOSE not in referral_allowed_actions(user=user, referral=referral):
            return redirect("referrals:detail", referral_id=referral.pk)
        form = CloseForm(initial={"seen_status": referral.status})
        return render(request, "referrals/close.html", {"referral": referral, "form": form})
    form = CloseForm(request.POST)
    status = 400
    if form.is_valid():
        closure = Closure(
            experience=form.cleaned_data["experience"],
            resource_provided=form.provided(),
            reason=form.cleaned_data["reason"],
        )
        try:
            referral_act(
                actor=user,
                referral_id=referral.pk,
                action=Action.CLOSE,
                seen_status=form.cleaned_data["seen_status"],
                closure=closure,
            )
        except ValidationError as error:
            errors_add(error, form)
        except ReferralChangedError:
            return _detail_response(request, referral_id, changed=True, status=409)
        except ActionNotAllowedError as error:
            return _detail_response(request, referral_id, problem=error.message, status=409)
        else:
            messages.success(request, _("The referral is closed. Thank you for telling us how it went."))
            return redirect("referrals:detail", referral_id=referral.pk)
    return render(request, "referrals/close.html", {"referral": referral, "form": form}, status=status)
