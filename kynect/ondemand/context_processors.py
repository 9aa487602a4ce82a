from typing import Any

from django.http import HttpRequest

from kynect.accounts.models import User
from kynect.ondemand.selectors import (
    Preferences,
    can_manage_helpers,
    helper_of,
    helper_preferences,
    user_is_helper,
)
from kynect.ondemand.selectors_oversight import oversight_scope


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether to show the kynect On Demand tab and the oversight link: asked only when a page's
    navigation needs it."""
    user = getattr(request, "user", None)

    def show_tab() -> bool:
        return isinstance(user, User) and user_is_helper(user=user)

    def show_oversight() -> bool:
        """State administrators (who are not helpers) reach the oversight pages from the header;
        agency admins from their kynect On Demand page."""
        return isinstance(user, User) and oversight_scope(user=user) is not None

    return {"ondemand_tab": show_tab, "ondemand_oversight": show_oversight}


def my_information(request: HttpRequest) -> dict[str, Any]:
    """What the account's My Information page shows of kynect On Demand (the accounts app knows nothing
    of On Demand): asked only when that page renders it."""
    user = getattr(request, "user", None)

    def preferences() -> Preferences | None:
        helper = helper_of(user=user) if isinstance(user, User) else None
        return helper_preferences(helper=helper) if helper is not None else None

    def manages_helpers() -> bool:
        return isinstance(user, User) and can_manage_helpers(user=user)

    return {"ondemand_preferences": preferences, "ondemand_can_manage_helpers": manages_helpers}
