from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "kynect.assessments"
    label = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from kynect.assessments import lifecycles  # noqa: F401
        from kynect.assessments.selectors import (
            resident_assessments_section,
            resident_plan_assessments_section,
            resident_risk_factors_api,
            resident_risk_factors_section,
        )
        from kynect.residents.sections import resident_api_part_register, resident_section_register

        # The Resident Detail Screen's Assessments and Risk Factors, and My Plan's assessments.
        resident_section_register("assessments", resident_assessments_section)
        resident_section_register("risk_factors", resident_risk_factors_section)
        resident_section_register("assessments", resident_plan_assessments_section, place="plan")
        resident_api_part_register("risk_factors", resident_risk_factors_api)

        # Retention erasing residents: their answers go too.
        from kynect.assessments.services import assessments_resident_erasing
        from kynect.residents.retention import resident_erasing

        resident_erasing.connect(assessments_resident_erasing, dispatch_uid="assessments.resident_erasing")
