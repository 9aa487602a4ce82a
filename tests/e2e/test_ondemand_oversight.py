"""On Demand oversight in a real browser at 320 px, in English and Spanish: an agency admin reassigns an
escalated request (bad input first), and a state administrator reads the dashboard's charts and tables."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kynect.accounts.models import Role
from kynect.accounts.services import training_attest
from kynect.accounts.tests.factories import MembershipFactory
from kynect.core import clock
from kynect.ondemand.models import HelpRequest
from kynect.ondemand.tests.factories import ready_helper
from kynect.ondemand.tests.test_oversight import request_row
from tests.e2e.conftest import CheckedPage
from tests.e2e.test_ondemand_registration import heading, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {
        "oversight": "On Demand oversight",
        "reassign": "Reassign a request",
        "dashboard": "State On Demand dashboard",
        "week": "Last 7 days",
        "required": "Choose the helper who should call the resident.",
        "escalated": "Escalated",
    },
    "es": {
        "oversight": "Supervisión de On Demand",
        "reassign": "Reasignar una solicitud",
        "dashboard": "Panel estatal de On Demand",
        "week": "Últimos 7 días",
        "required": "Elija el ayudante que debe llamar al residente.",
        "escalated": "Escalada",
    },
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_agency_admin_reassigns_an_escalated_request_at_320px(site: CheckedPage, lang: str) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    site.page.set_viewport_size({"width": 320, "height": 800})
    admin = MembershipFactory.create(role=Role.AGENCY_ADMIN)
    holder = ready_helper(organization=admin.organization)
    colleague = ready_helper(organization=admin.organization)
    now = clock.now()
    escalated = request_row(
        submitted=now - timedelta(minutes=40),
        status=HelpRequest.Status.IN_PROGRESS,
        helper=holder,
        escalated=now - timedelta(minutes=10),
    )
    request_row(
        submitted=now - timedelta(minutes=5),
        status=HelpRequest.Status.IN_PROGRESS,
        helper=holder,
        zip_code="40602",
    )

    sign_in(site, admin.user.email, prefix)
    site.visit(f"{prefix}/ondemand/oversight/")
    heading(site, words["oversight"])
    site.page.locator(".usa-tag").filter(has_text=words["escalated"]).first.wait_for()

    # The first Reassign link is the escalated request's, at the top.
    site.page.locator(f'a[href="{prefix}/ondemand/oversight/requests/{escalated.pk}/reassign/"]').click()
    heading(site, words["reassign"])
    site.expected_console_errors.append("status of 400")
    site.page.locator("form.usa-form button[type=submit]").click()
    site.page.locator(".usa-error-message").filter(has_text=words["required"]).wait_for()
    heading(site, words["reassign"])
    site.page.locator("select[name=helper]").select_option(str(colleague.pk))
    site.page.locator("form.usa-form button[type=submit]").click()
    site.page.locator(".usa-alert--success").wait_for()
    heading(site, words["oversight"])
    escalated.refresh_from_db()
    assert escalated.accepted_helper == colleague


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_state_administrator_reads_the_dashboard_at_320px(site: CheckedPage, lang: str) -> None:
    prefix = "" if lang == "en" else "/es"
    words = WORDS[lang]
    site.page.set_viewport_size({"width": 320, "height": 800})
    state = MembershipFactory.create(role=Role.STATE_ADMIN, organization=None)
    training_attest(user=state.user)  # signing in goes straight to the home page
    helper = ready_helper(languages=("en", "es"))
    now = clock.now()
    request_row(
        submitted=now - timedelta(hours=1),
        status=HelpRequest.Status.IN_PROGRESS,
        helper=helper,
        contact=now - timedelta(minutes=45),
    )

    sign_in(site, state.user.email, prefix)
    site.visit(f"{prefix}/ondemand/oversight/")
    heading(site, words["oversight"])
    site.page.locator(f'a[href="{prefix}/ondemand/oversight/dashboard/"]').click()
    heading(site, words["dashboard"])
    assert site.page.locator('svg[role="img"]').count() == 8
    assert site.page.locator("table caption").count() == 9
    site.page.get_by_role("link", name=words["week"]).click()
    heading(site, words["dashboard"])
    site.page.locator("details summary").click()
    site.page.locator("details table").wait_for()
    site.check()
    assert site.fits_width()
