from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kynect.notifications.models import OutboundMessage, SmsOptOut


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "template", "language", "status", "attempts", "sent_at")
    list_filter = ("channel", "status", "template")
    exclude = ("recipient", "body", "subject")  # personal data stays out of the admin

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    list_display = ("opted_out_at", "source")
    exclude = ("phone",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
