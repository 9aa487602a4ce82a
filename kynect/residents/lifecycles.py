"""Consent's lifecycle (DESIGN §5.2), FHIR Consent's states. A consent row is made in its first state
(`services.consent_grant_pre_consent` makes it `active`); every later change is a transition here, with
its event in `ConsentEvent`.

    proposed --grant--> active --revoke--> inactive
    proposed --decline--> rejected
    rejected | inactive --request--> proposed
    proposed | rejected | inactive --grant--> active
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import models

from kynect.core.lifecycle import NOW, Lifecycle, Transition
from kynect.residents.models import Consent, ConsentEvent

_S = Consent.Status


def _consent_events(
    transition: Transition, ids: Sequence[Any], now: datetime, details: Mapping[str, Any]
) -> list[models.Model]:
    return [
        ConsentEvent(
            consent_id=pk,
            transition=transition.name,
            from_status=details.get("from_status", ""),
            to_status=transition.target,
            channel=details.get("channel", ""),
            at=now,
            actor=details.get("actor"),
            note=details.get("note", ""),
        )
        for pk in ids
    ]


CONSENT = Lifecycle(
    model=Consent,
    states=_S.values,
    initial=_S.PROPOSED,
    event=_consent_events,
    transitions=[
        Transition("request", (_S.REJECTED, _S.INACTIVE), _S.PROPOSED),
        Transition("grant", (_S.PROPOSED, _S.REJECTED, _S.INACTIVE), _S.ACTIVE, sets={"granted_at": NOW}),
        Transition("decline", (_S.PROPOSED,), _S.REJECTED),
        Transition("revoke", (_S.ACTIVE,), _S.INACTIVE, sets={"revoked_at": NOW}),
        # A Part 2 consent past its expiry (it stopped opening anything at that moment: `in_force`).
        Transition("expire", (_S.ACTIVE,), _S.INACTIVE),
    ],
)
