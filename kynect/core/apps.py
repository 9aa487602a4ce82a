from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kynect.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from kynect.core import ratelimit  # noqa: F401  (registers its sweep handler)
