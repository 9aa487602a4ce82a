"""Two people acting on one referral at the same moment, on PostgreSQL's row locks and two connections:
one wins by the lifecycle's conditional update, the other is told "this referral changed", nothing is
lost and the timeline shows one event."""

from __future__ import annotations

from typing import Any

import pytest

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
