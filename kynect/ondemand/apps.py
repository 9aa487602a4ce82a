from django.apps import AppConfig


class OndemandConfig(AppConfig):
    name = "kynect.ondemand"
    label = "ondemand"
    verbose_name = "kynect On Demand"

    def ready(self) -> None:
        # Registers how messages get their secrets when sent: the requester's confirmation its links (ADR
        # 0016), offers their links, mobile codes and passcodes their codes (ADR 0014); and the routing
        # deadlines (DESIGN §5.6).
        from kynect.core import sweeper
        from kynect.ondemand import (
            confirmation,  # noqa: F401
            messages,  # noqa: F401
        )
        from kynect.ondemand.services.sweeps import SWEEPS

        for name, handler in SWEEPS.items():
            sweeper.register(name)(handler)
