"""kynect On Demand: helpers (insurance agents, kynectors, agency admins), their schedules and the DOI roster.

Routing, offers, misses and passcodes (DESIGN §5.4) build on `Helper`: its registration state, verified
mobile number, availability switch, schedule in its own time zone, languages, programs and counties.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kynect.core.codes import LinkSecrets, OneTimeCodeBase
from kynect.core.geo import KENTUCKY_COUNTIES, County
from kynect.core.models import BaseModel

MINUTES_PER_DAY = 24 * 60
KENTUCKY_COUNTY_FIPS = {county.fips: county for county in KENTUCKY_COUNTIES}

# The purposes of On Demand's keyed hashes (`kynect.core.codes`). They are part of every stored hash:
# changing one would break the links, codes and passcodes already sent.
CODE_PURPOSE = "kynect.ondemand.mobile-code"  # mobile verification codes and offer passcodes
HELP_REQUEST_LINK = LinkSecrets(purpose="kynect.ondemand.help-request.link")
OFFER_LINK = LinkSecrets(purpose="kynect.ondemand.offer.link")


class Program(models.TextChoices):
    """What a resident asks help with; helpers choose the programs they help with."""

    QUALIFIED_HEALTH_PLAN = "qhp", _("Qualified Health Plan with payment assistance")
    MEDICAID_KCHIP = "medicaid_kchip", _("Medicaid/KCHIP")


class Language(models.TextChoices):
    """Languages a helper can help in (without an interpreter). Their names carry a context, so that
    "English" here is translated as a language spoken (the site's language switch says "English").
    """

    ENGLISH = "en", pgettext_lazy("spoken language", "English")
    SPANISH = "es", pgettext_lazy("spoken language", "Spanish")
    ARABIC = "ar", pgettext_lazy("spoken language", "Arabic")
    CHINESE = "zh", pgettext_lazy("spoken language", "Chinese")
    FRENCH = "fr", pgettext_lazy("spoken language", "French")
    NEPALI = "ne", pgettext_lazy("spoken language", "Nepali")
    SOMALI = "so", pgettext_lazy("spoken language", "Somali")
    SWAHILI = "sw", pgettext_lazy("spoken language", "Swahili")
    VIETNAMESE = "vi", pgettext_lazy("spoken language", "Vietnamese")
    SIGN_LANGUAGE = "ase", pgettext_lazy("spoken language", "American Sign Language")


class DoiLicence(models.Model):
    """One insurance producer on the Department of Insurance roster, keyed by National Producer Number.

    Written only by the roster import (`licence_roster_import`), never edited by hand.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        EXPIRED = "expired", _("Expired")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Revoked")

    npn = models.CharField(_("National Producer Number"), max_length=10, primary_key=True)
    licence_number = models.CharField(_("licence number"), max_length=30)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True, help_text=_("E.164, like +15025550123."))
    status = models.CharField(_("licence status"), max_length=12, choices=Status.choices)
    lines_of_authority = models.JSONField(_("lines of authority"), default=list, blank=True)
    has_health_authority = models.BooleanField(_("health line of authority"), default=False)
    expires_on = models.DateField(_("licence expiry"), null=True, blank=True)
    certification_completed_on = models.DateField(_("certification completed on"), null=True, blank=True)
    imported_at = models.DateTimeField(_("last changed by an import"))

    class Meta:
        verbose_name = _("DOI licence")
        verbose_name_plural = _("DOI licences")
        ordering = ["last_name", "first_name", "npn"]

    def __str__(self) -> str:
        return f"NPN {self.npn}"


