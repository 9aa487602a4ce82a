"""The lifecycle of an outbox message (DESIGN §5.5): every status change is one of these transitions,
applied by `kynect.core.lifecycle` as one conditional UPDATE, so two workers never both send a message
(a batch is claimed with `apply_all` on rows locked with SKIP LOCKED, `notifications.delivery`).

    pending --claim--> sending --sent--> sent
    sending --suppress (the number opted out)--> suppressed
    sending --fail (withdrawn, or out of attempts)--> failed
    sending --retry (an attempt failed)--> pending
    sending --release (a claim gone stale: the worker died)--> pending
"""

from __future__ import annotations

from django.db.models import F

from kynect.core.lifecycle import NOW, Lifecycle, Transition
from kynect.notifications.models import OutboundMessage

_Status = OutboundMessage.Status

OUTBOUND_MESSAGE = Lifecycle(
    model=OutboundMessage,
    states=_Status.values,
    initial=_Status.PENDING,
    transitions=[
        Transition(
            "claim",
            (_Status.PENDING,),
            _Status.SENDING,
            sets={"claimed_at": NOW, "attempts": F("attempts") + 1},
        ),
        Transition(
            "sent",
            (_Status.SENDING,),
            _Status.SENT,
            sets={"sent_at": NOW, "next_attempt_at": None, "last_error": ""},
        ),
        Transition("suppress", (_Status.SENDING,), _Status.SUPPRESSED, sets={"next_attempt_at": None}),
        Transition("fail", (_Status.SENDING,), _Status.FAILED, sets={"next_attempt_at": None}),
        Transition("retry", (_Status.SENDING,), _Status.PENDING),
        Transition("release", (_Status.SENDING,), _Status.PENDING, sets={"next_attempt_at": NOW}),
    ],
)
