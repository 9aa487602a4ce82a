"""Writes for residents: a resident found or made while referring (with the duplicate check), and
pre-consent (DESIGN §5.2)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kynect.accounts.models import Organization, User
from kynect.core import clock
from kynect.core.geo import UnknownZipCodeError, zip_lookup
from kynect.core.names import name_validate
from kynect.core.phones import phone_normalize
from kynect.residents.models import Consent, ContactMethod, Resident

OLDEST_BIRTH_YEAR = 1900


def match_key(*, first_name: str, last_name: str, birth_date: date) -> str:
    """Last name, first name and date of birth, compared without case, accents or extra spaces."""

    def plain(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())

    return f"{plain(last_name)}|{plain(first_name)}|{birth_date.isoformat()}"


@dataclass(frozen=True)
class ResidentInput:
    """What a referrer types about a resident (the form's and the API's fields)."""

    first_name: str
    last_name: str
    birth_date: date
    mobile_phone: str = ""
    email: str = ""
    preferred_language: str = "en"
    postal_code: str = ""
    client_id: str = ""
    gender: str = ""
    preferred_contact_method: str = ""
    address_1: str = ""
    city: str = ""


def resident_input_clean(data: ResidentInput, *, today: date) -> ResidentInput:
    """The input with phone and email normalised; raises ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    first, last = data.first_name.strip(), data.last_name.strip()
    for field, value in (("first_name", first), ("last_name", last)):
        if not value:
            errors.setdefault(field, []).append(_("This field is required."))
        else:
            try:
                name_validate(value)
            except ValidationError as error:
                errors.setdefault(field, []).extend(error.messages)
    if data.birth_date > today or data.birth_date.year < OLDEST_BIRTH_YEAR:
        errors.setdefault("birth_date", []).append(_("Enter a real date of birth, not in the future."))
    phone = ""
    if data.mobile_phone.strip():
        try:
            phone = phone_normalize(data.mobile_phone)
        except ValidationError as error:
            errors.setdefault("mobile_phone", []).extend(error.messages)
    email = data.email.strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.setdefault("email", []).append(_("Enter a valid email address."))
    if not phone and not email and "mobile_phone" not in errors and "email" not in errors:
        errors.setdefault("mobile_phone", []).append(_("Enter a mobile phone number or an email address."))
    if data.preferred_language not in ("en", "es"):
        errors.setdefault("preferred_language", []).append(_("Choose English or Spanish."))
    if data.postal_code.strip():
        try:
            zip_lookup(data.postal_code)
        except UnknownZipCodeError as error:
            errors.setdefault("postal_code", []).append(str(error))
    method = data.preferred_contact_method or (ContactMethod.TEXT if phone else ContactMethod.EMAIL)
    if method not in ContactMethod.values:
        errors.setdefault("preferred_contact_method", []).append(_("Choose how to contact the resident."))
    elif method == ContactMethod.EMAIL and not email:
        errors.setdefault("email", []).append(_("Enter an email address to contact the resident by email."))
    elif method != ContactMethod.EMAIL and not phone and "mobile_phone" not in errors:
        errors.setdefault("mobile_phone", []).append(_("Enter a mobile phone number to call or text."))
    if errors:
        raise ValidationError(errors)
    return ResidentInput(
        first_name=first,
        last_name=last,
        birth_date=data.birth_date,
        mobile_phone=phone,
        email=email,
        preferred_language=data.preferred_language,
        postal_code=data.postal_code.strip()[:5],
        client_id=data.client_id.strip(),
        gender=data.gender,
        preferred_contact_method=method,
        address_1=data.address_1.strip(),
        city=data.city.strip(),
    )


def resident_find_duplicate(*, data: ResidentInput) -> Resident | None:
    """The existing record for the same person: the same client ID, or the same name and date of
    birth. The caller must not show it to anyone DESIGN §5.2 does not allow."""
    key = match_key(first_name=data.first_name, last_name=data.last_name, birth_date=data.birth_date)
    query = Q(match_key=key)
    if data.client_id:
        query |= Q(client_id=data.client_id)
    return Resident.objects.filter(query).order_by("created_at").first()


