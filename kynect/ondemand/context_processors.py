from typing import Any

from django.http import HttpRequest

from kynect.accounts.models import User
from kynect.ondemand.selectors import user_is_helper


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether to show the kynect On Demand tab: asked only when a page's navigation needs it."""
    user = getattr(request, "user", None)

    def show_tab() -> bool:
        return isinstance(user, User) and user_is_helper(user=user)

    return {"ondemand_tab": show_tab}
