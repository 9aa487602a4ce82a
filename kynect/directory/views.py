"""The public directory pages: search and service detail. Thin: reads go through selectors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from kynect.core import clock
from kynect.directory.forms import (
    LANGUAGE_CHOICES,
    MAX_PAGE,
    PER_PAGE,
    RADIUS_CHOICES,
    SearchForm,
    SearchRequest,
)
from kynect.directory.listings import listing_cards, service_detail_get
from kynect.directory.search import SearchPage, search_backend
from kynect.directory.search.index import term_tag
from kynect.directory.taxonomy import categories, category_parent, life_situations

SITUATION_PREVIEW = 3


@dataclass(frozen=True)
class Link:
    text: str
    url: str


def _url_with(params: QueryDict, **changes: Any) -> str:
    """The search URL with some parameters changed (None removes one); the page always restarts."""
    updated = params.copy()
    for key in [*changes, "page"]:
        updated.pop(key, None)
    for key, value in changes.items():
        if value not in (None, ""):
            updated[key] = str(value)
    return "?" + updated.urlencode()


def _pages(params: QueryDict, page: SearchPage, current: int) -> dict[str, Any]:
    last = min(max((page.total + PER_PAGE - 1) // PER_PAGE, 1), MAX_PAGE)

    def url(number: int) -> str:
        updated = params.copy()
        updated["page"] = str(number)
        return "?" + updated.urlencode()

    return {
        "current": current,
        "last": last,
        "previous_url": url(current - 1) if current > 1 else "",
        "next_url": url(current + 1) if current < last else "",
        "numbers": [
            (number, url(number)) for number in range(max(1, current - 2), min(last, current + 2) + 1)
        ],
    }


def _suggestions(params: QueryDict, request: SearchRequest) -> list[Link]:
    """Ways to widen a search that found nothing."""
    links = []
    if request.radius is not None:
        wider = [value for value, _label in RADIUS_CHOICES if value > request.radius]
        if wider:
            links.append(
                Link(
                    _("Search within %(miles)s miles") % {"miles": wider[0]},
                    _url_with(params, radius=wider[0]),
                )
            )
    if request.open_choice:
        links.append(Link(_("Show places whatever their hours"), _url_with(params, open=None)))
    if request.language:
        links.append(Link(_("Show services in any language"), _url_with(params, language=None)))
    if request.category is not None:
        parent = category_parent(request.category.slug)
        if parent is not None:
            links.append(
                Link(
                    _("See everything in %(category)s") % {"category": parent.localized_name()},
                    _url_with(params, category=parent.slug),
                )
            )
        for child in request.category.children[:4]:
            links.append(Link(child.localized_name(), _url_with(params, category=child.slug)))
    if request.words and (request.category is not None or request.situation is not None):
        links.append(Link(_("Search without your keyword"), _url_with(params, q=None)))
    return links


def _situation_groups(params: QueryDict, request: SearchRequest, now: Any) -> list[dict[str, Any]]:
    """A life situation's headings, each with its first few listings and a link to all of them."""
    assert request.situation is not None
    groups = []
    for number, heading in enumerate(request.situation.headings, start=1):
        tags = tuple(term_tag(node.id) for node in heading.category_nodes())
        query = replace(
            request.query, tag_groups=_without_situation(request, tags), offset=0, limit=SITUATION_PREVIEW
        )
        page = search_backend().search(query)
        groups.append(
            {
                "heading": heading.heading,
                "number": number,
                "categories": heading.category_nodes(),
                "cards": listing_cards(hits=page.hits, now=now),
                "total": page.total,
                "url": _url_with(params, heading=number),
                "capped": page.total_is_capped,
            }
        )
    return groups


def _without_situation(request: SearchRequest, heading_tags: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The request's tag groups with the situation's group replaced by one heading's categories."""
    assert request.situation is not None
    situation_tag = term_tag(request.situation.id)
    groups = [group for group in request.query.tag_groups if situation_tag not in group]
    return (*groups, heading_tags)


def _summary(request: SearchRequest) -> str:
    """What was searched, in words: "Matching “food pantry”, in Food pantries, within 25 miles of …"."""
    parts = []
    if request.words:
        parts.append(_("matching “%(words)s”") % {"words": " ".join(request.words)})
    if request.situation is not None:
        parts.append(_("for %(situation)s") % {"situation": request.situation.localized_name()})
    if request.category is not None:
        parts.append(_("in %(category)s") % {"category": request.category.localized_name()})
    if request.place is not None:
        miles = request.radius or 0
        parts.append(
            ngettext("within %(miles)s mile of %(place)s", "within %(miles)s miles of %(place)s", miles)
            % {"miles": miles, "place": request.place.label}
        )
    if request.open_choice == "now":
        parts.append(_("open now"))
    elif request.open_day is not None:
        parts.append(_("open on %(day)s") % {"day": date_format(request.open_day, "l j F")})
    if request.language:
        names = dict(LANGUAGE_CHOICES)
        parts.append(_("serving people in %(language)s") % {"language": names[request.language]})
    if not parts:
        return _("Showing every listing.")
    return _("Showing listings %(parts)s.") % {"parts": ", ".join(parts)}


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    params = request.GET
    form = SearchForm(params if params else None, now=now)
    context: dict[str, Any] = {
        "form": form,
        "categories": categories(),
        "life_situations": life_situations(),
        "searched": False,
        "is_htmx": request.headers.get("HX-Request") == "true",
    }
    status = 200
    if form.is_bound and form.is_valid():
        wanted = form.search_request()
        context.update(searched=True, wanted=wanted)
        heading = params.get("heading", "")
        if wanted.situation is not None and not heading.isdigit():
            context["groups"] = _situation_groups(params, wanted, now)
        else:
            query = wanted.query
            if wanted.situation is not None and heading.isdigit():
                headings = wanted.situation.headings
                index = int(heading) - 1
                if not 0 <= index < len(headings):
                    raise Http404
                tags = tuple(term_tag(node.id) for node in headings[index].category_nodes())
                query = replace(query, tag_groups=_without_situation(wanted, tags))
                context["heading"] = headings[index]
            page = search_backend().search(query)
            context.update(
                page=page,
                cards=listing_cards(hits=page.hits, now=now),
                pages=_pages(params, page, wanted.page),
                suggestions=_suggestions(params, wanted) if page.total == 0 else [],
                first_number=query.offset + 1,
                summary=_summary(wanted),
            )
    elif form.is_bound:
        status = 400
    template = "directory/search.html"
    if context["is_htmx"]:
        template += "#results"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
def service_detail(request: HttpRequest, service_id: uuid.UUID) -> HttpResponse:
    location_id = None
    raw_location = request.GET.get("location", "")
    if raw_location:
        try:
            location_id = uuid.UUID(raw_location)
        except ValueError:
            location_id = None
    detail = service_detail_get(service_id=service_id, location_id=location_id, now=clock.now())
    if detail is None:
        raise Http404
    return render(request, "directory/service_detail.html", {"detail": detail, "card": detail.card})
