from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kynect.core.models import AccessEvent, RecurringJob, RecurringJobRun, WorkerHeartbeat


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to the site's administrators (the state administrators); written only by the worker."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecurringJobRunInline(admin.TabularInline):
    model = RecurringJobRun
    fields = ("period", "outcome", "attempts", "error", "started_at", "finished_at", "worker_id")
    readonly_fields = fields
    ordering = ("-period",)
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


@admin.register(RecurringJob)
class RecurringJobAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "schedule",
        "time_zone",
        "last_period",
        "last_outcome",
        "last_finished_at",
        "next_due_at",
        "retry_at",
    )
    list_filter = ("last_outcome",)
    inlines = [RecurringJobRunInline]


@admin.register(RecurringJobRun)
class RecurringJobRunAdmin(ReadOnlyAdmin):
    list_display = ("job", "period", "outcome", "attempts", "error", "started_at", "finished_at", "worker_id")
    list_filter = ("outcome", "job")
    date_hierarchy = "due_at"
