"""The referral's lifecycle (DESIGN §5.1): FHIR Task's statuses, each change one conditional UPDATE with
its timeline event in the same transaction (`kynect.core.lifecycle`).

    requested --accept--> accepted --start--> in-progress
    requested --start--> in-progress
    accepted | in-progress --hold (reason)--> on-hold --resume--> in-progress
    requested | accepted --reject (reason)--> rejected
    requested | accepted | in-progress | on-hold --cancel (by the sender)--> cancelled
    requested | accepted | in-progress | on-hold --close (resource provided)--> completed
    requested | accepted | in-progress | on-hold --close (not provided, a reason)--> failed
    requested | accepted | in-progress | on-hold --expire (a specialist; not onboarded, 14 days)--> cancelled
    completed | failed --reopen (by the receiver, a reason)--> in-progress

`close` is two transitions, `complete` and `fail`, by whether the resource was provided. `reopen` clears the
closing's fields; the timeline keeps both, and the incentive report pays a referral's closing once
(ADR 0043).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import models

from kynect.core.lifecycle import NOW, Lifecycle, Transition
from kynect.referrals.models import Referral, ReferralEvent

_S = Referral.Status
OPEN = (_S.REQUESTED, _S.ACCEPTED, _S.IN_PROGRESS, _S.ON_HOLD)


def _referral_events(
    transition: Transition, ids: Sequence[Any], now: datetime, details: Mapping[str, Any]
) -> list[models.Model]:
    instance = details.get("instance")
    from_status = details.get("from_status", "")
    return [
        ReferralEvent(
            referral_id=pk,
            transition=transition.name,
            from_status=from_status if instance is not None else "",
            to_status=transition.target,
            at=now,
            actor=details.get("actor"),
            organization=details.get("organization"),
            detail=str(details.get("detail", ""))[:500],
        )
        for pk in ids
    ]


REFERRAL = Lifecycle(
    model=Referral,
    states=_S.values,
    initial=_S.REQUESTED,
    event=_referral_events,
    transitions=[
        Transition("accept", (_S.REQUESTED,), _S.ACCEPTED),
        Transition("start", (_S.REQUESTED, _S.ACCEPTED), _S.IN_PROGRESS),
        Transition("hold", (_S.ACCEPTED, _S.IN_PROGRESS), _S.ON_HOLD),
        Transition("resume", (_S.ON_HOLD,), _S.IN_PROGRESS),
        Transition("reject", (_S.REQUESTED, _S.ACCEPTED), _S.REJECTED, sets={"closed_at": NOW}),
        Transition("cancel", OPEN, _S.CANCELLED, sets={"closed_at": NOW}),
        Transition("complete", OPEN, _S.COMPLETED, sets={"closed_at": NOW, "resource_provided": True}),
        Transition("fail", OPEN, _S.FAILED, sets={"closed_at": NOW, "resource_provided": False}),
        Transition(
            "expire",
            OPEN,
            _S.CANCELLED,
            sets={"closed_at": NOW, "not_provided_reason": "expired"},
        ),
        Transition(
            "reopen",
            (_S.COMPLETED, _S.FAILED),
            _S.IN_PROGRESS,
            sets={
                "closed_at": None,
                "closed_by": None,
                "resource_provided": None,
                "not_provided_reason": "",
                "experience": "",
                "outcome_confirmed_at": None,
            },
        ),
    ],
)
