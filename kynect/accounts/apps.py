from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _memberships_changed(**_kwargs: Any) -> None:
    from kynect.accounts.selectors import memberships_read_forget

    memberships_read_forget()


class AccountsConfig(AppConfig):
    name = "kynect.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # The memberships a request has read (`selectors.memberships_held`) are read again after any
        # membership or organization is saved or deleted.
        for model_name in ("Membership", "Organization"):
            model = self.get_model(model_name)
            uid = f"memberships_read_{model_name}"
            post_save.connect(_memberships_changed, sender=model, dispatch_uid=f"{uid}_saved")
            post_delete.connect(_memberships_changed, sender=model, dispatch_uid=f"{uid}_deleted")
