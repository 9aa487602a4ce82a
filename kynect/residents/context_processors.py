from typing import Any

from django.http import HttpRequest

from kynect.accounts.models import Role, User
from kynect.accounts.selectors import user_has_role
from kynect.residents.part2 import REDISCLOSURE_EXPLAINED, REDISCLOSURE_STATEMENT


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether the header links to My Plan (residents): asked only when the header renders it; and the
    42 CFR §2.32 notice, for the pages that show Part 2 data (`components/part2_notice.html`)."""
    user = getattr(request, "user", None)

    def show_my_plan() -> bool:
        return isinstance(user, User) and user_has_role(user=user, role=Role.RESIDENT)

    return {
        "my_plan_link": show_my_plan,
        "part2_notice": {"statement": REDISCLOSURE_STATEMENT, "explained": REDISCLOSURE_EXPLAINED},
    }
