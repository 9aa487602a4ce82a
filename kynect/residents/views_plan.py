"""My Plan (issue 17): a signed-in resident's referrals with their full history, their consents with
Revoke and Grant, their assessments, and which organizations looked at their profile and when; with a
printable view. Thin: `services_consent` writes, every view goes through `audited_read`."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from kynect.accounts.models import User
from kynect.accounts.selectors import organization_names_of_users
from kynect.core import clock
from kynect.core.audit import audited_read
from kynect.core.models import AccessEvent
from kynect.residents.access import View
from kynect.residents.models import Consent, Resident
from kynect.residents.sections import resident_sections
from kynect.residents.services import resident_khie_sharing_set
from kynect.residents.services_consent import consent_grant_by_resident, consent_revoke

LOOKS_SHOWN = 10


def _own(request: HttpRequest) -> tuple[User, Resident | None]:
    user = request.user
    assert isinstance(user, User)
    return user, Resident.objects.filter(user=user).first()


def _plan(user: User, resident: Resident) -> dict[str, Any]:
    looks = list(
        AccessEvent.objects.filter(subject_type="resident", subject_id=str(resident.pk))
        .exclude(actor=user)
        .exclude(action=AccessEvent.Action.DENIED)
        .order_by("-occurred_at")[:LOOKS_SHOWN]
    )
    organizations = organization_names_of_users(user_ids={look.actor_id for look in looks if look.actor_id})
    sections = resident_sections(resident=resident, user=user, view=View.FULL, place="plan")
    return {
        "resident": resident,
        "now": clock.now(),
        "sections": sections,
        "part2_shown": any(section.part2 for section in sections),
        "consents": list(
            Consent.objects.filter(resident=resident)
            .select_related("organization")
            .order_by("organization__name", "kind")
        ),
        "looks": [(look, ", ".join(organizations.get(look.actor_id, []))) for look in looks],
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_plan(request: HttpRequest) -> HttpResponse:
    user, resident = _own(request)
    if resident is None:
        return render(request, "residents/my_plan.html", {"resident": None})
    if request.method == "POST" and request.POST.get("form") == "khie":
        choice = request.POST.get("share")
        if choice not in ("yes", "no"):
            messages.error(request, _("Choose whether to share."))
        else:
            resident_khie_sharing_set(actor=user, resident=resident, share=choice == "yes")
            messages.success(request, _("Your choice about sharing with KHIE is saved."))
        return redirect("residents:my_plan")
    if request.method == "POST":
        try:
            consent_id = uuid.UUID(request.POST.get("consent", ""))
        except ValueError:
            raise Http404 from None
        consent = (
            Consent.objects.filter(pk=consent_id, resident=resident).select_related("organization").first()
        )
        if consent is None:
            raise Http404
        try:
            if request.POST.get("form") == "revoke":
                consent_revoke(actor=user, consent_id=consent.pk)
                messages.success(
                    request,
                    _("%(organization)s can no longer see your profile.")
                    % {"organization": consent.organization.name},
                )
            elif request.POST.get("form") == "grant":
                consent_grant_by_resident(actor=user, consent_id=consent.pk)
                messages.success(
                    request,
                    _("%(organization)s can now see your profile.")
                    % {"organization": consent.organization.name},
                )
            else:
                raise Http404
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied:
            raise
        return redirect("residents:my_plan")
    context = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: _plan(user, resident),
        detail="my plan",
    )
    return render(request, "residents/my_plan.html", context)


@never_cache
@login_required
@require_safe
def my_plan_print(request: HttpRequest) -> HttpResponse:
    """My Plan to print or save: the same content without forms, the print recorded as such."""
    user, resident = _own(request)
    if resident is None:
        raise Http404
    context = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(resident.pk),
        read=lambda: _plan(user, resident),
        detail="my plan",
        action=AccessEvent.Action.PRINT,
    )
    return render(request, "residents/my_plan.html", {**context, "printing": True})
