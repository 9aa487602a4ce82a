from datetime import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from kynect.accounts.demo import demo_partner_chosen
from kynect.accounts.models import Organization as PlatformOrganization
from kynect.directory.models import Organization, SearchEntry, Service
from kynect.directory.search import SearchQuery, search_backend
from kynect.directory.tests.factories import listed_service


@pytest.mark.django_db
def test_refused_outside_the_demo_environment() -> None:
    with pytest.raises(CommandError, match="DJANGO_ENV=demo"):
        call_command("load_demo_directory", services=5)
    assert not Service.objects.exists()


@pytest.mark.django_db
def test_loads_once_then_leaves_the_directory_alone(tmp_path: Path) -> None:
    with override_settings(DJANGO_ENV="demo", BASE_DIR=tmp_path):
        call_command("load_demo_directory", services=30, seed=4)
        assert Service.objects.count() == 30
        assert (tmp_path / "var" / "demo-directory" / "datapackage.json").exists()
        call_command("load_demo_directory", services=50, seed=5)
    assert Service.objects.count() == 30


@pytest.mark.django_db
def test_the_demo_onboards_the_organizations_whose_listings_show_the_badge(tmp_path: Path) -> None:
    with override_settings(DJANGO_ENV="demo", BASE_DIR=tmp_path):
        call_command("load_demo_directory", services=200, seed=4, stdout=StringIO())
    chosen = {
        pk for pk in Organization.objects.values_list("id", flat=True) if demo_partner_chosen(listing_id=pk)
    }
    onboarded = set(
        PlatformOrganization.objects.filter(status="approved", hsds_organization__isnull=False).values_list(
            "hsds_organization_id", flat=True
        )
    )
    assert onboarded == chosen
    badges = set(SearchEntry.objects.filter(is_partner=True).values_list("organization_id", flat=True))
    assert badges == onboarded & set(SearchEntry.objects.values_list("organization_id", flat=True))
    assert badges


@pytest.mark.django_db
def test_a_directory_loaded_before_onboarding_existed_gets_its_partners(tmp_path: Path) -> None:
    with override_settings(DJANGO_ENV="demo", BASE_DIR=tmp_path):
        call_command("load_demo_directory", services=200, seed=4, stdout=StringIO())
        partners = set(SearchEntry.objects.filter(is_partner=True).values_list("organization_id", flat=True))
        PlatformOrganization.objects.filter(hsds_organization__isnull=False).delete()
        SearchEntry.objects.update(is_partner=False)

        call_command("load_demo_directory", services=200, seed=4, stdout=StringIO())

    assert (
        set(SearchEntry.objects.filter(is_partner=True).values_list("organization_id", flat=True)) == partners
    )


@pytest.mark.django_db
def test_a_directory_loaded_before_the_search_index_existed_gets_one(tmp_path: Path) -> None:
    with override_settings(DJANGO_ENV="demo", BASE_DIR=tmp_path):
        call_command("load_demo_directory", services=30, seed=4)
        listed = SearchEntry.objects.count()
        assert listed >= 30
        SearchEntry.objects.all().delete()

        out = StringIO()
        call_command("load_demo_directory", services=30, seed=4, stdout=out)

    assert SearchEntry.objects.count() == listed
    assert f"{listed:,} search entries written" in out.getvalue()


@pytest.mark.django_db
def test_rebuild_search_index_is_idempotent() -> None:
    listed_service(name="Food pantries", hours=[("MO", time(8), time(12))])
    call_command("rebuild_search_index", hours=True, stdout=StringIO())
    first = list(SearchEntry.objects.values_list("service_id", "location_id", "name"))
    call_command("rebuild_search_index", stdout=StringIO())

    assert list(SearchEntry.objects.values_list("service_id", "location_id", "name")) == first
    assert search_backend().search(SearchQuery(words=("pantry",))).total == 1
