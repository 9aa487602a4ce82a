"""The emails and text messages of referrals, queued in the caller's transaction (DESIGN §5.5), each in
its recipient's language. They name the service and the need, never the resident: the link leads to
the referral page, which asks the reader to sign in."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from kynect.accounts.models import User
from kynect.accounts.selectors import users_with_role
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import MessageSpec, messages_queue
from kynect.referrals.access import ORGANIZATION_ROLES
from kynect.referrals.models import Referral

RECEIVED_TEMPLATE = "referrals/referral_received"
CHANGED_TEMPLATE = "referrals/referral_changed"
# The sender hears of these changes.
SENDER_TOLD = {"accept", "reject", "complete", "fail", "expire"}


def referral_link(*, referral: Referral, language: str) -> str:
    with translation.override(language):
        return settings.SITE_URL + reverse("referrals:detail", kwargs={"referral_id": referral.pk})


def _specs_for(
    users: list[User], template: str, referral: Referral, extra: dict[str, object]
) -> list[MessageSpec]:
    specs = []
    for user in users:
        language = user.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            context = {
                "service": referral.service.name,
                "need": referral.get_need_display(),
                "urgent": referral.urgency == Referral.Urgency.URGENT,
                "status": referral.get_status_display(),
                "link": referral_link(referral=referral, language=language),
                **extra,
            }
        specs.append(MessageSpec(OutboundMessage.Channel.EMAIL, user.email, template, context, language))
        if user.notify_by == User.NotifyBy.EMAIL_AND_TEXT and user.phone:
            specs.append(MessageSpec(OutboundMessage.Channel.SMS, user.phone, template, context, language))
    return specs


def referral_received_notify(*, referral: Referral) -> None:
    """The receiving organization's people: a new referral, with a link to it."""
    users = list(
        users_with_role(role=list(ORGANIZATION_ROLES), organization=referral.receiving_organization_id)
        .distinct()
        .order_by("email")
    )
    messages_queue(_specs_for(users, RECEIVED_TEMPLATE, referral, {}))


def referral_changed_notify(*, referral: Referral, transition: str, actor: User) -> None:
    """The person who made the referral: it was accepted, rejected or closed (not their own changes)."""
    if transition not in SENDER_TOLD or referral.created_by_id == actor.pk:
        return
    creator = User.objects.get(pk=referral.created_by_id)
    messages_queue(_specs_for([creator], CHANGED_TEMPLATE, referral, {}))
