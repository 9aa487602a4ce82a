from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "kynect.directory"
    label = "directory"
    verbose_name = "Directory (HSDS 3.0)"

    def ready(self) -> None:
        from kynect.directory import signals

        signals.connect()
