"""A resident as a FHIR Patient (US Core Patient, as SDOHCC's Task and ServiceRequest expect their
subject to be): the name, date of birth, contact details and language a partner holding a referral may
see (DESIGN §5.2). Callers read the resident through `kynect.core.audit.audited_read`."""

from __future__ import annotations

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.patient import Patient, PatientCommunication

from kynect.interop.fhir.datatypes import KYNECT_SYSTEM, LANGUAGE_SYSTEM
from kynect.residents.models import ContactMethod, Gender, Resident

US_CORE_PATIENT = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
RESIDENT_SYSTEM = f"{KYNECT_SYSTEM}/NamingSystem/resident"
CLIENT_ID_SYSTEM = f"{KYNECT_SYSTEM}/NamingSystem/client-id"
# FHIR's administrative genders; "prefer not to say" and a gender not given are `unknown`.
GENDERS: dict[str, str] = {Gender.FEMALE: "female", Gender.MALE: "male", Gender.ANOTHER: "other"}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def patient_resource(resident: Resident) -> Patient:
    """The resident's own record: no household, programs or assessments (those need consent)."""
    telecom = []
    if resident.mobile_phone:
        telecom.append(
            ContactPoint(
                system="sms" if resident.preferred_contact_method == ContactMethod.TEXT else "phone",
                value=resident.mobile_phone,
                use="mobile",
                rank=1 if resident.preferred_contact_method != ContactMethod.EMAIL else 2,
            )
        )
    if resident.email:
        telecom.append(
            ContactPoint(
                system="email",
                value=resident.email,
                use="home",
                rank=1 if resident.preferred_contact_method == ContactMethod.EMAIL else 2,
            )
        )
    identifiers = [Identifier(system=RESIDENT_SYSTEM, value=str(resident.pk))]
    if resident.client_id:
        identifiers.append(Identifier(system=CLIENT_ID_SYSTEM, value=resident.client_id))
    place = None
    if resident.address_1 or resident.city or resident.postal_code:
        place = Address(
            use="home",
            line=[line for line in (resident.address_1, resident.address_2) if line] or None,
            city=resident.city or None,
            state=resident.state_province or None,
            postalCode=resident.postal_code or None,
            country="US",
        )
    language = resident.preferred_language
    return Patient(
        id=str(resident.pk),
        meta=Meta(profile=[US_CORE_PATIENT], lastUpdated=resident.updated_at),
        identifier=identifiers,
        name=[
            HumanName(
                use="official",
                family=resident.last_name,
                given=[resident.first_name],
                text=f"{resident.first_name} {resident.last_name}",
            )
        ],
        telecom=telecom or None,
        gender=GENDERS.get(resident.gender, "unknown"),
        birthDate=resident.birth_date,
        address=[place] if place is not None else None,
        communication=[
            PatientCommunication(
                language=CodeableConcept(
                    coding=[
                        Coding(system=LANGUAGE_SYSTEM, code=language, display=LANGUAGE_NAMES.get(language))
                    ]
                ),
                preferred=True,
            )
        ],
    )
