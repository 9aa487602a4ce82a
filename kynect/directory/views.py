"""The public directory pages: search and service detail. Thin: reads go through selectors."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from kynect.directory.taxonomy import categories, category_find, life_situation_find


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    category = category_find(request.GET.get("category", ""))
    situation = life_situation_find(request.GET.get("situation", ""))
    return render(
        request,
        "core/search_coming.html",
        {"query": query, "category": category, "situation": situation, "categories": categories()},
    )


@require_safe
def service_detail(request: HttpRequest, service_id: uuid.UUID) -> HttpResponse:
    raise NotImplementedError
