"""The search page's repeated parts, rendered in Python: `{% listing_cards cards %}` and
`{% search_field form.q %}`.

A page shows up to ten cards of some twenty parts each and seven form fields; through the template
engine they cost more than the search that found them. The markup is what the templates would write
(`components/field.html` for a field), every value escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from django import template
from django.forms import BoundField
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from kynect.directory.listings import ListingCard

register = template.Library()

DESCRIPTION_WORDS = 45


def _esc(value: str) -> str:
    """`django.utils.html.escape` without its lazy-string check: the same characters escaped."""
    return html.escape(value, quote=True)


def _truncate_words(text: str, count: int) -> str:
    """The `truncatewords` filter's result for plain text: at most `count` words, then " …"."""
    words = text.split()
    if len(words) > count:
        return " ".join(words[:count]) + " …"
    return " ".join(words)


def _icon(sprite: str, name: str) -> str:
    return (
        '<svg class="usa-icon" aria-hidden="true" focusable="false" role="img">'
        f'<use href="{sprite}#{name}"></use></svg>'
    )


@dataclass(frozen=True)
class CardLabels:
    """The words every card repeats, translated once per page."""

    partner: str
    miles: str
    connect: str
    connect_with: str
    share: str
    share_name: str

    @classmethod
    def current(cls) -> CardLabels:
        return cls(
            partner=escape(gettext("KY Partner")),
            miles=gettext("%(miles)s Miles"),
            connect=escape(gettext("Connect")),
            connect_with=gettext("Connect with %(name)s"),
            share=escape(gettext("Share")),
            share_name=gettext("Share %(name)s"),
        )


def listing_card_html(
    card: ListingCard, *, sprite: str, level: int = 3, labels: CardLabels | None = None
) -> str:
    """One card, as an `<li>` of the results list."""
    labels = labels or CardLabels.current()
    key = f"listing-{card.service_id}-{card.location_id or 'none'}"
    name = _esc(card.name)
    detail_url = _esc(card.detail_url)
    parts = [f'<li class="kynect-listing">\n  <article aria-labelledby="{key}">\n']
    if card.is_partner:
        parts.append(
            f'    <p class="kynect-listing__partner"><span class="usa-tag">{labels.partner}</span></p>\n'
        )
    parts.append(f'    <p class="kynect-listing__organization">{_esc(card.organization_name)}</p>\n')
    parts.append(f'    <h{level} class="kynect-listing__name" id="{key}">')
    parts.append(f'<a href="{detail_url}">{name}</a></h{level}>\n')
    if card.distance_miles is not None:
        miles = labels.miles % {"miles": floatformat(card.distance_miles, 1)}
        parts.append(f'    <p class="kynect-listing__distance">{_esc(miles)}</p>\n')
    if card.description:
        description = _esc(_truncate_words(card.description, DESCRIPTION_WORDS))
        parts.append(f'    <p class="kynect-listing__description">{description}</p>\n')
    parts.append('    <ul class="kynect-listing__facts">\n')
    if card.phone:
        parts.append(
            f'      <li>{_icon(sprite, "phone")} <a href="tel:{_esc(card.phone.tel)}">'
            f"{_esc(card.phone.display)}</a></li>\n"
        )
    if card.website:
        shown = card.website.replace("https://", "").replace("http://", "")
        parts.append(
            f'      <li>{_icon(sprite, "language")} <a href="{_esc(card.website)}" rel="noopener">'
            f"{_esc(shown)}</a></li>\n"
        )
    if card.address:
        parts.append(f"      <li>{_icon(sprite, 'location_on')} {_esc(card.address)}</li>\n")
    if card.today:
        parts.append(f"      <li>{_icon(sprite, 'schedule')} {_esc(card.today.label)}</li>\n")
    parts.append("    </ul>\n")
    connect_label = _esc(labels.connect_with % {"name": card.name})
    share_label = _esc(labels.share_name % {"name": card.name})
    parts.append(
        '    <p class="kynect-listing__actions">\n'
        f'      <a class="usa-button usa-button--small" href="{detail_url}#connect"'
        f' aria-label="{connect_label}">{labels.connect}</a>\n'
        f'      <a class="usa-button usa-button--outline usa-button--small" href="{_esc(card.share_url)}"'
        f' aria-label="{share_label}">{labels.share}</a>\n'
        "    </p>\n  </article>\n</li>"
    )
    return "".join(parts)


@register.simple_tag
def listing_cards(cards: Sequence[ListingCard], level: int = 3) -> SafeString:
    """Every card of `cards`, in order."""
    sprite = escape(static("vendor/uswds/img/sprite.svg"))
    labels = CardLabels.current()
    return mark_safe(  # noqa: S308 - every value is escaped in listing_card_html
        "".join(listing_card_html(card, sprite=sprite, level=level, labels=labels) for card in cards)
    )


@register.simple_tag
def search_field(field: BoundField) -> SafeString:
    """A field in its USWDS form group: label, hint, errors and the widget."""
    errors = field.errors
    error_class = " usa-form-group--error" if errors else ""
    label_class = " usa-label--error" if errors else ""
    hint = ""
    if field.help_text:
        hint = format_html('<div class="usa-hint" id="{}_helptext">{}</div>', field.auto_id, field.help_text)
    messages = format_html_join(
        "", '<span class="usa-error-message">{}</span>', ((error,) for error in errors)
    )
    return format_html(
        '<div class="usa-form-group{}">\n  <label class="usa-label{}" for="{}">{}</label>\n'
        "  {}{}\n  {}\n</div>",
        error_class,
        label_class,
        field.id_for_label,
        field.label,
        hint,
        messages,
        str(field),
    )
