"""The confirmation a requester gets by their preferred channel, with their secret status and cancel
links. The outbox stores it with the links masked; the real links are rendered only when it is sent
(the send-time context of ADR 0014, applied to links in ADR 0016)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from kynect.notifications.delivery import send_time_context_register
from kynect.notifications.models import OutboundMessage
from kynect.ondemand.models import HELP_REQUEST_LINK, HelpRequest

CONFIRMATION_TEMPLATE = "ondemand/help_request_received"
MASKED_LINK_PART = "hidden-until-sent"
ZONE_NAMES = {"America/New_York": _("Eastern time"), "America/Chicago": _("Central time")}


def local_time_text(*, at: datetime, time_zone: str) -> str:
    """'Monday, Nov. 23, 2026, 4:38 p.m. (Eastern time)' in the active language, in `time_zone`."""
    local = at.astimezone(ZoneInfo(time_zone))
    zone_name = ZONE_NAMES.get(time_zone, time_zone)
    return f"{formats.date_format(local, 'l')}, {formats.date_format(local, 'DATETIME_FORMAT')} ({zone_name})"


def help_request_link(*, help_request: HelpRequest, token: str, language: str, cancel: bool = False) -> str:
    """The requester's secret link (status page, or the cancel page), absolute, in their language."""
    with translation.override(language):
        path = reverse(
            "ondemand:help_cancel" if cancel else "ondemand:help_status",
            kwargs={"request_id": help_request.pk, "token": token},
        )
    return settings.SITE_URL + path


def confirmation_context(*, help_request: HelpRequest, token: str | None) -> dict[str, Any]:
    """The message's context; without a token, the links are masked (what the outbox stores)."""
    language = help_request.message_language
    secret = token or MASKED_LINK_PART
    with translation.override(language):
        return {
            "name": help_request.name,
            "call_by": local_time_text(at=help_request.sla_due_at, time_zone=help_request.time_zone),
            "inside_hours": help_request.clock_starts_at == help_request.submitted_at,
            "status_link": help_request_link(help_request=help_request, token=secret, language=language),
            "cancel_link": help_request_link(
                help_request=help_request, token=secret, language=language, cancel=True
            ),
        }


@send_time_context_register(CONFIRMATION_TEMPLATE)
def confirmation_send_time_context(message: OutboundMessage) -> dict[str, Any] | None:
    """The context with the real links, or None (the message is withdrawn) once the request is closed."""
    help_request = HelpRequest.objects.filter(
        confirmation_message_id=message.pk, status__in=HelpRequest.OPEN_STATUSES
    ).first()
    if help_request is None or not help_request.link_key:
        return None
    token = HELP_REQUEST_LINK.derive(row_id=help_request.pk, key=help_request.link_key)
    return confirmation_context(help_request=help_request, token=token)
