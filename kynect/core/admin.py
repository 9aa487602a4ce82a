from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kynect.core.models import AccessEvent, WorkerHeartbeat


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """Readable by staff with the view permission; nobody can add, change or delete an event."""

    list_display = ("occurred_at", "actor_label", "action", "subject_type", "subject_id", "ip_address")
    list_filter = ("action", "subject_type")
    search_fields = ("actor_label", "subject_id")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "last_beat_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
