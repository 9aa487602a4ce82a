from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from kynect.accounts.models import User
from kynect.accounts.selectors import active_memberships
from kynect.ondemand.models import DoiLicence, Helper
from kynect.ondemand.selectors import AGENCY_ROLES
from kynect.ondemand.services.deregistration import helper_agency_active_set


@admin.register(DoiLicence)
class DoiLicenceAdmin(admin.ModelAdmin):
    """Read-only: licences change only through `import_doi_roster`."""

    list_display = ("npn", "last_name", "first_name", "status", "has_health_authority", "expires_on")
    list_filter = ("status", "has_health_authority")
    search_fields = ("npn", "last_name", "licence_number")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _set_active(request: HttpRequest, queryset: QuerySet[Helper], active: bool) -> None:
    actor = request.user
    assert isinstance(actor, User)
    done = refused = 0
    for helper in queryset.select_related("user"):
        membership = (
            active_memberships(user=helper.user, role=AGENCY_ROLES)
            .filter(organization=helper.organization)
            .first()
        )
        try:
            if membership is None:
                raise PermissionDenied
            helper_agency_active_set(actor=actor, membership=membership, active=active)
        except (PermissionDenied, ValidationError):
            refused += 1
        else:
            done += 1
    if done:
        messages.success(request, f"{done} helper(s) updated.")
    if refused:
        messages.error(
            request,
            f"{refused} helper(s) not changed: only their agency admin or a state administrator may, "
            "never for themselves, and only for kynectors and agency admins.",
        )


@admin.action(description="Mark active for kynect On Demand")
def mark_active(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Helper]) -> None:
    _set_active(request, queryset, True)


@admin.action(description="Mark not active for kynect On Demand (de-registers)")
def mark_not_active(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Helper]) -> None:
    _set_active(request, queryset, False)


@admin.register(Helper)
class HelperAdmin(admin.ModelAdmin):
    """Helpers are changed through their own pages and the actions here, which apply the rules."""

    list_display = (
        "user",
        "role",
        "organization",
        "status",
        "is_available",
        "agency_active",
        "consecutive_misses",
    )
    list_filter = ("role", "status", "is_available", "agency_active")
    search_fields = ("user__email", "user__last_name")
    actions = (mark_active, mark_not_active)
    readonly_fields = [field.name for field in Helper._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
