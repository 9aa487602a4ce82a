"""What a view that shows resident data calls first (the referral pages among them)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from kynect.accounts.models import User
from kynect.accounts.selectors import (
    user_may_see_resident_data,
    user_sees_only_own_data,
    user_training_is_current,
)

View = Callable[..., HttpResponse]


def resident_data_required(view: View) -> View:
    """Signed in, trained, and in an onboarded organization or a statewide role
    (`user_may_see_resident_data`), or a resident, who sees only their own (`user_sees_only_own_data`).
    Someone missing only the training is sent to attest it and brought back; anyone else is refused."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        assert isinstance(user, User)
        if user_may_see_resident_data(user=user) or user_sees_only_own_data(user=user):
            return view(request, *args, **kwargs)
        if not user_training_is_current(user=user):
            return redirect(training_url(next_url=request.get_full_path()))
        raise PermissionDenied

    return wrapped


def training_url(*, next_url: str) -> str:
    return f"{reverse('accounts:training')}?{urlencode({'next': next_url})}"
