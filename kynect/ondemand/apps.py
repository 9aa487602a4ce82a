from django.apps import AppConfig


class OndemandConfig(AppConfig):
    name = "kynect.ondemand"
    label = "ondemand"
    verbose_name = "kynect On Demand"

    def ready(self) -> None:
        # Registers how messages get their secrets when sent: the requester's confirmation its links (ADR
        # 0016), offers their links, mobile codes and passcodes their codes (ADR 0014); the deadlines
        # (DESIGN §5.6); and routing, a loop of its own in every worker (ADR 0036).
        from kynect.core import sweeper
        from kynect.core.worker import side_loop_register
        from kynect.ondemand import (
            confirmation,  # noqa: F401
            messages,  # noqa: F401
        )
        from kynect.ondemand.services.sweeps import SWEEPS, help_requests_route_pass

        for name, handler in SWEEPS.items():
            sweeper.register(name)(handler)
        side_loop_register("ondemand.routing", help_requests_route_pass)
