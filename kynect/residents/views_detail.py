"""The Resident Detail Screen (issue 17, laid out as the resources overview shows it): the full record for
those with consent (and the resident, and state administrators' audited lookups), the limited view for a
partner holding a referral, nothing for anyone else; and notes, added and edited (24 hours) from it.
Thin: `services_notes` writes, `access` decides, every view goes through `audited_read`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kynect.accounts.decorators import resident_data_required
from kynect.accounts.models import Organization, User
from kynect.accounts.selectors import organization_names_of_users
from kynect.core.audit import audited_denial, audited_read
from kynect.core.forms import form_errors_add
from kynect.core.models import AccessEvent
from kynect.residents.access import (
    Action,
    Decision,
    View,
    consent_in_force,
    decide,
    resident_view,
    staff_organization_ids,
)
from kynect.residents.forms import ResidentNoteForm
from kynect.residents.models import Resident, ResidentNote
from kynect.residents.sections import resident_sections
from kynect.residents.services_notes import (
    resident_email_send,
    resident_note_add,
    resident_note_edit,
    resident_note_editable,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _denied(request: HttpRequest, resident_id: Any, what: str) -> Http404:
    audited_denial(
        request=request,
        actor=_user(request),
        subject_type="resident",
        subject_id=str(resident_id),
        detail=what,
    )
    return Http404()


# How many household members, programs and notes the Resident Detail Screen shows before "View All".
RECENT = 5
LIST_PAGE = 25


def _screen(
    request: HttpRequest, resident: Resident, view: View, forms: dict[str, ResidentNoteForm]
) -> dict[str, Any]:
    """Everything the screen shows, read in one audited read."""
    user = _user(request)
    full = view == View.FULL
    sections = resident_sections(resident=resident, user=user, view=view)
    household = list(resident.household.all()[: RECENT + 1]) if full else []
    programs = list(resident.programs.all()[: RECENT + 1]) if full else []
    notes = list(resident.notes.select_related("author", "organization")[: RECENT + 1]) if full else []
    return {
        "resident": resident,
        "view": view.value,
        # Each list shows its first few; "View All" opens the whole of it (`resident_list`).
        "household": household[:RECENT],
        "household_more": len(household) > RECENT,
        "programs": programs[:RECENT],
        "programs_more": len(programs) > RECENT,
        "notes": [(note, resident_note_editable(note=note, user=user)) for note in notes[:RECENT]],
        "notes_more": len(notes) > RECENT,
        "sections": sections,
        "part2_shown": any(section.part2 for section in sections),
        "note_form": forms.get("note"),
        "email_form": forms.get("email"),
        "may_note": decide(user=user, action=Action.NOTE, resident=resident) == Decision.ALLOWED,
        "may_assess": bool(staff_organization_ids(user=user))
        and decide(user=user, action=Action.ASSESS, resident=resident) == Decision.ALLOWED,
        "may_email": bool(resident.email)
        and decide(user=user, action=Action.SEND_EMAIL, resident=resident) == Decision.ALLOWED,
        "may_consent": bool(staff_organization_ids(user=user))
        and decide(user=user, action=Action.CONSENTS, resident=resident) == Decision.ALLOWED,
    }


# What a POST from the screen does: the form it fills (by its `form` field), the service, the message.
_POSTS = {
    "note": (resident_note_add, gettext_lazy("The note was added.")),
    "email": (resident_email_send, gettext_lazy("The email was sent.")),
}


@never_cache
@resident_data_required
@require_http_methods(["GET", "POST"])
def resident_detail(request: HttpRequest, resident_id: Any) -> HttpResponse:
    user = _user(request)
    resident = Resident.objects.filter(pk=resident_id).first()
    view = resident_view(user=user, resident=resident) if resident is not None else View.NONE
    if resident is None or view == View.NONE:
        raise _denied(request, resident_id, "resident detail screen")
    kind = request.POST.get("form", "note") if request.method == "POST" else ""
    forms = (
        {name: ResidentNoteForm(request.POST if kind == name else None, prefix=name) for name in _POSTS}
        if view == View.FULL
        else {}
    )
    status = 200
    if request.method == "POST":
        if kind not in forms:
            raise PermissionDenied
        form = forms[kind]
        if form.is_valid():
            organization = (
                Organization.objects.filter(pk__in=staff_organization_ids(user=user)).order_by("name").first()
            )
            if organization is None:
                raise PermissionDenied
            service, done = _POSTS[kind]
            try:
                service(
                    actor=user,
                    resident=resident,
                    organization=organization,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                )
                messages.success(request, str(done))
                return redirect("residents:detail", resident_id=resident.pk)
            except ValidationError as error:
                form_errors_add(form, error)
        status = 400
    consent = consent_in_force(user=user, resident=resident) if view == View.FULL else None
    context = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: _screen(request, resident, view, forms),
        detail=f"resident detail screen ({view.value})",
        consent_id=consent.pk if consent else None,
    )
    return render(request, "residents/detail.html", context, status=status)


@never_cache
@resident_data_required
@require_http_methods(["GET", "POST"])
def resident_note_edit_view(request: HttpRequest, resident_id: Any, note_id: Any) -> HttpResponse:
    user = _user(request)
    note = ResidentNote.objects.select_related("resident").filter(pk=note_id, resident_id=resident_id).first()
    if note is None or resident_view(user=user, resident=note.resident) != View.FULL:
        raise _denied(request, resident_id, "resident note")
    if not resident_note_editable(note=note, user=user):
        raise PermissionDenied
    form = ResidentNoteForm(request.POST or None, initial={"subject": note.subject, "body": note.body})
    if request.method == "POST" and form.is_valid():
        try:
            resident_note_edit(
                actor=user,
                note_id=note.pk,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
            )
            messages.success(request, _("The note was changed."))
            return redirect("residents:detail", resident_id=note.resident_id)
        except ValidationError as error:
            form_errors_add(form, error)
    return render(
        request,
        "residents/note_edit.html",
        {"note": note, "resident": note.resident, "form": form},
        status=400 if request.method == "POST" else 200,
    )


ACCESS_LOG_PAGE = 50


@never_cache
@login_required
@require_http_methods(["GET"])
def resident_access_log(request: HttpRequest, resident_id: Any) -> HttpResponse:
    """Who looked at a resident's data, and when: the resident's own (in My Plan) and a state
    administrator's audited lookup. Reading it is recorded too."""
    user = _user(request)
    resident = Resident.objects.filter(pk=resident_id).first()
    decision = (
        decide(user=user, action=Action.ACCESS_LOG, resident=resident) if resident else Decision.NOT_FOUND
    )
    if decision == Decision.FORBIDDEN:
        raise PermissionDenied
    if decision != Decision.ALLOWED or resident is None:
        raise _denied(request, resident_id, "access log")
    is_resident = resident.user_id == user.pk
    paginator = Paginator(
        AccessEvent.objects.filter(subject_type="resident", subject_id=str(resident.pk)).order_by(
            "-occurred_at"
        ),
        ACCESS_LOG_PAGE,
    )

    def read() -> tuple[Any, list[AccessEvent]]:
        # Read whole before this reading is itself recorded: the page is the log as it was when asked.
        page = paginator.get_page(request.GET.get("page"))
        return page, list(page.object_list)

    page, events = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=read,
        detail="access log",
        action=AccessEvent.Action.VIEW if is_resident else AccessEvent.Action.LOOKUP,
    )
    organizations = organization_names_of_users(
        user_ids={event.actor_id for event in events if event.actor_id}
    )
    rows = [
        {
            "event": event,
            "who": ", ".join(organizations.get(event.actor_id, [])) if is_resident else event.actor_label,
            "organizations": ", ".join(organizations.get(event.actor_id, [])),
        }
        for event in events
    ]
    return render(
        request,
        "residents/access_log.html",
        {"resident": resident, "rows": rows, "page": page, "is_resident": is_resident},
    )


