"""De-registering a kynect On Demand helper, by any cause (DESIGN §5.4; the On Demand FAQ): three
consecutive misses, a licence that no longer qualifies, their agency admin or a state administrator marking
them not active, or the helper leaving.

A de-registered helper takes no more referrals: their pending offers are rescinded in the same transaction
and those requests are routed again at once, to other helpers. A link accept whose passcode they have not
entered yet is withdrawn the same way: without the passcode they never saw the resident's details, and a
de-registered helper must not see them now.

Locking: the help requests of the helper's pending offers are locked before the helper's row is written,
the order of every offer transition (an accept locks the request, then writes the helper's misses), so a
de-registration and an accept at the same moment wait for each other instead of deadlocking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kynect.accounts.models import Membership, User
from kynect.core import clock
from kynect.core.codes import codes_close
from kynect.ondemand import messages
from kynect.ondemand.lifecycles import HELP_REQUEST, HELPER, OFFER
from kynect.ondemand.models import Helper, HelpRequest, Offer, OfferPasscode
from kynect.ondemand.selectors import HELPER_ROLES, can_set_agency_active
from kynect.ondemand.services.offers import help_request_lock, help_request_route_locked

MISSES_WARNING = 2
MISSES_DEREGISTER = 3  # the On Demand FAQ: three consecutive misses de-register a helper


def _unverified_accept() -> Q:
    """A link accept still waiting for its passcode (a desktop accept needs none)."""
    return Q(status=Offer.Status.ACCEPTED, accepted_via=Offer.Via.LINK, verified_at__isnull=True)


def _offered_requests_lock(offers_to: Q) -> list[HelpRequest]:
    """The help requests with a pending offer, or an accept still waiting for its passcode, to the helper
    `offers_to` names, locked for the transaction."""
    request_ids = Offer.objects.filter(
        offers_to, Q(status=Offer.Status.PENDING) | _unverified_accept()
    ).values_list("help_request_id", flat=True)
    locked = (help_request_lock(request_id) for request_id in sorted(request_ids))
    return [help_request for help_request in locked if help_request is not None]


@transaction.atomic
def helper_deregister(*, helper: Helper, reason: str, now: datetime | None = None) -> bool:
    """registered → deregistered, with the reason; the helper's pending offers are rescinded, their link
    accepts not yet verified by passcode withdrawn, and those requests routed again. The helper must go
    through the three steps again.

    Returns False when the helper was not registered (nothing changes).
    """
    if reason not in Helper.DeregistrationReason.values:
        raise ValueError(f"Unknown de-registration reason {reason!r}")
    now = now or clock.now()
    offered = _offered_requests_lock(Q(helper_id=helper.pk))
    if not HELPER.apply(
        "deregister",
        instance=helper,
        now=now,
        values={"deregistration_reason": reason},
        event={"reason": reason},
    ):
        return False
    for help_request in offered:
        theirs = Offer.objects.filter(help_request=help_request, helper=helper)
        OFFER.apply_all("rescind", queryset=theirs, now=now, event={"help_request": help_request})
        withdrawn = OFFER.apply_all(
            "withdraw",
            queryset=theirs.filter(_unverified_accept()),
            now=now,
            event={"help_request": help_request},
        )
        if withdrawn:
            codes_close(owned=OfferPasscode.objects.filter(offer__in=theirs), now=now)
            HELP_REQUEST.apply(
                "return", instance=help_request, now=now, where=Q(accepted_helper_id=helper.pk)
            )
        help_request_route_locked(help_request=help_request, now=now)
    return True


def helper_miss(*, helper_id: Any, now: datetime) -> None:
    """A missed referral: the helper is set unavailable until they switch back; a warning after the
    second in a row; the third de-registers them (the On Demand FAQ)."""
    _offered_requests_lock(Q(helper_id=helper_id))  # before the helper's row: a third miss de-registers
    Helper.objects.filter(pk=helper_id).update(
        consecutive_misses=F("consecutive_misses") + 1, is_available=False, updated_at=now
    )
    helper = Helper.objects.select_related("user").get(pk=helper_id)
    if helper.consecutive_misses >= MISSES_DEREGISTER:
        if helper_deregister(helper=helper, reason=Helper.DeregistrationReason.MISSED_REFERRALS, now=now):
            messages.helper_missed_notify(helper=helper, deregistered=True)
    elif helper.consecutive_misses == MISSES_WARNING:
        messages.helper_missed_notify(helper=helper, deregistered=False)
    else:
        messages.helper_unavailable_notify(helper=helper)


@transaction.atomic
def helper_agency_active_set(*, actor: User, membership: Membership, active: bool) -> Helper:
    """An agency admin (for their agency) or a state administrator marks a kynector or agency admin
    active or not for kynect On Demand. Marking a registered helper inactive de-registers them."""
    if not can_set_agency_active(actor=actor, membership=membership):
        raise PermissionDenied
    role = HELPER_ROLES[membership.role]  # type: ignore[index]
    if not active:
        _offered_requests_lock(Q(helper__user_id=membership.user_id))
    helper, _created = Helper.objects.select_for_update(of=("self",)).get_or_create(
        user_id=membership.user_id, defaults={"role": role, "organization": membership.organization}
    )
    if helper.role == Helper.Role.AGENT:
        raise ValidationError(_("This person registered as an insurance agent; agents need no active flag."))
    now = clock.now()
    Helper.objects.filter(pk=helper.pk).update(
        agency_active=active, agency_active_changed_at=now, agency_active_changed_by=actor, updated_at=now
    )
    helper.agency_active, helper.agency_active_changed_at, helper.agency_active_changed_by = (
        active,
        now,
        actor,
    )
    if not active:
        helper_deregister(helper=helper, reason=Helper.DeregistrationReason.DEACTIVATED, now=now)
    return helper
