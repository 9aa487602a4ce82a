"""42 CFR Part 2: which of a resident's data are substance use disorder records, who may see them, and
the notice that goes with them (ADR 0040).

Part 2 data are needs and risk factors in the Substance Abuse domain, and referrals to services filed
under substance use treatment (`Referral.part2`, fixed when the referral is made). They are shown only to
the resident and to organizations holding the resident's separate, recipient-specific Part 2 consent
(`Consent.Kind.PART2`: purpose, what is shared, expiry, the right to revoke); a general consent does not
unlock them. A referral's own parties (its sender and the program that received it) see that referral.
Every page, print and export that shows Part 2 data carries the re-disclosure notice of §2.32.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from kynect.core.sdoh import SdohDomain
from kynect.residents.access import Action, Decision, decide
from kynect.residents.models import Resident

PART2_DOMAINS = frozenset({SdohDomain.SUBSTANCE_ABUSE})
# The kynect category (and every category beneath it) whose services are Part 2 programs.
PART2_CATEGORY = "substance-use-treatment"

# What a Part 2 consent lets its organization see (42 CFR §2.31(a)(3): how much and what kind).
PART2_SHARES = _(
    "Referrals for substance use treatment and their outcomes, and needs and risk factors about "
    "substance use."
)
# How long a Part 2 consent may last, and what a request proposes unless the staff member chooses less.
PART2_LONGEST = timedelta(days=365)

# 42 CFR §2.32(a)(2): the statement that may stand for the full notice.
REDISCLOSURE_STATEMENT = _("42 CFR part 2 prohibits unauthorized use or disclosure of these records.")
REDISCLOSURE_EXPLAINED = _(
    "This page holds records about substance use treatment that federal law protects. You may use them "
    "only as the resident's Part 2 consent allows, and may not pass them on without the resident's written "
    "consent. A general consent to share information is not enough."
)


def part2_unlocked(*, user: Any, resident: Resident) -> bool:
    """May the user see the resident's Part 2 data (beyond the referrals they are a party to)?"""
    return decide(user=user, action=Action.VIEW_PART2, resident=resident) == Decision.ALLOWED


def domain_is_part2(domain: str) -> bool:
    return domain in PART2_DOMAINS