class Helper(BaseModel):
    """A person who calls residents back: an insurance agent, a kynector or an agency admin.

    One row per user, created when they open the kynect On Demand tab (or when an agency admin marks a
    kynector active). `status` changes only by the transitions of `ondemand.lifecycles.HELPER`:
    not_registered → registered → deregistered → not_registered (registering again).
    """

    class Role(models.TextChoices):
        AGENT = "agent", _("Insurance agent")
        KYNECTOR = "kynector", _("kynector")
        AGENCY_ADMIN = "agency_admin", _("Agency admin")

    class Status(models.TextChoices):
        NOT_REGISTERED = "not_registered", _("Not registered")
        REGISTERED = "registered", _("Registered")
        DEREGISTERED = "deregistered", _("De-registered")

    class DeregistrationReason(models.TextChoices):
        MISSED_REFERRALS = "missed_referrals", _("Missed three referrals in a row")
        HELPER_REQUEST = "helper_request", _("Left kynect On Demand")
        NOT_ELIGIBLE = "not_eligible", _("The licence no longer meets the criteria")
        DEACTIVATED = "deactivated", _("No longer marked active by the agency")
        ADMINISTRATOR = "administrator", _("De-registered by an administrator")

    class ContactSource(models.TextChoices):
        ACCOUNT = "account", _("My sign-in account")
        ON_DEMAND = "on_demand", _("kynect On Demand only")

    class Channel(models.TextChoices):
        SMS_AND_EMAIL = "sms_email", _("Text message and email")
        EMAIL = "email", _("Email only")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helper")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="helpers",
        verbose_name=_("agency"),
    )
    licence = models.OneToOneField(
        DoiLicence,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="helper",
        verbose_name=_("DOI licence"),
    )

    # Registration: the On Demand FAQ's three steps, then registered.
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NOT_REGISTERED
    )
    terms_version = models.CharField(_("terms version agreed"), max_length=20, blank=True)
    terms_agreed_at = models.DateTimeField(_("agreed to register"), null=True, blank=True)
    contact_completed_at = models.DateTimeField(_("contact information completed"), null=True, blank=True)
    schedule_completed_at = models.DateTimeField(_("schedule completed"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True)
    deregistered_at = models.DateTimeField(_("de-registered"), null=True, blank=True)
    deregistration_reason = models.CharField(
        _("de-registration reason"), max_length=20, choices=DeregistrationReason.choices, blank=True
    )

    # Preferred contact. The phone is always a verified mobile number (E.164); it changes only when a
    # code sent to the new number is entered.
    phone = models.CharField(_("mobile phone"), max_length=16, blank=True)
    phone_source = models.CharField(
        _("phone from"), max_length=12, choices=ContactSource.choices, default=ContactSource.ON_DEMAND
    )
    phone_verified_at = models.DateTimeField(_("mobile phone verified"), null=True, blank=True)
    email = models.EmailField(_("On Demand email address"), blank=True)
    email_source = models.CharField(
        _("email from"), max_length=12, choices=ContactSource.choices, default=ContactSource.ON_DEMAND
    )
    channel = models.CharField(
        _("referral notifications by"), max_length=12, choices=Channel.choices, default=Channel.SMS_AND_EMAIL
    )

    # Routing inputs.
    is_available = models.BooleanField(_("available for referrals"), default=False)
    consecutive_misses = models.PositiveSmallIntegerField(_("referrals missed in a row"), default=0)
    # Responsiveness (ADR 0044), over the helper's latest answered or expired offers
    # (`services.offers.helper_responsiveness_update`): how many were counted, how many of them the
    # helper answered, and the median minutes to an answer. The score adds a prior to them.
    offers_counted = models.PositiveSmallIntegerField(_("recent offers counted"), default=0)
    offers_answered = models.PositiveSmallIntegerField(_("recent offers answered"), default=0)
    answer_minutes = models.FloatField(_("median minutes to answer"), null=True, blank=True)
    home_zip = models.CharField(_("home ZIP code"), max_length=5, blank=True)
    home_latitude = models.FloatField(null=True, blank=True)
    home_longitude = models.FloatField(null=True, blank=True)
    home_county_fips = models.CharField(_("home county"), max_length=5, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=40, default="America/New_York")

    # Kynectors and agency admins: set by their agency admin or a state administrator.
    agency_active = models.BooleanField(_("active kynector or agency admin"), default=False)
    agency_active_changed_at = models.DateTimeField(null=True, blank=True)
    agency_active_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "is_available"], name="helper_routable")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="registered")
                | (
                    Q(
                        registered_at__isnull=False,
                        terms_agreed_at__isnull=False,
                        phone_verified_at__isnull=False,
                    )
                    & ~Q(phone="")
                    & ~Q(home_zip="")
                ),
                name="helper_registered_is_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="deregistered")
                | (Q(deregistered_at__isnull=False) & ~Q(deregistration_reason="")),
                name="helper_deregistered_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(phone="") | Q(phone_verified_at__isnull=True), name="helper_verified_has_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def is_registered(self) -> bool:
        return self.status == self.Status.REGISTERED

    @property
    def needs_agency_active(self) -> bool:
        return self.role in (self.Role.KYNECTOR, self.Role.AGENCY_ADMIN)

    @property
    def contact_email(self) -> str:
        """Where referral emails go: the sign-in account's address, or the On Demand one."""
        if self.email_source == self.ContactSource.ACCOUNT:
            return str(self.user.email)
        return self.email

    @property
    def home_county(self) -> County | None:
        return KENTUCKY_COUNTY_FIPS.get(self.home_county_fips)


