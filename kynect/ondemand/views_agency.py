"""The page where agency admins (for their agency) and state administrators mark kynectors and agency
admins active for kynect On Demand (DESIGN §5.4)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kynect.accounts.models import Membership, User
from kynect.core.audit import audited_read
from kynect.ondemand.selectors import agency_memberships_managed_by, can_manage_helpers, can_set_agency_active
from kynect.ondemand.services.deregistration import helper_agency_active_set

PAGE_SIZE = 50


@login_required
def helpers_manage(request: HttpRequest) -> HttpResponse:
    """Agency admins (their agency) and state administrators see kynectors and agency admins and mark
    them active for kynect On Demand. Viewing the list is recorded as an access event."""
    user = request.user
    if not isinstance(user, User) or not can_manage_helpers(user=user):
        raise PermissionDenied

    def read() -> tuple[Page[Membership], list[dict[str, Any]]]:
        page = Paginator(agency_memberships_managed_by(user=user), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = [
            {
                "membership": membership,
                "helper": getattr(membership.user, "helper", None),
                "can_set": can_set_agency_active(actor=user, membership=membership),
            }
            for membership in page.object_list
        ]
        return page, rows

    page, rows = audited_read(
        request=request,
        actor=user,
        subject_type="ondemand.agency_helpers",
        subject_id="list",
        read=read,
        detail=lambda shown: f"page {shown[0].number}: {len(shown[1])} kynectors and agency admins",
    )
    return render(request, "ondemand/helpers_manage.html", {"page": page, "rows": rows})


@login_required
@require_POST
def helper_active_set(request: HttpRequest, membership_id: Any) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=membership_id
    )
    active = request.POST.get("active") == "on"
    try:
        helper_agency_active_set(actor=user, membership=membership, active=active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        name = membership.user.get_full_name() or membership.user.email
        messages.success(
            request,
            (
                _("%(name)s is marked active for kynect On Demand.")
                if active
                else _("%(name)s is no longer active for kynect On Demand.")
            )
            % {"name": name},
        )
    return redirect("ondemand:helpers_manage")
