"""Amounts in cents shown as dollars in the reader's format: $1,230.00, -$10.00."""

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def dollars(cents: int) -> str:
    amount = formats.number_format(abs(cents) / 100, 2, use_l10n=True, force_grouping=True)
    return f"{'-' if cents < 0 else ''}${amount}"


@register.filter
def times(count: int, cents: int) -> int:
    return count * cents
