"""The KY Partner badge comes from onboarding only (DESIGN §4): a state administrator's approval shows it
on the search index at once, a decline never does, and a feed's own mark shows nothing."""

from __future__ import annotations

import pytest

from kynect.accounts.models import Organization as PlatformOrganization
from kynect.accounts.models import Role
from kynect.accounts.services import organization_apply, organization_approve, organization_decline
from kynect.accounts.tests.factories import MembershipFactory
from kynect.directory import models
from kynect.directory.search import search_index_update
from kynect.directory.tests.factories import listed_service

pytestmark = pytest.mark.django_db


def applied_for(listing: models.Organization, email: str) -> PlatformOrganization:
    return organization_apply(
        name=listing.name,
        organization_type="not_for_profit",
        tax_status="501c3",
        address_1="1 Main Street",
        address_2="",
        city="Frankfort",
        postal_code="40601",
        hsds_organization_id=listing.pk,
        first_name="Ana",
        last_name="Applicant",
        email=email,
        password="a-long-and-unusual-passphrase",
        agreement_accepted=True,
        language="en",
    )


def badge(sal: models.ServiceAtLocation) -> bool:
    return models.SearchEntry.objects.get(service=sal.service).is_partner


def test_approval_shows_the_badge_and_decline_does_not(django_capture_on_commit_callbacks) -> None:
    approved_listing = listed_service(name="Pantry")
    declined_listing = listed_service(name="Clinic")
    search_index_update()
    admin = MembershipFactory.create(role=Role.STATE_ADMIN).user
    with django_capture_on_commit_callbacks(execute=True):
        approved = applied_for(approved_listing.service.organization, "a@example.org")
        declined = applied_for(declined_listing.service.organization, "b@example.org")
    assert not badge(approved_listing)
    assert not badge(declined_listing)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        organization_approve(actor=admin, organization=approved)
    assert callbacks  # the index is brought in step after the approval commits
    with django_capture_on_commit_callbacks(execute=True):
        organization_decline(actor=admin, organization=declined, reason="Not a Kentucky service")

    assert badge(approved_listing)
    assert not badge(declined_listing)


def test_a_feed_attribute_makes_no_partner() -> None:
    sal = listed_service(name="Pantry")
    models.Attribute.objects.create(
        link_id=sal.service.organization_id, link_entity="organization", link_type="kynect_partner", value="x"
    )
    search_index_update()
    assert not badge(sal)
