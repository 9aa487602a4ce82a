from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "kynect.reporting"
    label = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        # The monthly incentive report's recurring job.
        from kynect.reporting import incentive  # noqa: F401