class HelperLanguage(models.Model):
    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["helper", "language"], name="helper_language_once")]

    def __str__(self) -> str:
        return self.get_language_display()


class HelperProgram(models.Model):
    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="programs")
    program = models.CharField(_("program"), max_length=20, choices=Program.choices, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["helper", "program"], name="helper_program_once")]

    def __str__(self) -> str:
        return self.get_program_display()


class HelperCounty(models.Model):
    """A Kentucky county the helper serves, by FIPS code (one of `kynect.core.geo.KENTUCKY_COUNTIES`)."""

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="counties")
    county_fips = models.CharField(
        _("county"),
        max_length=5,
        choices=[(county.fips, county.label) for county in KENTUCKY_COUNTIES],
        db_index=True,
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["helper", "county_fips"], name="helper_county_once")]

    def __str__(self) -> str:
        county = KENTUCKY_COUNTY_FIPS.get(self.county_fips)
        return county.label if county else self.county_fips


class ScheduleWindow(models.Model):
    """A weekly window of work in the helper's time zone: weekday (Monday 0) and minutes since midnight.

    An end of 1440 is midnight at the end of the day. Windows of one weekday do not overlap.
    """

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    start_minute = models.PositiveSmallIntegerField(_("starts"))
    end_minute = models.PositiveSmallIntegerField(_("ends"))

    class Meta:
        ordering = ["weekday", "start_minute"]
        indexes = [models.Index(fields=["weekday", "start_minute", "end_minute"], name="window_lookup")]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="window_weekday_0_6"),
            models.CheckConstraint(
                condition=Q(start_minute__lt=models.F("end_minute"), end_minute__lte=MINUTES_PER_DAY),
                name="window_starts_before_it_ends",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_minute}-{self.end_minute}"


class ScheduleBreak(models.Model):
    """A break inside a weekly window, in the same minutes-since-midnight terms."""

    window = models.ForeignKey(ScheduleWindow, on_delete=models.CASCADE, related_name="breaks")
    start_minute = models.PositiveSmallIntegerField(_("starts"))
    end_minute = models.PositiveSmallIntegerField(_("ends"))

    class Meta:
        ordering = ["start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_minute__lt=models.F("end_minute"), end_minute__lte=MINUTES_PER_DAY),
                name="break_starts_before_it_ends",
            ),
        ]

    def __str__(self) -> str:
        return f"break {self.start_minute}-{self.end_minute}"


class TimeOff(BaseModel):
    """A stretch of time (UTC in the database) when the helper takes no referrals whatever the schedule."""

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["helper", "ends_at"], name="time_off_current")]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="time_off_has_length")
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M} UTC"


class MobileVerification(OneTimeCodeBase):
    """One code sent to confirm a helper's mobile number (`kynect.core.codes`, ADR 0022)."""

    CODE_PURPOSE = CODE_PURPOSE
    USED_FIELD = "verified_at"

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="mobile_verifications")
    phone = models.CharField(max_length=16)
    phone_source = models.CharField(max_length=12, choices=Helper.ContactSource.choices)
    verified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"mobile verification {self.pk}"


class RequestedProgram(models.TextChoices):
    """What a resident asks help with: a helper's programs, or not sure (any helper)."""

    QUALIFIED_HEALTH_PLAN = Program.QUALIFIED_HEALTH_PLAN.value, Program.QUALIFIED_HEALTH_PLAN.label
    MEDICAID_KCHIP = Program.MEDICAID_KCHIP.value, Program.MEDICAID_KCHIP.label
    NOT_SURE = "not_sure", _("Not sure")


