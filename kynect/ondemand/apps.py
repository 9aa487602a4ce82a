from django.apps import AppConfig


class OndemandConfig(AppConfig):
    name = "kynect.ondemand"
    label = "ondemand"
    verbose_name = "kynect On Demand"

    def ready(self) -> None:
        # Registers how the mobile verification text gets its code when it is sent (ADR 0014).
        # And how a requester's confirmation gets its secret links (ADR 0016).
        from kynect.ondemand import (
            confirmation,  # noqa: F401
            verification,  # noqa: F401
        )
