from typing import Any

from django.http import HttpRequest

from kynect.directory.taxonomy import categories, header_menu_tree, life_situations


def menus(request: HttpRequest) -> dict[str, Any]:
    """The categories of every page's "Search By Category" menu and the life situations the home
    page's tiles show; names print in the active language."""
    return {
        "header_categories": categories(),
        "header_menu_tree": header_menu_tree(),
        "life_situations": life_situations(),
    }
