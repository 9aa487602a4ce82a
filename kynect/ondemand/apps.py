from django.apps import AppConfig


class OndemandConfig(AppConfig):
    name = "kynect.ondemand"
    label = "ondemand"
    verbose_name = "kynect On Demand"

    def ready(self) -> None:
        # Registers how the mobile verification text gets its code when it is sent (ADR 0014).
        # And how a requester's confirmation gets its secret links (ADR 0016).
        # And how offers get their links and passcodes their codes; and the routing deadlines (DESIGN §5.6).
        from kynect.core import sweeper
        from kynect.ondemand import (
            confirmation,  # noqa: F401
            messages,  # noqa: F401
            verification,  # noqa: F401
        )
        from kynect.ondemand.services.sweeps import SWEEPS

        for name, handler in SWEEPS.items():
            sweeper.register(name)(handler)
