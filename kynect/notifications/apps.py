from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kynect.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from kynect.notifications import worker  # noqa: F401  (registers the outbox sweep and senders)
