from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "kynect.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from kynect.core import (
            ratelimit,  # noqa: F401  (registers its sweep handler)
            recurring,
        )

        def recurring_jobs_sync(**kwargs: Any) -> None:
            recurring.recurring_jobs_sync()

        # Every app has registered its recurring jobs by now; their schedule rows follow each migrate.
        post_migrate.connect(recurring_jobs_sync, sender=self, weak=False, dispatch_uid="core.recurring_jobs")
