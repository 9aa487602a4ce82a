"""Share a directory listing by email, by text message, or by copying its link. No sign-in needed."""

from __future__ import annotations

import math
import uuid
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from kynect.core.audit import client_ip
from kynect.core.phones import phone_normalize
from kynect.directory.models import Location, Service
from kynect.directory.services import (
    SHAREABLE_STATUSES,
    ShareLimitExceededError,
    listing_summary,
    recipient_mask,
    service_share,
    share_location,
)
from kynect.notifications.models import OutboundMessage


class ShareEmailForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        max_length=254,
        help_text=gettext_lazy("We send this listing only. We do not add the address to any list."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "class": "usa-input"}),
        error_messages={
            "required": gettext_lazy("Enter the email address to send the listing to."),
            "invalid": gettext_lazy("Enter an email address, like name@example.com."),
        },
    )


class ShareSmsForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"),
        max_length=30,
        help_text=gettext_lazy(
            "A U.S. mobile number, like (502) 555-0123. Message and data rates may apply."
        ),
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "class": "usa-input"}
        ),
        error_messages={"required": gettext_lazy("Enter the mobile phone number to send the listing to.")},
    )

    def clean_phone(self) -> str:
        return phone_normalize(self.cleaned_data["phone"])


def _with_location(path: str, location: Location | None) -> str:
    return f"{path}?{urlencode({'location': str(location.pk)})}" if location is not None else path


def _share_link(service: Service, location: Location | None) -> str:
    """The absolute link to the listing, in the language of the current page."""
    path = reverse("directory:service_detail", kwargs={"service_id": service.pk})
    return f"{settings.SITE_URL}{_with_location(path, location)}"


def _limit_message(error: ShareLimitExceededError) -> str:
    if error.scope == ShareLimitExceededError.CLIENT:
        reason = _("You have shared too many listings from this device or network.")
    else:
        reason = _("This email address or phone number has already been sent too many listings.")
    minutes = max(1, math.ceil(error.retry_after_seconds / 60))
    if minutes < 60:
        retry = ngettext(
            "Nothing was sent. Try again in %(count)s minute.",
            "Nothing was sent. Try again in %(count)s minutes.",
            minutes,
        ) % {"count": minutes}
    else:
        hours = math.ceil(minutes / 60)
        retry = ngettext(
            "Nothing was sent. Try again in %(count)s hour.",
            "Nothing was sent. Try again in %(count)s hours.",
            hours,
        ) % {"count": hours}
    return f"{reason} {retry}"


@require_http_methods(["GET", "HEAD", "POST"])
def service_share_page(request: HttpRequest, service_id: uuid.UUID) -> HttpResponse:
    service = get_object_or_404(
        Service.objects.select_related("organization").filter(status__in=SHAREABLE_STATUSES), pk=service_id
    )
    location = share_location(service=service, location_id=request.GET.get("location"))
    share_url = _with_location(
        reverse("directory:service_share", kwargs={"service_id": service.pk}), location
    )
    link = _share_link(service, location)
    email_form = ShareEmailForm()
    sms_form = ShareSmsForm()
    status = 200
    retry_after: int | None = None

    if request.method == "POST":
        channel = (
            OutboundMessage.Channel.SMS
            if request.POST.get("channel") == OutboundMessage.Channel.SMS
            else OutboundMessage.Channel.EMAIL
        )
        form: forms.Form
        if channel == OutboundMessage.Channel.SMS:
            form = sms_form = ShareSmsForm(request.POST)
            field = "phone"
        else:
            form = email_form = ShareEmailForm(request.POST)
            field = "email"
        status = 400
        if form.is_valid():
            try:
                message = service_share(
                    service=service,
                    channel=channel,
                    recipient=form.cleaned_data[field],
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                    link=link,
                    client_key=client_ip(request),
                    location=location,
                )
            except ShareLimitExceededError as error:
                form.add_error(None, _limit_message(error))
                status, retry_after = 429, error.retry_after_seconds
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    form.add_error(field if name == "recipient" else None, errors)
            else:
                masked = recipient_mask(channel=channel, recipient=message.recipient)
                if channel == OutboundMessage.Channel.SMS:
                    text = _("We are sending the listing by text message to %(recipient)s.")
                else:
                    text = _("We are sending the listing by email to %(recipient)s.")
                messages.success(request, text % {"recipient": masked})
                # To the top of the page, where the message is (not to the form the browser came from).
                return redirect(f"{share_url}#main-content")

    for bound in (email_form, sms_form):
        for name in bound.errors:
            if name in bound.fields:
                bound.fields[name].widget.attrs["class"] = "usa-input usa-input--error"
    context: dict[str, Any] = {
        "service": service,
        "summary": listing_summary(service=service, location=location),
        "link": link,
        "share_url": share_url,
        "email_form": email_form,
        "sms_form": sms_form,
    }
    response = render(request, "directory/share.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
