"""The resource directory on Open Referral HSDS 3.0: the standard's entities and field names.

Ids are UUIDs, as the standard requires. Fields the standard calls `<entity>_id` are foreign keys
named after the entity, so their columns keep the standard's names. Where the standard has both a
string and an object for one idea (taxonomy_term.taxonomy / taxonomy_detail), both are kept.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models


class HsdsModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    imported_at = models.DateTimeField(null=True, blank=True, help_text="When an import last wrote this row.")

    class Meta:
        abstract = True


class Taxonomy(HsdsModel):
    name = models.CharField(max_length=255)
    description = models.TextField()
    uri = models.URLField(max_length=500, blank=True)
    version = models.CharField(max_length=50, blank=True)

    class Meta:
        verbose_name_plural = "taxonomies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(HsdsModel):
    code = models.CharField(max_length=100, blank=True, db_index=True)
    name = models.CharField(max_length=255)
    description = models.TextField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    taxonomy = models.CharField(
        max_length=255, blank=True, help_text="The taxonomy's name, as HSDS carries it."
    )
    taxonomy_detail = models.ForeignKey(
        Taxonomy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="terms",
        db_column="taxonomy_id",
    )
    language = models.CharField(max_length=20, blank=True)
    term_uri = models.URLField(max_length=500, blank=True)
    name_es = models.CharField(max_length=255, blank=True, help_text="kynect: the Spanish name.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(HsdsModel):
    name = models.CharField(max_length=255, db_index=True)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField()
    email = models.EmailField(blank=True)
    website = models.URLField(max_length=500, blank=True)
    tax_status = models.CharField(max_length=100, blank=True)
    tax_id = models.CharField(max_length=100, blank=True)
    year_incorporated = models.PositiveSmallIntegerField(null=True, blank=True)
    legal_status = models.CharField(max_length=100, blank=True)
    logo = models.URLField(max_length=500, blank=True)
    uri = models.URLField(max_length=500, blank=True)
    parent_organization = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="child_organizations"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationIdentifier(HsdsModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="organization_identifiers"
    )
    identifier_scheme = models.CharField(max_length=100, blank=True)
    identifier_type = models.CharField(max_length=100)
    identifier = models.CharField(max_length=255)

    def __str__(self) -> str:
        return f"{self.identifier_type}: {self.identifier}"


class Program(HsdsModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(max_length=255)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField()

    def __str__(self) -> str:
        return self.name


class Service(HsdsModel):
    class Status(models.TextChoices):
        ACTIVE = "active"
        INACTIVE = "inactive"
        DEFUNCT = "defunct"
        TEMPORARILY_CLOSED = "temporarily closed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="services")
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    name = models.CharField(max_length=255)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    interpretation_services = models.TextField(blank=True)
    application_process = models.TextField(blank=True)
    fees_description = models.TextField(blank=True)
    wait_time = models.CharField(max_length=255, blank=True)
    fees = models.TextField(blank=True)
    accreditations = models.TextField(blank=True)
    eligibility_description = models.TextField(blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    assured_date = models.DateField(null=True, blank=True)
    assurer_email = models.EmailField(blank=True)
    licenses = models.TextField(blank=True)
    alert = models.TextField(blank=True)
    last_modified = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return self.name


class Location(HsdsModel):
    class LocationType(models.TextChoices):
        PHYSICAL = "physical"
        POSTAL = "postal"
        VIRTUAL = "virtual"

    location_type = models.CharField(max_length=10, choices=LocationType.choices)
    url = models.URLField(max_length=500, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="locations"
    )
    name = models.CharField(max_length=255, blank=True)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    transportation = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    external_identifier = models.CharField(max_length=255, blank=True)
    external_identifier_type = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, help_text="kynect: IANA time zone of the location."
    )

    class Meta:
        indexes = [models.Index(fields=["latitude", "longitude"], name="location_lat_lon")]

    def __str__(self) -> str:
        return self.name or str(self.id)


class ServiceAtLocation(HsdsModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="service_at_locations")
    description = models.TextField(blank=True)

    class Meta:
        verbose_name = "service at location"

    def __str__(self) -> str:
        return f"{self.service_id} @ {self.location_id}"


class Address(HsdsModel):
    class AddressType(models.TextChoices):
        PHYSICAL = "physical"
        POSTAL = "postal"
        VIRTUAL = "virtual"

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    attention = models.CharField(max_length=255, blank=True)
    address_1 = models.CharField(max_length=255)
    address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    state_province = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2)
    address_type = models.CharField(max_length=10, choices=AddressType.choices)

    class Meta:
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return f"{self.address_1}, {self.city}, {self.state_province} {self.postal_code}"


class Contact(HsdsModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name or str(self.id)


class Phone(HsdsModel):
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(max_length=50)
    extension = models.PositiveIntegerField(null=True, blank=True)
    type = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.number


class Schedule(HsdsModel):
    class Weekday(models.TextChoices):
        MO = "MO"
        TU = "TU"
        WE = "WE"
        TH = "TH"
        FR = "FR"
        SA = "SA"
        SU = "SU"

    class Freq(models.TextChoices):
        WEEKLY = "WEEKLY"
        MONTHLY = "MONTHLY"

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    timezone = models.FloatField(null=True, blank=True, help_text="HSDS: UTC offset in hours.")
    until = models.DateField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    wkst = models.CharField(max_length=2, choices=Weekday.choices, blank=True)
    freq = models.CharField(max_length=10, choices=Freq.choices, blank=True)
    interval = models.PositiveIntegerField(null=True, blank=True)
    byday = models.CharField(max_length=100, blank=True)
    byweekno = models.CharField(max_length=100, blank=True)
    bymonthday = models.CharField(max_length=100, blank=True)
    byyearday = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    schedule_link = models.URLField(max_length=500, blank=True)
    attending_type = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.byday} {self.opens_at}-{self.closes_at}"


class ServiceArea(HsdsModel):
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="service_areas"
    )
    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    extent = models.TextField(blank=True)
    extent_type = models.CharField(max_length=50, blank=True)
    uri = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.name or str(self.id)


class Language(HsdsModel):
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    phone = models.ForeignKey(
        Phone, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    name = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=20, blank=True, db_index=True)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name or self.code


class CostOption(HsdsModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    option = models.TextField(blank=True)
    currency = models.CharField(max_length=3, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    amount_description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.option or str(self.id)


class RequiredDocument(HsdsModel):
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="required_documents"
    )
    document = models.TextField(blank=True)
    uri = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.document[:60]


class Accessibility(HsdsModel):
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="accessibility"
    )
    description = models.TextField(blank=True)
    details = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "accessibility"

    def __str__(self) -> str:
        return self.description[:60]


class Funding(HsdsModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="funding"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="funding"
    )
    source = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "funding"

    def __str__(self) -> str:
        return self.source[:60]


class Attribute(HsdsModel):
    """Links a taxonomy term (or an opaque value, such as a 211 code) to any HSDS record."""

    link_id = models.UUIDField(db_index=True)
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm, null=True, blank=True, on_delete=models.CASCADE, related_name="attributes"
    )
    link_type = models.CharField(max_length=100, blank=True)
    link_entity = models.CharField(max_length=50)
    value = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["link_entity", "taxonomy_term"], name="attribute_entity_term")]

    def __str__(self) -> str:
        return f"{self.link_entity} {self.link_id}: {self.taxonomy_term_id or self.value}"


class Metadata(HsdsModel):
    resource_id = models.UUIDField(db_index=True)
    resource_type = models.CharField(max_length=50, blank=True)
    last_action_date = models.DateTimeField()
    last_action_type = models.CharField(max_length=50)
    field_name = models.CharField(max_length=100)
    previous_value = models.TextField()
    replacement_value = models.TextField()
    updated_by = models.CharField(max_length=255)

    class Meta:
        verbose_name_plural = "metadata"

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id} {self.last_action_type}"


class OpeningWindow(models.Model):
    """kynect: one weekday's opening window, derived from the HSDS schedules by `hours.py`.

    Times are wall-clock times in the location's time zone. A window that closes at or before it
    opens closes the next day; 24 hours is 00:00:00 to 23:59:59. Rebuilt, never edited.
    """

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_windows")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="opening_windows"
    )
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday.")
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    closes_next_day = models.BooleanField(default=False)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    source_schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="opening_windows")

    class Meta:
        indexes = [
            models.Index(fields=["location", "weekday"], name="openingwindow_location_day"),
            # "Open now" and "open on a day" look windows up by day and opening time (search backends).
            models.Index(fields=["service", "weekday", "opens_at"], name="openingwindow_open_lookup"),
            # ... and by closing time: late in the day, "still open" is the narrow side.
            models.Index(fields=["service", "weekday", "closes_at"], name="openingwindow_close_lookup"),
        ]
        ordering = ["weekday", "opens_at"]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens_at}-{self.closes_at}"


class ClosedDay(models.Model):
    """kynect: a date a location (or one service there) is closed, such as a holiday."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closed_days")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="closed_days"
    )
    date = models.DateField()
    reason = models.TextField(blank=True)
    source_schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="closed_days")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "date", "source_schedule"], name="closedday_location_date_schedule"
            )
        ]
        indexes = [models.Index(fields=["date", "service"], name="closedday_date_service")]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.location_id} closed {self.date}"


