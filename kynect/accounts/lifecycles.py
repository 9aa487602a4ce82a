"""The lifecycle of a platform organization's onboarding (the issue's partner onboarding, ADR 0037).

    applied --approve (a state administrator; sets onboarded_at: a KY Partner)--> approved
    applied --decline (a state administrator, with a reason)--> declined

Each transition is one conditional UPDATE: of two administrators deciding the same application at once,
the second finds it decided and changes nothing.
"""

from __future__ import annotations

from kynect.accounts.models import Organization
from kynect.core.lifecycle import NOW, Lifecycle, Transition

_Status = Organization.Status

ORGANIZATION_ONBOARDING = Lifecycle(
    model=Organization,
    states=_Status.values,
    initial=_Status.APPLIED,
    transitions=[
        Transition(
            "approve", (_Status.APPLIED,), _Status.APPROVED, sets={"onboarded_at": NOW, "decided_at": NOW}
        ),
        Transition("decline", (_Status.APPLIED,), _Status.DECLINED, sets={"decided_at": NOW}),
    ],
)
