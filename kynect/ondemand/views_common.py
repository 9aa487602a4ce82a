"""What the On Demand view modules share: form errors from a service, and the headers of pages that
show personal data."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

from kynect.core.pages import secret_page

__all__ = ["form_errors_add", "private_page", "secret_page"]


def form_errors_add(form: Form, error: ValidationError) -> None:
    """A service's refusal, shown on the form: by field where it names one of the form's fields."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            for message in field_errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def private_page(response: HttpResponse) -> HttpResponse:
    """A signed-in page with a requester's details: never cached. (It keeps the site's same-origin
    referrer policy, which its CSRF-protected forms need.)"""
    add_never_cache_headers(response)
    return response
