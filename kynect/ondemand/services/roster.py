"""The Department of Insurance roster import: licences upserted by NPN; agents whose licence no longer
meets the On Demand FAQ's criteria are de-registered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from kynect.core import clock
from kynect.interop.doi.roster import Roster, RosterProblem, RosterRow
from kynect.ondemand.models import DoiLicence, Helper
from kynect.ondemand.selectors import licence_is_eligible
from kynect.ondemand.services.deregistration import helper_deregister


@dataclass
class RosterImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deregistered: int = 0
    problems: list[RosterProblem] = field(default_factory=list)


_LICENCE_FIELDS = (
    "licence_number",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "lines_of_authority",
    "has_health_authority",
    "expires_on",
    "certification_completed_on",
)


def _licence_values(row: RosterRow) -> dict[str, Any]:
    return {
        "licence_number": row.licence_number,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "email": row.email,
        "phone": row.phone,
        "status": row.status,
        "lines_of_authority": list(row.lines_of_authority),
        "has_health_authority": row.has_health_authority,
        "expires_on": row.expires_on,
        "certification_completed_on": row.certification_completed_on,
    }


@transaction.atomic
def licence_roster_import(*, roster: Roster) -> RosterImportSummary:
    """Upsert the roster's good rows by NPN, all or nothing; rows already the same are not touched.

    Licences missing from the file are kept. Registered agents whose licence no longer meets the On
    Demand FAQ's criteria are de-registered (reason: not eligible).
    """
    summary = RosterImportSummary(problems=list(roster.problems))
    now = clock.now()
    existing = DoiLicence.objects.in_bulk([row.npn for row in roster.rows])
    to_create: list[DoiLicence] = []
    to_update: list[DoiLicence] = []
    for row in roster.rows:
        values = _licence_values(row)
        licence = existing.get(row.npn)
        if licence is None:
            to_create.append(DoiLicence(npn=row.npn, imported_at=now, **values))
            continue
        if all(getattr(licence, name) == values[name] for name in _LICENCE_FIELDS):
            summary.unchanged += 1
            continue
        for name, value in values.items():
            setattr(licence, name, value)
        licence.imported_at = now
        to_update.append(licence)
    DoiLicence.objects.bulk_create(to_create, batch_size=1000)
    DoiLicence.objects.bulk_update(to_update, [*_LICENCE_FIELDS, "imported_at"], batch_size=1000)
    summary.created = len(to_create)
    summary.updated = len(to_update)

    today = now.date()
    for helper in Helper.objects.filter(
        status=Helper.Status.REGISTERED, licence__in=[licence.npn for licence in to_update]
    ).select_related("licence"):
        assert helper.licence is not None
        if not licence_is_eligible(licence=helper.licence, today=today) and helper_deregister(
            helper=helper, reason=Helper.DeregistrationReason.NOT_ELIGIBLE
        ):
            summary.deregistered += 1
    return summary
