from typing import Any

from django.http import HttpRequest

from kynect.accounts.models import Role, User
from kynect.accounts.selectors import user_has_role


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether the header links to My Plan (residents): asked only when the header renders it."""
    user = getattr(request, "user", None)

    def show_my_plan() -> bool:
        return isinstance(user, User) and user_has_role(user=user, role=Role.RESIDENT)

    return {"my_plan_link": show_my_plan}
