from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kynect.accounts"
    label = "accounts"
    verbose_name = "Accounts"
