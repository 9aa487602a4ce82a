"""Referral pages. Thin: `services` writes, `selectors` reads, `access` decides who may."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kynect.core.audit import audited_read
from kynect.referrals import selectors
from kynect.referrals.access import Action, Decision, decide
from kynect.referrals.services import referral_allowed_actions


@login_required
def referral_detail(request: HttpRequest, referral_id: Any) -> HttpResponse:
    referral = selectors.referral_with_timeline(referral_id=referral_id)
    if referral is None:
        raise Http404
    decision = decide(user=request.user, action=Action.VIEW, referral=referral)
    if decision == Decision.NOT_FOUND:
        raise Http404
    if decision != Decision.ALLOWED:
        raise PermissionDenied
    referral = audited_read(
        request=request,
        actor=request.user,  # type: ignore[arg-type]
        subject_type="resident",
        subject_id=str(referral.resident_id),
        read=lambda: referral,
        detail=f"referral {referral.pk}",
    )
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "actions": referral_allowed_actions(user=request.user, referral=referral),  # type: ignore[arg-type]
        },
    )
