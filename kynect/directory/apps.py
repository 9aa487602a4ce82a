from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "kynect.directory"
    label = "directory"
    verbose_name = "Directory (HSDS 3.0)"
