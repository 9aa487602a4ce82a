"""A resident's consent for one organization as a FHIR R4B Consent claiming the SDOH Clinical Care
guide's SDOHCC-Consent profile: a privacy consent (scope `patient-privacy`) to disclose information
(category `IDSCL`), whose provision permits the organization, as the information recipient (`IRCP`), to
receive (`disclose`) the resident's record from when it was granted. kynect resources is the
organization that keeps it; the source is the platform's own consent record. Callers read the consent
through `kynect.core.audit.audited_read`."""

from __future__ import annotations

from datetime import datetime

from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.consent import ConsentPolicy, ConsentProvision, ConsentProvisionActor
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.reference import Reference

from kynect.interop.fhir.datatypes import ACT_CODES, CONTENT_LANGUAGE, KYNECT_SYSTEM
from kynect.interop.fhir.organization import KYNECT_ID, KYNECT_NAME
from kynect.interop.fhir.service_request import SDOHCC
from kynect.residents.models import Consent

CONSENT_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-Consent"
CONSENT_SCOPES = "http://terminology.hl7.org/CodeSystem/consentscope"
PARTICIPATION_TYPES = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_ACTIONS = "http://terminology.hl7.org/CodeSystem/consentaction"
CONSENT_POLICIES = "http://terminology.hl7.org/CodeSystem/consentpolicycodes"
CONSENT_SYSTEM = f"{KYNECT_SYSTEM}/NamingSystem/consent"

# kynect's states are FHIR Consent's own (DESIGN §5.2).
STATUS = {
    Consent.Status.PROPOSED: "proposed",
    Consent.Status.ACTIVE: "active",
    Consent.Status.REJECTED: "rejected",
    Consent.Status.INACTIVE: "inactive",
}


# A 42 CFR Part 2 consent: the rule it meets, and the data it opens (labelled so in the resources that
# hold them: `service_request.part2_security_labels`).
PART2_AUTHORITY = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"


def _ends(consent: Consent) -> datetime | None:
    """When the permission ended or will end: revoked, or a Part 2 consent's expiry, whichever first."""
    ends = [moment for moment in (consent.revoked_at, consent.expires_at) if moment is not None]
    return min(ends) if ends else None


def consent_resource(consent: Consent, *, patient: Reference, recipient: Reference) -> FhirConsent:
    """Needs `consent.organization`. `patient` and `recipient` are the references to the resident's
    Patient and the organization's Organization. A Part 2 consent names 42 CFR Part 2 as its policy,
    its purpose in the source attachment's title, and limits its provision to data labelled Part 2
    until its expiry."""
    granted = consent.granted_at
    part2 = consent.kind == Consent.Kind.PART2
    how = consent.get_channel_display()
    title = f"kynect resources consent record ({how})"
    if part2:
        title = f"kynect resources 42 CFR Part 2 consent ({how}). Purpose: {consent.purpose}"
    return FhirConsent(
        id=str(consent.pk),
        meta=Meta(profile=[CONSENT_PROFILE]),
        language=CONTENT_LANGUAGE,
        identifier=[Identifier(system=CONSENT_SYSTEM, value=str(consent.pk))],
        status=STATUS[Consent.Status(consent.status)],
        scope=CodeableConcept(
            coding=[Coding(system=CONSENT_SCOPES, code="patient-privacy", display="Privacy Consent")]
        ),
        category=[
            CodeableConcept(coding=[Coding(system=ACT_CODES, code="IDSCL", display="information disclosure")])
        ],
        patient=patient,
        dateTime=granted or consent.created_at,
        organization=[Reference(reference=f"Organization/{KYNECT_ID}", display=KYNECT_NAME)],
        sourceAttachment=Attachment(title=title, creation=granted or consent.created_at),
        policy=[
            ConsentPolicy(authority=PART2_AUTHORITY, uri=f"{KYNECT_SYSTEM}/policy/part2-consent")
            if part2
            else ConsentPolicy(uri=f"{KYNECT_SYSTEM}/policy/resident-consent")
        ],
        provision=ConsentProvision(
            type="permit",
            period=Period(start=granted, end=_ends(consent)) if granted else None,
            securityLabel=[Coding(system=ACT_CODES, code="42CFRPart2", display="42 CFR Part2")]
            if part2
            else None,
            actor=[
                ConsentProvisionActor(
                    role=CodeableConcept(
                        coding=[
                            Coding(system=PARTICIPATION_TYPES, code="IRCP", display="information recipient")
                        ]
                    ),
                    reference=recipient,
                )
            ],
            action=[
                CodeableConcept(coding=[Coding(system=CONSENT_ACTIONS, code="disclose", display="Disclose")])
            ],
        ),
    )
