from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "kynect.residents"
    label = "residents"
    verbose_name = "Residents"

    def ready(self) -> None:
        from kynect.residents import (
            lifecycles,  # noqa: F401  (registers the consent lifecycle)
            services_consent,  # noqa: F401  (the consent link's send-time context)
        )
