"""The search page's repeated parts, rendered in Python: `{% listing_cards cards %}`,
`{% search_field form.q %}` and `{% search_results %}` (the count, the summary, the cards and the
pagination of a search that found something).

A page shows up to ten cards of some twenty parts each, seven form fields and up to five page links;
through the template engine they cost more than the search that found them. The markup is what the
templates would write (`components/field.html` for a field, `directory/search_results_found.html` for
the results), every value escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import template
from django.forms import BoundField
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from kynect.directory.listings import ListingCard
from kynect.directory.search import SearchPage

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


def _pagination_html(pages: Mapping[str, Any]) -> str:
    """The page links under the cards (`pages` as the view's `_pages` makes them)."""
    current = pages["current"]
    parts = [
        f'<nav aria-label="{_esc(gettext("Pages of results"))}" class="usa-pagination">\n'
        '    <ul class="usa-pagination__list">\n      '
    ]
    if pages["previous_url"]:
        parts.append(
            '<li class="usa-pagination__item usa-pagination__arrow">'
            f'<a href="{_esc(pages["previous_url"])}"'
            ' class="usa-pagination__link usa-pagination__previous-page"'
            f' aria-label="{_esc(gettext("Previous page"))}">'
            f'<span class="usa-pagination__link-text">{_esc(gettext("Previous"))}</span></a></li>'
        )
    parts.append("\n")
    page_label = gettext("Page %(number)s")
    current_attribute = ' aria-current="page"'
    for number, url in pages["numbers"]:
        is_current = number == current
        parts.append(
            '      <li class="usa-pagination__item usa-pagination__page-no">'
            f'<a href="{_esc(url)}" class="usa-pagination__button{" usa-current" if is_current else ""}"'
            f' aria-label="{_esc(page_label % {"number": number})}"'
            f"{current_attribute if is_current else ''}>{number}</a></li>\n"
        )
    parts.append("      ")
    if pages["next_url"]:
        parts.append(
            '<li class="usa-pagination__item usa-pagination__arrow">'
            f'<a href="{_esc(pages["next_url"])}" class="usa-pagination__link usa-pagination__next-page"'
            f' aria-label="{_esc(gettext("Next page"))}">'
            f'<span class="usa-pagination__link-text">{_esc(gettext("Next"))}</span></a></li>'
        )
    parts.append("\n    </ul>\n  </nav>")
    return "".join(parts)


def search_results_html(
    *,
    page: SearchPage,
    summary: str,
    cards: Sequence[ListingCard],
    first_number: int,
    pages: Mapping[str, Any],
    heading_text: str | None = None,
) -> str:
    """A search's results: the count (with the heading of a life situation, if one was chosen), the
    summary of what was searched, and, when something was found, the cards and the page links."""
    if page.total_is_capped:
        count = gettext("More than %(total)s results") % {"total": page.total}
    else:
        count = ngettext("%(total)s result", "%(total)s results", page.total) % {"total": page.total}
    if heading_text is not None:
        count += f": {heading_text}"
    parts = [
        f'<h2 id="results-heading" class="kynect-search__count">\n    {_esc(count)}\n  </h2>\n'
        f'  <p class="kynect-search__summary">{_esc(summary)}</p>\n'
    ]
    if cards:
        parts.append(
            f'  <ol class="usa-list usa-list--unstyled kynect-listings" start="{int(first_number)}">\n    '
        )
        parts.append(listing_cards(cards))
        parts.append("\n  </ol>\n  ")
        if pages["last"] > 1:
            parts.append(_pagination_html(pages))
    return "".join(parts)


@register.simple_tag(takes_context=True)
def search_results(context: template.Context) -> SafeString:
    """`search_results_html` for the search view's context."""
    heading = context.get("heading")
    return mark_safe(  # noqa: S308 - every value is escaped in search_results_html
        search_results_html(
            page=context["page"],
            summary=str(context["summary"]),
            cards=context["cards"],
            first_number=context["first_number"],
            pages=context["pages"],
            heading_text=str(heading.heading) if heading else None,
        )
    )
