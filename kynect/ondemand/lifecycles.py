"""The lifecycles of On Demand (DESIGN §5.4): help requests, their offers and helpers' registration.

Every status change of these models is one of the transitions below, applied by `kynect.core.lifecycle`
as one conditional UPDATE. A help request's and its offers' transitions write a `HelpRequestEvent` in the
same transaction; a helper's de-registration writes its `Deregistration` row.

Help request:

    pending --accept--> in_progress --complete (with outcome)--> complete
    in_progress --reassign--> in_progress (another helper)
    in_progress --return (the link accept's passcode never came)--> pending
    pending --cancel (by the requester)--> cancelled
    pending --unserve (the waiting limit passed)--> unserved

Offer (the help request's row is locked before its offers):

    pending --accept--> accepted --abandon (passcode not verified by verify_due_at)--> abandoned
    pending --reject--> rejected
    pending --expire (expires_at passed; a miss, for a General offer)--> expired
    pending --rescind (another helper won, the request closed, or the helper was de-registered)--> rescinded
    accepted --withdraw (the helper was de-registered before entering the passcode)--> rescinded

Helper:

    not_registered --register--> registered --deregister--> deregistered --restart--> not_registered
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import models

from kynect.core.lifecycle import NOW, Lifecycle, Transition
from kynect.ondemand.models import Deregistration, Helper, HelpRequest, HelpRequestEvent, Offer

_Request = HelpRequest.Status
_Offer = Offer.Status
_Helper = Helper.Status


def _event(
    transition: Transition, now: datetime, details: Mapping[str, Any], *, help_request_id: Any, offer_id: Any
) -> HelpRequestEvent:
    return HelpRequestEvent(
        help_request_id=help_request_id,
        offer_id=offer_id,
        transition=transition.name,
        from_status=transition.sources[0] if len(transition.sources) == 1 else "",
        to_status=transition.target,
        at=now,
        actor_id=details.get("actor_id"),
    )


def _help_request_events(
    transition: Transition, ids: Sequence[Any], now: datetime, details: Mapping[str, Any]
) -> list[models.Model]:
    return [_event(transition, now, details, help_request_id=pk, offer_id=None) for pk in ids]


def _offer_events(
    transition: Transition, ids: Sequence[Any], now: datetime, details: Mapping[str, Any]
) -> list[models.Model]:
    """Callers pass the offers' `help_request` unless they pass the one offer as `instance`."""
    owner = details.get("help_request")
    help_request_id = owner.pk if owner is not None else details["instance"].help_request_id
    return [_event(transition, now, details, help_request_id=help_request_id, offer_id=pk) for pk in ids]


def _helper_events(
    transition: Transition, ids: Sequence[Any], now: datetime, details: Mapping[str, Any]
) -> list[models.Model]:
    if transition.name != "deregister":
        return []
    return [Deregistration(helper_id=helper_id, at=now, reason=details["reason"]) for helper_id in ids]


HELP_REQUEST = Lifecycle(
    model=HelpRequest,
    states=_Request.values,
    initial=_Request.PENDING,
    event=_help_request_events,
    transitions=[
        Transition(
            "accept",
            (_Request.PENDING,),
            _Request.IN_PROGRESS,
            sets={"accepted_at": NOW, "route_at": None, "waiting_since": None},
        ),
        Transition("reassign", (_Request.IN_PROGRESS,), _Request.IN_PROGRESS),
        Transition(
            "return",
            (_Request.IN_PROGRESS,),
            _Request.PENDING,
            sets={"accepted_helper": None, "accepted_at": None},
        ),
        Transition(
            "complete", (_Request.IN_PROGRESS,), _Request.COMPLETE, sets={"closed_at": NOW, "link_key": ""}
        ),
        Transition(
            "cancel",
            (_Request.PENDING,),
            _Request.CANCELLED,
            sets={"closed_at": NOW, "link_key": "", "route_at": None},
        ),
        Transition(
            "unserve",
            (_Request.PENDING,),
            _Request.UNSERVED,
            sets={"closed_at": NOW, "link_key": "", "route_at": None},
        ),
    ],
)

OFFER = Lifecycle(
    model=Offer,
    states=_Offer.values,
    initial=_Offer.PENDING,
    event=_offer_events,
    transitions=[
        Transition(
            "accept",
            (_Offer.PENDING,),
            _Offer.ACCEPTED,
            sets={"responded_at": NOW, "remind_at": None, "link_key": ""},
        ),
        Transition(
            "reject",
            (_Offer.PENDING,),
            _Offer.REJECTED,
            sets={"responded_at": NOW, "remind_at": None, "link_key": ""},
        ),
        Transition("expire", (_Offer.PENDING,), _Offer.EXPIRED, sets={"remind_at": None, "link_key": ""}),
        Transition(
            "rescind",
            (_Offer.PENDING,),
            _Offer.RESCINDED,
            sets={"responded_at": None, "remind_at": None, "link_key": ""},
        ),
        Transition("abandon", (_Offer.ACCEPTED,), _Offer.ABANDONED, sets={"counted_miss": True}),
        Transition("withdraw", (_Offer.ACCEPTED,), _Offer.RESCINDED, sets={"verify_due_at": None}),
    ],
)

HELPER = Lifecycle(
    model=Helper,
    states=_Helper.values,
    initial=_Helper.NOT_REGISTERED,
    event=_helper_events,
    transitions=[
        Transition(
            "register",
            (_Helper.NOT_REGISTERED,),
            _Helper.REGISTERED,
            sets={
                "registered_at": NOW,
                "deregistered_at": None,
                "deregistration_reason": "",
                "consecutive_misses": 0,
            },
        ),
        Transition(
            "deregister",
            (_Helper.REGISTERED,),
            _Helper.DEREGISTERED,
            sets={
                "deregistered_at": NOW,
                "is_available": False,
                "terms_agreed_at": None,
                "contact_completed_at": None,
                "schedule_completed_at": None,
            },
        ),
        Transition("restart", (_Helper.DEREGISTERED,), _Helper.NOT_REGISTERED),
    ],
)