@transaction.atomic
def resident_find_or_create(
    *, data: ResidentInput, actor: User, organization: Organization | None
) -> tuple[Resident, bool]:
    """The resident a referral is for: the existing record when the duplicate check finds one (the
    referral attaches to it; nothing of it is shown to the referrer), else a new one. Returns the
    resident and whether it already existed."""
    cleaned = resident_input_clean(data, today=clock.now().date())
    existing = resident_find_duplicate(data=cleaned)
    if existing is not None:
        return existing, True
    return _resident_create(cleaned, actor=actor, organization=organization), False


@transaction.atomic
def resident_of_account(*, user: User, data: ResidentInput) -> Resident:
    """A signed-in resident's own record, linked to their account:
    - the record already linked to it, unchanged;
    - else the record the duplicate check finds, when no account holds it and it has the account's own
      email or mobile phone (what they sign in and are reached with): someone who merely shares a name
      and a date of birth must not be handed another person's record;
    - else a new record from what they typed. A record found without the account's contact is left
      as it is and shown to no one (DESIGN §5.2); the two can be joined later by staff.
    Raises ValidationError (by field) for bad input, with nothing written."""
    linked = Resident.objects.filter(user=user).first()
    if linked is not None:
        return linked
    cleaned = resident_input_clean(data, today=clock.now().date())
    existing = resident_find_duplicate(data=cleaned)
    # The link is a conditional update: two accounts cannot both take one record.
    if (
        existing is not None
        and _holds_account_contact(existing, user)
        and Resident.objects.filter(pk=existing.pk, user__isnull=True).update(user=user)
    ):
        existing.user = user
        return existing
    return _resident_create(cleaned, actor=user, organization=None, user=user)


def _holds_account_contact(resident: Resident, user: User) -> bool:
    same_email = bool(resident.email) and resident.email.casefold() == user.email.casefold()
    same_phone = bool(resident.mobile_phone) and bool(user.phone) and resident.mobile_phone == user.phone
    return same_email or same_phone


def _resident_create(
    cleaned: ResidentInput, *, actor: User, organization: Organization | None, user: User | None = None
) -> Resident:
    county_fips = ""
    city = cleaned.city
    if cleaned.postal_code:
        info = zip_lookup(cleaned.postal_code)
        county_fips = info.county.fips if info.county else ""
        city = city or info.city
    resident = Resident(
        client_id=cleaned.client_id,
        first_name=cleaned.first_name,
        last_name=cleaned.last_name,
        birth_date=cleaned.birth_date,
        gender=cleaned.gender,
        email=cleaned.email,
        mobile_phone=cleaned.mobile_phone,
        preferred_contact_method=cleaned.preferred_contact_method,
        preferred_language=cleaned.preferred_language,
        address_1=cleaned.address_1,
        city=city,
        postal_code=cleaned.postal_code,
        county_fips=county_fips,
        match_key=match_key(
            first_name=cleaned.first_name, last_name=cleaned.last_name, birth_date=cleaned.birth_date
        ),
        created_by=actor,
        created_by_organization=organization,
        user=user,
    )
    resident.full_clean(validate_unique=False, validate_constraints=False)
    resident.save(force_insert=True)
    return resident


def consent_grant_pre_consent(
    *, resident: Resident, organization: Organization, actor: User, now: datetime
) -> Consent:
    """Pre-consent given while a referral is made: the organization's consent record, granted (`active`)
    by channel pre-consent (DESIGN §5.2). An active consent stays as it is."""
    from kynect.residents.lifecycles import CONSENT

    consent, _created = Consent.objects.get_or_create(
        resident=resident,
        organization=organization,
        defaults={"channel": Consent.Channel.PRE_CONSENT, "recorded_by": actor},
    )
    if consent.status != Consent.Status.ACTIVE:
        CONSENT.apply(
            "grant",
            instance=consent,
            now=now,
            values={"channel": Consent.Channel.PRE_CONSENT, "recorded_by": actor, "revoked_at": None},
            event={"from_status": consent.status, "channel": Consent.Channel.PRE_CONSENT, "actor": actor},
        )
    return consent


def resident_khie_sharing_set(*, actor: User, resident: Resident, share: bool) -> None:
    """The resident's own choice, in My Plan, whether their SDoH information is shared with KHIE."""
    if resident.user_id is None or resident.user_id != actor.pk:
        raise PermissionDenied
    Resident.objects.filter(pk=resident.pk).update(khie_sharing=share, updated_at=clock.now())
    resident.khie_sharing = share
