"""FHIR R4B mapping (`fhir.resources.R4B`), one module per resource kind (DESIGN §5.6a, ADR 0025).

The directory's records are published in the shape of the FHIR Human Services Directory IG (HSD STU1):
`organization.py`, `healthcare_service.py`, `location.py`. Every resource is built as a `fhir.resources`
model, so it is validated when it is made. Referral, consent and SDoH mappers belong here too.
"""