class HourSlotsField(models.Field):
    """A sorted list of hours of the week (`kynect.directory.search.slots.hour_slots`): `integer[]` on
    PostgreSQL, where the search tests it inside the place index (ADR 0019); on SQLite, which does
    not search by it, the numbers as text ("8 9 10")."""

    description = "Hours of the week"

    def db_type(self, connection: Any) -> str:
        return "integer[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[int]:
        return self.to_python(value)

    def to_python(self, value: Any) -> list[int]:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [int(part) for part in value.split()]
        return [int(part) for part in value]

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        slots = self.to_python(value)
        if connection.vendor == "postgresql":
            return slots
        return " ".join(str(slot) for slot in slots)


class ListedEntries(models.Manager["SearchEntry"]):
    """The entries the search page shows: those of active services."""

    def get_queryset(self) -> models.QuerySet[SearchEntry]:
        return super().get_queryset().filter(listed=True)


class SearchEntry(models.Model):
    """kynect: one findable listing, a service at one of its locations (or a service with none).
    Every service that is not defunct has entries; the search page shows only active services' (the
    `objects` manager), the HSDS API also the others (`every`).

    A denormalised copy built by `kynect.directory.search.index`, never edited by hand. The full-text
    index lives beside it and is database-specific (see `kynect.directory.search`): on PostgreSQL,
    generated `document` and `tag_vector` tsvector columns with GIN indexes; on SQLite, the FTS5
    table `directory_searchentry_fts` whose rowid is this row's id.
    """

    id = models.BigAutoField(primary_key=True)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="search_entries")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="search_entries"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="search_entries")
    name = models.CharField(max_length=255)
    organization_name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    categories_en = models.TextField(blank=True, help_text="English names of its terms and their parents.")
    categories_es = models.TextField(blank=True, help_text="Spanish names of its terms and their parents.")
    tags = models.TextField(blank=True, help_text="Filter tokens: terms with their parents, languages.")
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # The point on the unit sphere (kynect.core.geo.unit_vector): distance order by arithmetic. On
    # PostgreSQL a generated `geo_point` cube of the three, with a GiST index, gives nearest-first scans.
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    z = models.FloatField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    own_hours = models.BooleanField(
        default=False, help_text="The service keeps its own hours at this location."
    )
    open_slots = HourSlotsField(
        default=list,
        editable=False,
        help_text="Hours of the week in which its hours open at least a moment (a superset: no dates).",
    )
    # What a result card shows, chosen once here so that a page of results reads one table.
    address = models.CharField(max_length=500, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    is_partner = models.BooleanField(default=False, help_text="The organization is a KY Partner.")
    listed = models.BooleanField(default=True, help_text="The service is active: the search page shows it.")

    # The default manager is every entry (what the index builder and the HSDS API read); `objects`
    # holds what the search page shows, so that none of its queries can forget the filter.
    every = models.Manager()
    objects = ListedEntries()

    class Meta:
        verbose_name_plural = "search entries"
        # The place indexes are database-specific (migration 0008): a GiST index on `geo_point` on
        # PostgreSQL, and on SQLite a covering (latitude, longitude, …) index (migration 0015: SQLite
        # drops it whenever it rebuilds the table to add a column).
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="searchentry_service_location")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization_name})"


class FullTextTableField(models.TextField):
    """An FTS5 table's hidden column named after the table: the left side of MATCH and the first
    argument of its ranking functions."""


@FullTextTableField.register_lookup
class FullTextMatch(models.Lookup):
    lookup_name = "match"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class SearchEntryText(models.Model):
    """kynect: the SQLite FTS5 table beside `SearchEntry` (its rowid is the entry's id), declared so
    that a search joins it through the ORM. Unmanaged: migration 0004 creates it on SQLite only, and
    nothing reads it on PostgreSQL. Written by `SqliteSearchBackend.index_write`."""

    entry = models.OneToOneField(
        SearchEntry,
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="text",
    )
    document = FullTextTableField(db_column="directory_searchentry_fts")
    # FTS5's hidden rank column: the ranking function a MATCH on it names, computed as a column (which,
    # unlike a call of the function, an aggregate may read).
    rank = FullTextTableField(db_column="rank")

    class Meta:
        managed = False
        db_table = "directory_searchentry_fts"

    def __str__(self) -> str:
        return f"text of search entry {self.pk}"
