from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest

from kynect.accounts.models import ApiToken, Invitation, Membership, Organization, TrainingAttestation, User
from kynect.core.names import name_validate


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("organization", "role", "is_active")


class UserAdminForm(UserChangeForm):
    """A person's names are checked in the admin as everywhere else they are typed (`kynect.core.names`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name"):
            if name in self.fields:
                self.fields[name].validators.append(name_validate)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "phone", "preferred_language")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Onboarding is decided in the state administrators' queue (its lifecycle), never edited here."""

    list_display = ("name", "type", "city", "status")
    list_filter = ("type", "status")
    search_fields = ("name",)
    readonly_fields = (
        "status",
        "onboarded_at",
        "applied_by",
        "applied_at",
        "decided_by",
        "decided_at",
        "decline_reason",
        "agreement_version",
        "agreement_accepted_at",
        "agreement_accepted_by",
    )


@admin.register(TrainingAttestation)
class TrainingAttestationAdmin(admin.ModelAdmin):
    """Read-only: each user attests on the training page."""

    list_display = ("user", "version", "attested_at")
    search_fields = ("user__email",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are made and revoked with `api_token`, which shows a new token once."""

    list_display = ("prefix", "client", "user", "rate_limited", "created_at", "last_used_at", "revoked_at")
    list_filter = ("rate_limited", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "client", "user__email")
    exclude = ("token_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
