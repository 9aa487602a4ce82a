"""Two people acting on one referral at the same moment, on PostgreSQL's row locks and two connections:
one wins by the lifecycle's conditional update, the other is told "this referral changed" (through the
services, and through the Referral API as a 409), nothing is lost and the timeline shows one event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kynect.accounts.tokens import api_token_create
from kynect.core.tests.concurrency import in_threads, postgresql_only
from kynect.referrals.access import Action
from kynect.referrals.models import Referral, ReferralEvent
from kynect.referrals.services import ReferralChangedError, referral_act
from kynect.referrals.tests.factories import partner, referral


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((Action.ACCEPT, ""), (Action.ACCEPT, "")),
        ((Action.ACCEPT, ""), (Action.REJECT, "We are full")),
    ],
)
def test_two_people_acting_at_once_one_wins_and_the_other_is_told(first, second):
    sender, receiver = partner(), partner()
    people = [(receiver.user, *first), (receiver.admin, *second)]
    for _round in range(5):  # the race must hold every time, not once by luck
        made = referral(sender, receiver)

        def act(i: int, made: Referral = made) -> Any:
            actor, action, reason = people[i]
            return referral_act(
                actor=actor, referral_id=made.pk, action=action, reason=reason, seen_status="requested"
            )

        results = in_threads(2, act)
        winners = [result for result in results if isinstance(result, Referral)]
        losers = [result for result in results if isinstance(result, ReferralChangedError)]
        assert len(winners) == 1, results
        assert len(losers) == 1, results
        made.refresh_from_db()
        assert made.status == winners[0].status
        assert losers[0].referral.status == made.status
        assert (
            str(losers[0]) == "This referral changed while you were looking at it. Here it is as it is now."
        )
        events = list(ReferralEvent.objects.filter(referral=made).values_list("transition", flat=True))
        assert events == ["create", "accept" if made.status == Referral.Status.ACCEPTED else "reject"]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_api_calls_at_once_one_is_200_and_the_other_409_this_referral_changed():
    sender, receiver = partner(), partner()
    made = referral(sender, receiver)
    tokens = [api_token_create(user=user)[1] for user in (receiver.user, receiver.admin)]
    bodies = [
        {"action": "accept", "seen_status": "requested"},
        {"action": "reject", "reason": "We are full", "seen_status": "requested"},
    ]

    def call(i: int) -> Any:
        return Client().post(
            f"/api/referrals/{made.pk}/actions",
            data=json.dumps(bodies[i]),
            content_type="application/json",
            headers={"Authorization": f"Bearer {tokens[i]}"},
        )

    responses = in_threads(2, call)
    assert sorted(response.status_code for response in responses) == [200, 409], responses
    [won] = [response.json() for response in responses if response.status_code == 200]
    [lost] = [response.json() for response in responses if response.status_code == 409]
    assert lost == {
        "detail": "This referral changed while you were looking at it. Here it is as it is now.",
        "status": won["status"],
    }
    made.refresh_from_db()
    assert made.status == won["status"]
    events = list(ReferralEvent.objects.filter(referral=made).values_list("transition", flat=True))
    assert events == ["create", "accept" if made.status == Referral.Status.ACCEPTED else "reject"]
