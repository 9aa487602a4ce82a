"""The referral specialists' workspace (DESIGN §5.1): the referrals that need outreach, logging an
outreach attempt, confirming an outcome with the resident, and closing referrals to organizations that
have not onboarded as Expired, one by one or in bulk. Thin: `services` writes, `selectors_specialist`
reads, `access` decides who may; every view of residents' details is an access event."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from kynect.accounts.decorators import resident_data_required
from kynect.accounts.models import User
from kynect.core.audit import audited_read
from kynect.core.phones import phone_display
from kynect.referrals.access import Action, Decision, decide
from kynect.referrals.forms_specialist import OutreachForm
from kynect.referrals.models import Referral
from kynect.referrals.selectors_specialist import (
    WORKSPACE_COUNT_LIMIT,
    Queue,
    WorkspacePage,
    referral_for_outreach,
    referral_is_expirable,
    workspace_page,
)
from kynect.referrals.services import (
    ActionNotAllowedError,
    outreach_attempt_log,
    referral_outcome_confirm,
    referrals_expire,
)

MAX_BULK = 200


def _specialist(
    request: HttpRequest, action: Action = Action.WORKSPACE, referral: Referral | None = None
) -> User:
    """The user, if the access table lets them take `action` (on `referral`): a referral they have no part
    in is 404, as everywhere."""
    user: User = request.user  # type: ignore[assignment]
    decision = decide(user=user, action=action, referral=referral)
    if decision == Decision.NOT_FOUND:
        raise Http404
    if decision != Decision.ALLOWED:
        raise PermissionDenied
    return user


def _page_number(request: HttpRequest) -> int:
    try:
        return max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        return 1


def _workspace_url(queue: str) -> str:
    return reverse("referrals:specialist") + "?" + urlencode({"list": queue})


@resident_data_required
@require_http_methods(["GET"])
def specialist_workspace(request: HttpRequest) -> HttpResponse:
    user = _specialist(request)
    queue = request.GET.get("list", Queue.PARTNER)
    page_number = _page_number(request)
    shown: WorkspacePage = audited_read(
        request=request,
        actor=user,
        subject_type="referrals.workspace",
        subject_id=queue if queue in Queue.ALL else Queue.PARTNER,
        read=lambda: workspace_page(queue=queue, page=page_number),
        detail=lambda page: f"page {page.page}: {len(page.rows)} referrals",
    )
    tabs = [
        (Queue.PARTNER, _("Open more than 7 days")),
        (Queue.NOT_ONBOARDED, _("Organizations not onboarded")),
        (Queue.OUTCOME, _("Outcomes to confirm")),
    ]
    return render(
        request,
        "referrals/specialist.html",
        {
            "shown": shown,
            "tabs": [(key, name, _count(shown.counts[key]), _workspace_url(key)) for key, name in tabs],
            "rows": [
                (referral, referral_is_expirable(referral), _phone(referral)) for referral in shown.rows
            ],
            "any_expirable": any(referral_is_expirable(referral) for referral in shown.rows),
            "part2_shown": any(referral.part2 for referral in shown.rows),
            "previous_url": _workspace_url(shown.queue) + f"&page={shown.page - 1}" if shown.page > 1 else "",
            "next_url": _workspace_url(shown.queue) + f"&page={shown.page + 1}" if shown.has_next else "",
        },
    )


def _phone(referral: Referral) -> str:
    return phone_display(referral.resident.mobile_phone) if referral.resident.mobile_phone else ""


def _count(count: int) -> str:
    if count > WORKSPACE_COUNT_LIMIT:
        return _("%(count)s or more") % {
            "count": formats.number_format(WORKSPACE_COUNT_LIMIT, force_grouping=True)
        }
    return str(formats.number_format(count, force_grouping=True))


def _referral_ids(values: list[str]) -> list[uuid.UUID] | None:
    try:
        return [uuid.UUID(value) for value in values]
    except ValueError:
        return None


@resident_data_required
@require_POST
def specialist_expire(request: HttpRequest) -> HttpResponse:
    """Close the chosen referrals as Expired: only those `referrals_expire` may close; the rest stay."""
    user = _specialist(request, Action.EXPIRE)
    ids = _referral_ids(request.POST.getlist("referral"))
    back = _workspace_url(Queue.NOT_ONBOARDED)
    if not ids:
        messages.error(request, _("Choose at least one referral to close."))
        return redirect(back)
    if len(ids) > MAX_BULK:
        messages.error(request, _("Choose at most %(count)s referrals at a time.") % {"count": MAX_BULK})
        return redirect(back)
    closed = referrals_expire(actor=user, referral_ids=ids)
    if closed:
        messages.success(
            request,
            ngettext(
                "Closed %(count)s referral as expired.", "Closed %(count)s referrals as expired.", closed
            )
            % {"count": closed},
        )
    left = len(set(ids)) - closed
    if left:
        messages.warning(
            request,
            ngettext(
                "%(count)s referral was not closed: only open referrals to an organization that has not "
                "onboarded, 14 days old or more, can be closed as expired.",
                "%(count)s referrals were not closed: only open referrals to an organization that has not "
                "onboarded, 14 days old or more, can be closed as expired.",
                left,
            )
            % {"count": left},
        )
    return redirect(back)


@resident_data_required
@require_http_methods(["GET", "POST"])
def specialist_outreach(request: HttpRequest, referral_id: Any) -> HttpResponse:
    """A referral's contact details and outreach attempts, and the form to log one."""
    found = referral_for_outreach(referral_id=referral_id)
    if found is None:
        raise Http404
    user = _specialist(request, Action.OUTREACH, found)
    form = OutreachForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outreach_attempt_log(
                actor=user,
                referral_id=referral_id,
                target=form.cleaned_data["target"],
                channel=form.cleaned_data["channel"],
                result=form.cleaned_data["result"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
        else:
            messages.success(request, _("The outreach attempt is logged."))
            return redirect("referrals:specialist_outreach", referral_id=referral_id)
    referral = audited_read(
        request=request,
        actor=user,
        subject_type="resident",
        subject_id=str(found.resident_id),
        read=lambda: found,
        detail=f"specialist outreach: referral {found.pk}",
    )
    return render(
        request,
        "referrals/specialist_outreach.html",
        {
            "referral": referral,
            "form": form,
            "expirable": referral_is_expirable(referral),
            "phone": _phone(referral),
            "outcome_to_confirm": referral.closed_at is not None and referral.outcome_confirmed_at is None,
        },
        status=400 if form.errors else 200,
    )


@resident_data_required
@require_POST
def specialist_outcome_confirm(request: HttpRequest, referral_id: Any) -> HttpResponse:
    user = _specialist(request, Action.OUTREACH)
    try:
        referral_outcome_confirm(actor=user, referral_id=referral_id)
    except ActionNotAllowedError as error:
        messages.error(request, error.message)
        return redirect("referrals:specialist_outreach", referral_id=referral_id)
    except Referral.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The outcome is confirmed with the resident."))
    return redirect(_workspace_url(Queue.OUTCOME))
