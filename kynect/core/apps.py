from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "kynect.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django_tasks.signals import task_finished, task_started

        from kynect.core import (
            ratelimit,  # noqa: F401  (registers its sweep handler)
            recurring,
        )
        from kynect.core.logging import task_log_context_end, task_log_context_start

        # Records a task logs carry its id and name (kynect.core.logging).
        task_started.connect(task_log_context_start, dispatch_uid="core.task_log_context_start")
        task_finished.connect(task_log_context_end, dispatch_uid="core.task_log_context_end")

        def recurring_jobs_sync(**kwargs: Any) -> None:
            recurring.recurring_jobs_sync()

        # Every app has registered its recurring jobs by now; their schedule rows follow each migrate.
        post_migrate.connect(recurring_jobs_sync, sender=self, weak=False, dispatch_uid="core.recurring_jobs")
