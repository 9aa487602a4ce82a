"""Helpers' pages for referrals: the link's Manage Referral page, the passcode, Customer Details, and the
desktop Referral Manager of the Quick Updates Dashboard. (Being built: see issue notes.)"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def offer_link(request: HttpRequest, offer_id: Any, token: str) -> HttpResponse:
    raise Http404


def referrals(request: HttpRequest) -> HttpResponse:
    raise Http404
