from typing import Any

from django.http import HttpRequest

from kynect.accounts.models import User
from kynect.ondemand.selectors import user_is_helper


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether to show the kynect On Demand tab and the oversight link: asked only when a page's
    navigation needs it."""
    user = getattr(request, "user", None)

    def show_tab() -> bool:
        return isinstance(user, User) and user_is_helper(user=user)

    def show_oversight() -> bool:
        """State administrators (who are not helpers) reach the oversight pages from the header;
        agency admins from their kynect On Demand page."""
        from kynect.ondemand.selectors_oversight import oversight_scope

        return isinstance(user, User) and oversight_scope(user=user) is not None

    return {"ondemand_tab": show_tab, "ondemand_oversight": show_oversight}
