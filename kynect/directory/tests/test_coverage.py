"""What a listing covers, kept as search-index tags for the HSDS API's `postcode` filter."""

from __future__ import annotations

import pytest

from kynect.directory import models
from kynect.directory.coverage import (
    STATEWIDE_TAG,
    WHERE_IT_IS_TAG,
    area_tag,
    coverage_tags,
    covering_tags,
)
from kynect.directory.search.index import search_index_update
from kynect.directory.tests.factories import listed_service
from kynect.directory.touched import listings_touched


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Franklin County", "areafranklin0"),
        ("  franklin county, KY ", "areafranklin0"),
        ("FRANKLIN, Kentucky", "areafranklin0"),
        ("McCracken", "areamccracken0"),
        ("Kentucky", STATEWIDE_TAG),
        ("statewide", STATEWIDE_TAG),
        ("All of  Kentucky", STATEWIDE_TAG),
        ("The river counties", None),
        ("Franklin County, Ohio", None),
        ("", None),
    ],
)
def test_a_service_area_names_a_county_the_state_or_no_place(name: str, expected: str | None) -> None:
    assert area_tag(name) == expected


def test_a_service_that_names_places_covers_them_and_not_where_it_is() -> None:
    tags = coverage_tags(area_names=["Jefferson County", "the river counties"], postcodes=["40601"])

    assert tags == ["areajefferson0"]


def test_a_service_that_names_no_place_covers_where_it_is() -> None:
    tags = coverage_tags(area_names=["the river counties"], postcodes=["40601-1234", "40601", " "])

    assert tags == [WHERE_IT_IS_TAG, "zip406010"]


def test_a_kentucky_postcode_is_covered_by_its_county_the_state_or_being_there() -> None:
    assert covering_tags("40601", in_circle=False) == ("zip406010", STATEWIDE_TAG, "areafranklin0")
    assert covering_tags("40202-1234", in_circle=True) == (WHERE_IT_IS_TAG, STATEWIDE_TAG, "areajefferson0")


def test_a_postcode_outside_kentucky_or_unknown_is_covered_only_by_being_there() -> None:
    assert covering_tags("10001", in_circle=False) == ("zip100010",)
    assert covering_tags("00000", in_circle=True) == (WHERE_IT_IS_TAG,)


@pytest.mark.django_db
def test_the_index_keeps_what_each_listing_covers() -> None:
    here = listed_service(name="Pantry", postal_code="40601")
    named = listed_service(name="Hotline", postal_code="40202")
    models.ServiceArea.objects.create(service=named.service, name="Kentucky")
    search_index_update()

    tags = dict(models.SearchEntry.objects.values_list("name", "tags"))

    assert {WHERE_IT_IS_TAG, "zip406010"} <= set(tags[here.service.name].split())
    assert STATEWIDE_TAG in tags[named.service.name].split()
    assert WHERE_IT_IS_TAG not in tags[named.service.name].split()


@pytest.mark.django_db
def test_a_service_area_edited_alone_reaches_the_index(django_capture_on_commit_callbacks) -> None:
    sal = listed_service(name="Pantry", postal_code="40601")
    search_index_update()
    with django_capture_on_commit_callbacks(execute=True):
        area = models.ServiceArea.objects.create(service=sal.service, name="Jefferson County")

    assert listings_touched(changed={"service_area": [area.pk]}).services == {sal.service_id}
    entry = models.SearchEntry.objects.get(service=sal.service)
    assert "areajefferson0" in entry.tags.split()
    assert WHERE_IT_IS_TAG not in entry.tags.split()
