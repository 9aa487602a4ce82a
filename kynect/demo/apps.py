from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Composes every app's demo data; it sits above the apps it composes and nothing imports it."""

    name = "kynect.demo"
    label = "demo"
    verbose_name = "Demo data"
