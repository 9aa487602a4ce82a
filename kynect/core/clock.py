"""The platform's one source of the current time (aware, UTC), so tests can move it."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
