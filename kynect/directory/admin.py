"""Admin screens for state staff to review and correct directory records."""

from django.contrib import admin

from kynect.directory import models


class AddressInline(admin.StackedInline):
    model = models.Address
    extra = 0


class PhoneInline(admin.TabularInline):
    model = models.Phone
    extra = 0
    fields = ("number", "extension", "type", "description")


class ScheduleInline(admin.TabularInline):
    model = models.Schedule
    extra = 0
    fields = ("freq", "byday", "opens_at", "closes_at", "valid_from", "valid_to", "description")


class ServiceAtLocationInline(admin.TabularInline):
    model = models.ServiceAtLocation
    extra = 0
    raw_id_fields = ("service", "location")


@admin.register(models.Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "website")
    search_fields = ("name", "alternate_name")
    raw_id_fields = ("parent_organization",)


@admin.register(models.Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "status", "last_modified")
    list_filter = ("status",)
    search_fields = ("name", "organization__name")
    raw_id_fields = ("organization", "program")
    inlines = (PhoneInline, ScheduleInline, ServiceAtLocationInline)


@admin.register(models.Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "location_type", "latitude", "longitude", "time_zone")
    list_filter = ("location_type", "time_zone")
    search_fields = ("name", "addresses__city", "addresses__postal_code")
    raw_id_fields = ("organization",)
    inlines = (AddressInline, ScheduleInline)


@admin.register(models.TaxonomyTerm)
class TaxonomyTermAdmin(admin.ModelAdmin):
    list_display = ("name", "name_es", "code", "taxonomy", "parent")
    list_filter = ("taxonomy",)
    search_fields = ("name", "name_es", "code")
    raw_id_fields = ("parent", "taxonomy_detail")


for model in (
    models.Taxonomy,
    models.OrganizationIdentifier,
    models.Program,
    models.ServiceAtLocation,
    models.Address,
    models.Contact,
    models.Phone,
    models.Schedule,
    models.ServiceArea,
    models.Language,
    models.CostOption,
    models.RequiredDocument,
    models.Accessibility,
    models.Funding,
    models.Attribute,
    models.Metadata,
):
    admin.site.register(model)