class HelpRequest(BaseModel):
    """A resident's request for a call back from a helper (DESIGN §5.4), made without signing in.

    Its status changes only by the transitions of `ondemand.lifecycles.HELP_REQUEST` (the table, and its
    diagram), each recorded in `HelpRequestEvent`.

    Deadlines are columns so that the sweeper can claim due rows with a conditional update on
    `status` (DESIGN §5.6): `sla_due_at` (the promised call back) and `unserved_at` (the waiting limit).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_PROGRESS = "in_progress", _("In Progress")
        COMPLETE = "complete", _("Complete")
        CANCELLED = "cancelled", _("Cancelled")
        UNSERVED = "unserved", _("Unserved")

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ENROLLED = "enrolled", _("Enrolled")
        REFERRED_ELSEWHERE = "referred_elsewhere", _("Referred elsewhere")
        NOT_INTERESTED = "not_interested", _("Not interested")
        UNABLE_TO_REACH = "unable_to_reach", _("Unable to reach")
        OTHER = "other", _("Other")

    class ContactMethod(models.TextChoices):
        PHONE = "phone", _("Phone call")
        TEXT = "text", _("Text message")
        EMAIL = "email", _("Email")

    class Source(models.TextChoices):
        WEB = "web", _("kynect On Demand web form")
        API = "api", _("API")

    OPEN_STATUSES = (Status.PENDING, Status.IN_PROGRESS)

    # The requester.
    name = models.CharField(_("name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=16, help_text=_("E.164, like +15025550123."))
    email = models.EmailField(_("email address"), blank=True)
    contact_method = models.CharField(
        _("preferred contact method"), max_length=8, choices=ContactMethod.choices
    )
    language = models.CharField(_("preferred language"), max_length=8, choices=Language.choices)
    message_language = models.CharField(
        _("language of our messages"), max_length=8, default="en", help_text=_("English or Spanish.")
    )
    zip_code = models.CharField(_("ZIP code"), max_length=5)
    city = models.CharField(_("city"), max_length=100, blank=True)
    county_fips = models.CharField(_("county"), max_length=5)
    time_zone = models.CharField(_("time zone"), max_length=40)
    latitude = models.FloatField()
    longitude = models.FloatField()
    program = models.CharField(_("program"), max_length=20, choices=RequestedProgram.choices)
    consent_given_at = models.DateTimeField(_("consented to be contacted"))
    consent_version = models.CharField(_("consent wording version"), max_length=20)

    # Lifecycle and deadlines (UTC).
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    submitted_at = models.DateTimeField(_("submitted"))
    clock_starts_at = models.DateTimeField(
        _("service clock starts"), help_text=_("Submission, or the next opening of service hours.")
    )
    sla_due_at = models.DateTimeField(_("call back due"))
    waiting_since = models.DateTimeField(_("waiting for a helper since"), null=True, blank=True)
    unserved_at = models.DateTimeField(_("closed as unserved if nobody accepts by"))
    accepted_helper = models.ForeignKey(
        Helper,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="help_requests",
        verbose_name=_("accepted by"),
    )
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # Routing (`routing`): rounds offered so far (1 = the General offer, 2 and on = Mass rounds), when
    # routing should next look for helpers (a deadline the sweeper claims), and whether the language
    # filter has been relaxed (offers then say "needs interpreter").
    rounds = models.PositiveSmallIntegerField(_("routing rounds"), default=0)
    route_at = models.DateTimeField(_("route again at"), null=True, blank=True)
    language_relaxed = models.BooleanField(_("offered with an interpreter"), default=False)
    # Working the request: the first logged call attempt stops the 30-minute clock.
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    # The reminder to the accepted helper to call (ADR 0044), set when the accept is complete.
    dial_remind_at = models.DateTimeField(_("call reminder due"), null=True, blank=True)
    dial_reminded_at = models.DateTimeField(_("reminded to call"), null=True, blank=True)

    # The requester's secret link (status page and cancel) is kept only as a keyed hash. Its secret is
    # derived from `link_key` when the confirmation is sent (ADR 0016); the key is wiped when the
    # request closes, and the link keeps working through the hash.
    token_hash = models.CharField(max_length=64)
    link_key = models.CharField(max_length=64, blank=True)
    confirmation_message_id = models.UUIDField(null=True, blank=True, unique=True)

    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.WEB)
    api_key = models.ForeignKey(
        "accounts.ApiToken", null=True, blank=True, on_delete=models.PROTECT, related_name="help_requests"
    )

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            # Routing: the waiting queue, oldest first, narrowed by county, program and language.
            models.Index(fields=["status", "waiting_since"], name="help_request_queue"),
            models.Index(fields=["status", "county_fips"], name="help_request_county"),
            # The deadlines (`ondemand.deadlines`): each index holds only the rows that can be due, so
            # that a claim reads them in order even when the planner's statistics, taken before a burst,
            # count almost none (tests/test_deadline_plans.py). Each condition names its column, so that
            # only a query on that column can use the index: a bare "pending" index stood in for the
            # one-pending-offer-per-helper index in routing's probe, through every pending offer.
            models.Index(
                fields=["sla_due_at"],
                condition=Q(
                    status__in=["pending", "in_progress"],
                    first_contact_at__isnull=True,
                    escalated_at__isnull=True,
                    sla_due_at__isnull=False,
                ),
                name="help_request_sla_due",
            ),
            models.Index(
                fields=["unserved_at"],
                condition=Q(status="pending", unserved_at__isnull=False),
                name="help_request_unserved_due",
            ),
            # Names no status (the sweep drops the reminder of a request no longer in progress), so
            # the status indexes cannot stand in for it.
            models.Index(
                fields=["dial_remind_at"],
                condition=Q(
                    first_contact_at__isnull=True,
                    dial_reminded_at__isnull=True,
                    dial_remind_at__isnull=False,
                ),
                name="help_request_dial_remind_due",
            ),
            # Routing's claim, once a decision, reads this index alone: it names no status, which
            # `help_request_route_only_pending` makes needless, so the pending rows' other indexes cannot
            # stand in for it.
            models.Index(
                fields=["route_at"], condition=Q(route_at__isnull=False), name="help_request_route_due"
            ),
            # Duplicate check.
            models.Index(fields=["phone", "status", "submitted_at"], name="help_request_by_phone"),
            # The state dashboard's periods (and the Referral Manager's newest first).
            models.Index(fields=["submitted_at"], name="help_request_submitted"),
            models.Index(fields=["clock_starts_at"], name="help_request_clock_starts"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=Q(status="pending"), name="help_request_one_pending_per_phone"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["in_progress", "complete"])
                | Q(accepted_helper__isnull=False, accepted_at__isnull=False),
                name="help_request_accepted_has_helper",
            ),
            models.CheckConstraint(
                condition=(Q(status="complete") & ~Q(outcome="")) | (~Q(status="complete") & Q(outcome="")),
                name="help_request_outcome_when_complete",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "in_progress"]) | Q(closed_at__isnull=False),
                name="help_request_closed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(contact_method="email") | ~Q(email=""), name="help_request_email_when_preferred"
            ),
            models.CheckConstraint(
                condition=~Q(source="api") | Q(api_key__isnull=False), name="help_request_api_has_key"
            ),
            # A request waits to be routed only while it is pending (every transition out of pending
            # clears `route_at`).
            models.CheckConstraint(
                condition=Q(route_at__isnull=True) | Q(status="pending"),
                name="help_request_route_only_pending",
            ),
            models.CheckConstraint(
                condition=Q(clock_starts_at__gte=models.F("submitted_at"))
                & Q(sla_due_at__gt=models.F("clock_starts_at"))
                & Q(unserved_at__gte=models.F("sla_due_at")),
                name="help_request_deadlines_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"help request {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def county(self) -> County | None:
        return KENTUCKY_COUNTY_FIPS.get(self.county_fips)


class Offer(BaseModel):
    """One helper's chance to take a help request (DESIGN §5.4): the General offer, or one of a Mass round.

    Its status changes only by the transitions of `ondemand.lifecycles.OFFER` (the table, and its
    diagram), each recorded in `HelpRequestEvent`; the help request's row is locked before its offers.

    The link in the helper's email and text message carries a secret derived from `link_key` when the
    message is sent; only its keyed hash is kept (ADR 0016). `score` and `score_parts` record why this
    helper was chosen.
    """

    class Kind(models.TextChoices):
        GENERAL = "general", _("General")
        MASS = "mass", _("Mass")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        RESCINDED = "rescinded", _("Taken by another helper or closed")
        ABANDONED = "abandoned", _("Passcode not entered in time")

    class Via(models.TextChoices):
        DESKTOP = "desktop", _("Referral Manager")
        LINK = "link", _("Link in a message")

    help_request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="offers")
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="offers")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    round = models.PositiveSmallIntegerField(_("round"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    needs_interpreter = models.BooleanField(_("needs interpreter"), default=False)
    score = models.FloatField(_("score"))
    score_parts = models.JSONField(_("score parts"), default=dict)

    offered_at = models.DateTimeField(_("offered"))
    expires_at = models.DateTimeField(_("expires"))
    remind_at = models.DateTimeField(_("reminder due"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    # A General offer still pending at `widen_at` gets a Mass round beside it (ADR 0044).
    widen_at = models.DateTimeField(_("widened to a Mass round at"), null=True, blank=True)
    widened_at = models.DateTimeField(_("widened"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    accepted_via = models.CharField(_("accepted on"), max_length=8, choices=Via.choices, blank=True)
    verify_due_at = models.DateTimeField(_("passcode due"), null=True, blank=True)
    verified_at = models.DateTimeField(_("passcode verified"), null=True, blank=True)
    details_until = models.DateTimeField(_("customer details open until"), null=True, blank=True)
    counted_miss = models.BooleanField(_("counted as a miss"), default=False)

    token_hash = models.CharField(max_length=64)
    link_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-offered_at"]
        indexes = [
            # The deadlines, partial as the help request's are (see there).
            models.Index(
                fields=["expires_at"],
                condition=Q(status="pending", expires_at__isnull=False),
                name="offer_expiry_due",
            ),
            models.Index(
                fields=["remind_at"],
                condition=Q(status="pending", reminded_at__isnull=True, remind_at__isnull=False),
                name="offer_reminder_due",
            ),
            models.Index(
                fields=["widen_at"],
                condition=Q(status="pending", widened_at__isnull=True, widen_at__isnull=False),
                name="offer_widen_due",
            ),
            models.Index(
                fields=["verify_due_at"],
                condition=Q(status="accepted", verified_at__isnull=True, verify_due_at__isnull=False),
                name="offer_verify_due",
            ),
            models.Index(fields=["helper", "status"], name="offer_by_helper"),
            models.Index(fields=["helper", "offered_at"], name="offer_helper_recent"),
            # The state dashboard's missed-offer rate by period.
            models.Index(fields=["offered_at"], name="offer_offered"),
        ]
        constraints = [
            # A helper never holds two pending offers.
            models.UniqueConstraint(
                fields=["helper"], condition=Q(status="pending"), name="offer_one_pending"
            ),
            # A request is offered to a helper at most once.
            models.UniqueConstraint(fields=["help_request", "helper"], name="offer_once_per_helper"),
            # At most one accepted offer per request.
            models.UniqueConstraint(
                fields=["help_request"], condition=Q(status="accepted"), name="offer_one_accepted"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("offered_at")), name="offer_expires_later"
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | ~Q(accepted_via=""), name="offer_accepted_has_via"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} offer {self.pk} ({self.status})"


class OfferPasscode(OneTimeCodeBase):
    """A one-time passcode sent by text message after a link accept (DESIGN §5.4; `kynect.core.codes`)."""

    CODE_PURPOSE = CODE_PURPOSE

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="passcodes")
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"passcode {self.pk}"


class CallAttempt(BaseModel):
    """A call (or text, or email) the helper logged while working a request. The first one stops the clock."""

    class Result(models.TextChoices):
        REACHED = "reached", _("Talked with them")
        NO_ANSWER = "no_answer", _("No answer")
        VOICEMAIL = "voicemail", _("Left a voicemail")
        MESSAGE = "message", _("Sent a text or email")
        DIALLED = "dialled", _("Dialled from kynect")

    help_request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="call_attempts")
    helper = models.ForeignKey(Helper, on_delete=models.PROTECT, related_name="call_attempts")
    at = models.DateTimeField(_("when"))
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"call attempt {self.pk}"


class OfferMessage(models.Model):
    """Which offer an outbox message (the offer, its reminder) is about, so that its secret link can be
    put in only when it is sent, and the message withdrawn if the offer is no longer pending."""

    message_id = models.UUIDField(primary_key=True)
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="messages")

    def __str__(self) -> str:
        return f"offer message {self.message_id}"


class Deregistration(BaseModel):
    """One de-registration of a helper, kept when they register again (`Helper.deregistered_at` is cleared
    then), so that the state dashboard's counts of de-registrations do not change afterwards."""

    helper = models.ForeignKey(Helper, on_delete=models.CASCADE, related_name="deregistrations")
    at = models.DateTimeField(_("de-registered"))
    reason = models.CharField(
        _("de-registration reason"), max_length=20, choices=Helper.DeregistrationReason.choices
    )

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["reason", "at"], name="deregistration_by_reason")]

    def __str__(self) -> str:
        return f"de-registration {self.pk} ({self.reason})"


class HelpRequestEvent(models.Model):
    """One step of a help request's timeline: a transition of the request or of one of its offers
    (`ondemand.lifecycles`), written in the transaction that made it."""

    help_request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="events")
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    transition = models.CharField(_("transition"), max_length=20)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12)
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["help_request", "at"], name="help_request_timeline")]

    def __str__(self) -> str:
        subject = f"offer {self.offer_id}" if self.offer_id else f"request {self.help_request_id}"
        return f"{subject}: {self.transition} at {self.at:%Y-%m-%d %H:%M}"