# The Resident Detail Screen's "View All" pages: the part, its heading.
LIST_PARTS = {
    "household": gettext_lazy("Household"),
    "programs": gettext_lazy("Enrolled Programs"),
    "notes": gettext_lazy("Notes"),
    "plan": gettext_lazy("Referrals"),
}


def _list_read(request: HttpRequest, resident: Resident, part: str) -> dict[str, Any]:
    user = _user(request)
    if part == "plan":
        # The resident's plan as staff with consent see it: every referral with its history, less the
        # Part 2 ones they may not see (the section asks `referrals_part2_masked`).
        sections = resident_sections(resident=resident, user=user, view=View.FULL, place="plan")
        return {"sections": sections, "part2_shown": any(section.part2 for section in sections)}
    rows = {
        "household": resident.household.all(),
        "programs": resident.programs.all(),
        "notes": resident.notes.select_related("author", "organization"),
    }[part]
    page = Paginator(rows, LIST_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    if part == "notes":
        items = [(note, resident_note_editable(note=note, user=user)) for note in items]
    return {"page": page, "items": items}


@never_cache
@resident_data_required
@require_http_methods(["GET"])
def resident_list(request: HttpRequest, resident_id: Any, part: str) -> HttpResponse:
    """One part of the Resident Detail Screen whole (its "View All"): household, enrolled programs, notes,
    or the resident's plan (their referrals with their history). The full view's, so consent's."""
    user = _user(request)
    if part not in LIST_PARTS:
        raise Http404
    resident = Resident.objects.filter(pk=resident_id).first()
    if resident is None or resident_view(user=user, resident=resident) != View.FULL:
        raise _denied(request, resident_id, f"resident {part}")
    consent = consent_in_force(user=user, resident=resident)
    context = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: _list_read(request, resident, part),
        detail=f"resident {part}",
        consent_id=consent.pk if consent else None,
    )
    return render(
        request,
        "residents/list.html",
        {**context, "resident": resident, "part": part, "heading": LIST_PARTS[part]},
    )
