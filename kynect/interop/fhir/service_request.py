"""A referral's request as a FHIR ServiceRequest (SDOHCC-ServiceRequest, Gravity SDOH Clinical Care IG).

The referral's need is an SDOH category: the nearest code of the IG's temporary code system where one
fits, else `sdoh-category-unspecified` (the profile wants at least one SDOH category), always beside the
need's own code in kynect's code system (`NEED_SYSTEM`). `NEED_CATEGORIES` is the mapping; the reference
doc lists it.
"""

from __future__ import annotations

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest

from kynect.core.sdoh import SdohDomain
from kynect.interop.fhir.datatypes import ACT_CODES, KYNECT_SYSTEM
from kynect.referrals.models import Referral

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
SERVICE_REQUEST_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest"
SDOHCC_CODES = f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
SNOMED = "http://snomed.info/sct"
NEED_SYSTEM = f"{KYNECT_SYSTEM}/CodeSystem/sdoh-domain"

# The SDOHCC category nearest to each of kynect's 18 needs; None: no category fits.
NEED_CATEGORIES: dict[str, tuple[str, str] | None] = {
    SdohDomain.ADULT_EDUCATION: ("educational-attainment", "Educational Attainment"),
    SdohDomain.COMMUNITY_INVOLVEMENT: ("social-connection", "Social Connection"),
    SdohDomain.FOOD: ("food-insecurity", "Food Insecurity"),
    SdohDomain.HOUSING: ("housing-instability", "Housing Instability"),
    SdohDomain.LIFE_SKILLS: None,
    SdohDomain.MENTAL_HEALTH: ("stress", "Stress"),
    SdohDomain.MOBILITY: ("transportation-insecurity", "Transportation Insecurity"),
    SdohDomain.DISABILITIES: None,
    SdohDomain.EMPLOYMENT: ("employment-status", "Employment Status"),
    SdohDomain.HEALTH_CARE_COVERAGE: ("health-insurance-coverage-status", "Health Insurance Coverage Status"),
    SdohDomain.INCOME: ("financial-insecurity", "Financial Insecurity"),
    SdohDomain.LEGAL: None,
    SdohDomain.CHILDCARE: None,
    SdohDomain.CHILDRENS_EDUCATION: None,
    SdohDomain.PARENTING_SKILLS: None,
    SdohDomain.SAFETY: None,
    SdohDomain.SUBSTANCE_ABUSE: None,
    SdohDomain.FAMILY_SOCIAL_RELATIONS: ("social-connection", "Social Connection"),
}
UNSPECIFIED = ("sdoh-category-unspecified", "SDOH Category Unspecified")
SOCIAL_SERVICE_PROCEDURE = Coding(system=SNOMED, code="410606002", display="Social service procedure")
REFERRAL_TO_SERVICE = Coding(system=SNOMED, code="306206005", display="Referral to service")

# The request as its requester sees it: open while the Task is, then done, withdrawn or in error.
REQUEST_STATUSES: dict[str, str] = {
    Referral.Status.COMPLETED: "completed",
    Referral.Status.FAILED: "completed",
    Referral.Status.REJECTED: "revoked",
    Referral.Status.CANCELLED: "revoked",
    Referral.Status.ENTERED_IN_ERROR: "entered-in-error",
}


def need_categories(need: str) -> list[CodeableConcept]:
    """The SDOHCC category of a need, and the need in kynect's own code system."""
    code, display = NEED_CATEGORIES[need] or UNSPECIFIED
    label = str(SdohDomain(need).label)
    return [
        CodeableConcept(coding=[Coding(system=SDOHCC_CODES, code=code, display=display)]),
        CodeableConcept(coding=[Coding(system=NEED_SYSTEM, code=need, display=label)], text=label),
    ]


def service_request_resource(
    referral: Referral, *, patient: Reference, requester: Reference, owner: Reference
) -> ServiceRequest:
    """Needs `referral.service` selected. Text is in the active language (the bundle's is English)."""
    return ServiceRequest(
        id=str(referral.pk),
        meta=Meta(
            profile=[SERVICE_REQUEST_PROFILE],
            lastUpdated=referral.updated_at,
            security=part2_security_labels() if referral.part2 else None,
        ),
        status=REQUEST_STATUSES.get(referral.status, "active"),
        intent="order",
        priority=referral.urgency,
        category=[CodeableConcept(coding=[SOCIAL_SERVICE_PROCEDURE]), *need_categories(referral.need)],
        code=CodeableConcept(coding=[REFERRAL_TO_SERVICE], text=referral.service.name),
        subject=patient,
        authoredOn=referral.created_at,
        requester=requester,
        performer=[
            owner,
            Reference(reference=f"HealthcareService/{referral.service_id}", display=referral.service.name),
        ],
        note=[Annotation(text=referral.note)] if referral.note else None,
    )


def part2_security_labels() -> list[Coding]:
    """The labels of a resource holding 42 CFR Part 2 data: what it is, and that the recipient may not
    pass it on without the patient's consent (the §2.32 notice, in FHIR's words)."""
    return [
        Coding(system=ACT_CODES, code="42CFRPart2", display="42 CFR Part2"),
        Coding(
            system=ACT_CODES,
            code="NORDSCLCD",
            display="no redisclosure without consent directive",
        ),
    ]
