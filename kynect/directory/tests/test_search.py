"""The search backends: one suite, run on whichever database the tests use (CI runs both)."""

from __future__ import annotations

import importlib
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from kynect.core.geo import point_cells, zip_lookup
from kynect.directory import models
from kynect.directory.hours import opening_windows_rebuild
from kynect.directory.search import (
    COUNT_CAP,
    Origin,
    SearchQuery,
    SortOrder,
    keyword_words,
    search_backend,
    search_index_update,
)
from kynect.directory.search.index import language_tag, term_tag
from kynect.directory.taxonomy import taxonomy_id
from kynect.directory.tests.factories import listed_service

EASTERN = ZoneInfo("America/New_York")
CENTRAL = ZoneInfo("America/Chicago")
FRANKFORT = zip_lookup("40601")
WEEKDAYS = "MO,TU,WE,TH,FR"

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["semi-joins", "correlated"])
def hours_style(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run an opening-hours test with both ways of checking hours, whichever the database's default."""
    monkeypatch.setattr(type(search_backend()), "hours_correlated", request.param)
    return bool(request.param)


def count_cap(monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    """Lower the count cap in every backend module that reads it."""
    for module in ("base", "sqlite", "postgresql"):
        monkeypatch.setattr(f"kynect.directory.search.{module}.COUNT_CAP", cap)


def names(query: SearchQuery) -> list[str]:
    page = search_backend().search(query)
    entries = models.SearchEntry.every.in_bulk([hit.entry_id for hit in page.hits])
    return [entries[hit.entry_id].name for hit in page.hits]


def near_frankfort(miles: float | None = 25, **fields: object) -> SearchQuery:
    return SearchQuery(
        origin=Origin(FRANKFORT.latitude, FRANKFORT.longitude),
        radius_miles=miles,
        **fields,  # type: ignore[arg-type]
    )


def test_the_backend_matches_the_database() -> None:
    assert search_backend().vendor == connection.vendor


def test_keywords_are_stemmed_and_ranked_by_where_they_appear() -> None:
    listed_service(name="Food pantries", description="Free groceries every week.")
    listed_service(name="Tax preparation", description="Volunteers help; ask about our food pantry too.")
    listed_service(name="Job training", description="Learn a trade.")
    search_index_update()

    found = names(SearchQuery(words=keyword_words("food pantry")))

    assert found == ["Food pantries", "Tax preparation"]


def test_every_word_must_match_and_stop_words_are_ignored() -> None:
    listed_service(name="Food pantries")
    listed_service(name="Food stamps help", description="SNAP applications.")
    search_index_update()

    assert names(SearchQuery(words=keyword_words("the food pantry near me"))) == ["Food pantries"]
    assert keyword_words("the food pantry near me") == ("food", "pantry")


def test_spanish_category_names_are_searchable() -> None:
    listed_service(name="Food pantries", category_slugs=["food-pantries"])
    listed_service(name="Emergency shelter", category_slugs=["emergency-shelter"])
    search_index_update()

    assert names(SearchQuery(words=keyword_words("despensas de alimentos"))) == ["Food pantries"]
    assert names(SearchQuery(words=keyword_words("refugio"))) == ["Emergency shelter"]


def test_organization_names_match() -> None:
    sal = listed_service(name="Home visits")
    sal.service.organization.name = "Lexington-Fayette County Health Department"
    sal.service.organization.save()
    listed_service(name="Other")
    search_index_update()

    assert names(SearchQuery(words=keyword_words("health department"))) == ["Home visits"]


def test_a_category_matches_at_any_level_of_the_tree() -> None:
    listed_service(name="Pantry", category_slugs=["food-pantries"])
    listed_service(name="Soup kitchen", category_slugs=["soup-kitchens"])
    listed_service(name="Shelter", category_slugs=["emergency-shelter"])
    search_index_update()

    def in_category(slug: str) -> list[str]:
        return sorted(names(SearchQuery(tag_groups=((term_tag(taxonomy_id(slug)),),))))

    assert in_category("food") == ["Pantry", "Soup kitchen"]
    assert in_category("meals") == ["Soup kitchen"]
    assert in_category("soup-kitchens") == ["Soup kitchen"]
    assert in_category("housing") == ["Shelter"]


def test_tag_groups_and_across_or_within() -> None:
    listed_service(name="Pantry", category_slugs=["food-pantries"], language_codes=["en", "es"])
    listed_service(name="Soup kitchen", category_slugs=["soup-kitchens"], language_codes=["en"])
    listed_service(name="Shelter", category_slugs=["emergency-shelter"], language_codes=["es"])
    search_index_update()
    food, housing = term_tag(taxonomy_id("food")), term_tag(taxonomy_id("housing"))

    either = SearchQuery(tag_groups=((food, housing),))
    spanish_either = SearchQuery(tag_groups=((food, housing), (language_tag("es"),)))

    assert sorted(names(either)) == ["Pantry", "Shelter", "Soup kitchen"]
    assert sorted(names(spanish_either)) == ["Pantry", "Shelter"]


def test_distance_filters_by_radius_and_sorts_nearest_first() -> None:
    lexington = zip_lookup("40508")
    louisville = zip_lookup("40202")
    listed_service(name="Louisville", latitude=louisville.latitude, longitude=louisville.longitude)
    listed_service(name="Frankfort", latitude=FRANKFORT.latitude + 0.01, longitude=FRANKFORT.longitude)
    listed_service(name="Lexington", latitude=lexington.latitude, longitude=lexington.longitude)
    search_index_update()

    page = search_backend().search(near_frankfort(30, sort=SortOrder.DISTANCE))
    entries = models.SearchEntry.objects.in_bulk([hit.entry_id for hit in page.hits])

    assert [entries[hit.entry_id].name for hit in page.hits] == ["Frankfort", "Lexington"]
    assert page.total == 2
    assert page.hits[0].distance_miles == pytest.approx(0.69, abs=0.05)
    assert page.hits[1].distance_miles == pytest.approx(22.5, abs=2)
    assert names(near_frankfort(60, sort=SortOrder.DISTANCE)) == ["Frankfort", "Lexington", "Louisville"]


def test_a_point_just_outside_the_radius_is_left_out_though_inside_the_box() -> None:
    # A point at the corner of the bounding box is farther than the radius.
    listed_service(name="Corner", latitude=FRANKFORT.latitude + 0.13, longitude=FRANKFORT.longitude + 0.17)
    search_index_update()

    assert names(near_frankfort(10)) == []
    assert names(near_frankfort(15)) == ["Corner"]


def test_listings_without_coordinates_are_left_out_of_distance_searches() -> None:
    sal = listed_service(name="Phone line")
    models.Location.objects.filter(pk=sal.location_id).update(latitude=None, longitude=None)
    search_index_update()

    assert names(SearchQuery(words=("phone",))) == ["Phone line"]
    assert names(near_frankfort(None, words=("phone",))) == []


def test_one_entry_per_location_and_inactive_services_are_not_listed() -> None:
    sal = listed_service(name="Pantry")
    second = listed_service(name="Other", latitude=37.0, longitude=-85.0)
    models.ServiceAtLocation.objects.create(service=sal.service, location=second.location)
    closed = listed_service(name="Closed for good", status=models.Service.Status.INACTIVE)
    listed_service(name="Gone", status=models.Service.Status.DEFUNCT)

    # The inactive service is indexed for the HSDS API, unlisted; the defunct one is not indexed.
    assert search_index_update() == 4
    assert models.SearchEntry.objects.filter(service=sal.service).count() == 2
    assert models.SearchEntry.objects.count() == 3
    assert not models.SearchEntry.every.get(service=closed.service).listed
    assert names(SearchQuery(words=("closed",))) == []
    assert names(SearchQuery(words=("gone",), unlisted=True)) == []
    assert names(SearchQuery(words=("closed",), unlisted=True)) == ["Closed for good"]


def test_modified_after_keeps_services_changed_since() -> None:
    for name, year in (("Old pantry", 2024), ("New pantry", 2026)):
        sal = listed_service(name=name)
        models.Service.objects.filter(pk=sal.service_id).update(
            last_modified=datetime(year, 1, 1, tzinfo=EASTERN)
        )
    search_index_update()
    since = datetime(2025, 1, 1, tzinfo=EASTERN)

    assert names(SearchQuery(words=("pantry",), modified_after=since)) == ["New pantry"]
    assert names(near_frankfort(25, modified_after=since)) == ["New pantry"]


def test_updating_some_services_replaces_only_their_entries() -> None:
    first = listed_service(name="Pantry")
    listed_service(name="Shelter")
    search_index_update()
    first.service.name = "Food bank"
    first.service.save()

    search_index_update(service_ids=[first.service_id])

    assert names(SearchQuery(words=("food",))) == ["Food bank"]
    assert names(SearchQuery(words=("pantry",))) == []
    assert names(SearchQuery(words=("shelter",))) == ["Shelter"]
    assert models.SearchEntry.objects.count() == 2


@pytest.mark.usefixtures("hours_style")
def test_open_now_uses_each_location_time_zone() -> None:
    listed_service(name="Eastern", hours=[(WEEKDAYS, time(8), time(16, 30))])
    listed_service(name="Central", time_zone="America/Chicago", hours=[(WEEKDAYS, time(8), time(16, 30))])
    listed_service(name="No hours")
    search_index_update()

    def open_at(moment: datetime) -> list[str]:
        return sorted(names(SearchQuery(open_at=moment)))

    # Monday 2026-11-23: 8:15 in the east is 7:15 in the central zone.
    assert open_at(datetime(2026, 11, 23, 8, 15, tzinfo=EASTERN)) == ["Eastern"]
    assert open_at(datetime(2026, 11, 23, 9, 15, tzinfo=EASTERN)) == ["Central", "Eastern"]
    assert open_at(datetime(2026, 11, 23, 16, 45, tzinfo=EASTERN)) == ["Central"]
    assert open_at(datetime(2026, 11, 28, 12, 0, tzinfo=EASTERN)) == []


@pytest.mark.usefixtures("hours_style")
def test_open_now_honours_past_midnight_closing_and_closed_days() -> None:
    late = listed_service(name="Late", hours=[("FR", time(18), time(2))])
    listed_service(name="Always", hours=[("MO,TU,WE,TH,FR,SA,SU", time(0), time(0))])
    models.ClosedDay.objects.create(
        location=late.location,
        date=date(2026, 11, 27),
        source_schedule=models.Schedule.objects.get(location=late.location),
    )
    search_index_update()

    def open_at(moment: datetime) -> list[str]:
        return sorted(names(SearchQuery(open_at=moment)))

    # Friday 4 December, 1 AM Saturday: the Friday window is still open.
    assert open_at(datetime(2026, 12, 4, 19, 0, tzinfo=EASTERN)) == ["Always", "Late"]
    assert open_at(datetime(2026, 12, 5, 1, 0, tzinfo=EASTERN)) == ["Always", "Late"]
    assert open_at(datetime(2026, 12, 5, 2, 30, tzinfo=EASTERN)) == ["Always"]
    # Friday 27 November is a closed day, so neither that evening nor the small hours after it count.
    assert open_at(datetime(2026, 11, 27, 19, 0, tzinfo=EASTERN)) == ["Always"]
    assert open_at(datetime(2026, 11, 28, 1, 0, tzinfo=EASTERN)) == ["Always"]


@pytest.mark.usefixtures("hours_style")
def test_a_service_with_its_own_hours_ignores_the_location_hours() -> None:
    shared = listed_service(name="Office", hours=[(WEEKDAYS, time(8), time(17))])
    evening = listed_service(name="Evening clinic", location=shared.location)
    models.Schedule.objects.create(
        service=evening.service, freq="WEEKLY", byday="TU", opens_at=time(18), closes_at=time(21)
    )
    from kynect.directory.hours import opening_windows_rebuild

    opening_windows_rebuild(location_ids=[shared.location_id])
    search_index_update()

    tuesday_noon = datetime(2026, 11, 24, 12, 0, tzinfo=EASTERN)
    tuesday_evening = datetime(2026, 11, 24, 19, 0, tzinfo=EASTERN)
    assert names(SearchQuery(open_at=tuesday_noon)) == ["Office"]
    assert names(SearchQuery(open_at=tuesday_evening)) == ["Evening clinic"]


@pytest.mark.usefixtures("hours_style")
def test_closed_days_of_one_service_close_only_its_own_hours() -> None:
    shared = listed_service(name="Office", hours=[(WEEKDAYS, time(8), time(17))])
    clinic = listed_service(name="Clinic", location=shared.location)
    other = listed_service(name="Pantry", location=shared.location)
    for listing in (clinic, other):
        models.Schedule.objects.create(
            service=listing.service, freq="WEEKLY", byday=WEEKDAYS, opens_at=time(9), closes_at=time(12)
        )
    from kynect.directory.hours import opening_windows_rebuild

    opening_windows_rebuild(location_ids=[shared.location_id])
    schedule = models.Schedule.objects.filter(location=shared.location).earliest("id")
    # Tuesday 24 November: the clinic alone is closed; Wednesday 25: the whole location is.
    models.ClosedDay.objects.create(
        location=shared.location, service=clinic.service, date=date(2026, 11, 24), source_schedule=schedule
    )
    models.ClosedDay.objects.create(
        location=shared.location, date=date(2026, 11, 25), source_schedule=schedule
    )
    search_index_update()

    def open_at(moment: datetime) -> list[str]:
        return sorted(names(SearchQuery(open_at=moment)))

    assert open_at(datetime(2026, 11, 23, 10, 0, tzinfo=EASTERN)) == ["Clinic", "Office", "Pantry"]
    assert open_at(datetime(2026, 11, 24, 10, 0, tzinfo=EASTERN)) == ["Office", "Pantry"]
    assert open_at(datetime(2026, 11, 25, 10, 0, tzinfo=EASTERN)) == []
    assert names(SearchQuery(open_on=date(2026, 11, 23), words=("clinic",))) == ["Clinic"]
    assert names(SearchQuery(open_on=date(2026, 11, 24), words=("clinic",))) == []


@pytest.mark.usefixtures("hours_style")
def test_open_on_a_day() -> None:
    listed_service(name="Weekdays", hours=[(WEEKDAYS, time(8), time(16))])
    listed_service(name="Saturdays", hours=[("SA", time(9), time(12))])
    search_index_update()

    assert names(SearchQuery(open_on=date(2026, 11, 28))) == ["Saturdays"]
    assert names(SearchQuery(open_on=date(2026, 11, 25))) == ["Weekdays"]


def test_relevance_or_distance_order_with_paging_and_a_count() -> None:
    for number in range(7):
        listed_service(
            name=f"Pantry {number}",
            description="food " * (number + 1),
            latitude=FRANKFORT.latitude + 0.01 * (7 - number),
            longitude=FRANKFORT.longitude,
        )
    search_index_update()
    query = near_frankfort(50, words=("food",), limit=3)

    by_distance = search_backend().search(
        SearchQuery(**{**query.__dict__, "sort": SortOrder.DISTANCE, "offset": 3})
    )
    nearest = models.SearchEntry.objects.in_bulk([hit.entry_id for hit in by_distance.hits])

    assert by_distance.total == 7
    assert not by_distance.total_is_capped
    assert [nearest[hit.entry_id].name for hit in by_distance.hits] == ["Pantry 3", "Pantry 2", "Pantry 1"]
    assert names(query)[0] == "Pantry 6"


def test_the_count_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    count_cap(monkeypatch, 2)
    for number in range(4):
        listed_service(name=f"Pantry {number}")
    search_index_update()

    page = search_backend().search(SearchQuery(words=("pantry",)))

    assert (page.total, page.total_is_capped, len(page.hits)) == (2, True, 2)
    assert COUNT_CAP == 500


def test_edits_one_record_at_a_time_update_the_index_after_commit(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sal = listed_service(name="Pantry", category_slugs=["food-pantries"])
    assert names(SearchQuery(words=("pantry",))) == ["Pantry"]

    with django_capture_on_commit_callbacks(execute=True):
        sal.service.name = "Food bank"
        sal.service.save()
    assert names(SearchQuery(words=("pantry",))) == ["Food bank"]  # still in its category's names
    assert names(SearchQuery(words=("bank",))) == ["Food bank"]

    with django_capture_on_commit_callbacks(execute=True):
        models.Schedule.objects.create(
            location=sal.location, freq="WEEKLY", byday="SA", opens_at=time(9), closes_at=time(12)
        )
    assert names(SearchQuery(open_on=date(2026, 11, 28))) == ["Food bank"]

    with django_capture_on_commit_callbacks(execute=True):
        sal.service.status = models.Service.Status.INACTIVE
        sal.service.save()
    assert names(SearchQuery(words=("bank",))) == []


def test_onboarding_and_phone_edits_reach_the_result_cards(django_capture_on_commit_callbacks) -> None:
    from kynect.accounts.tests.factories import OrganizationFactory
    from kynect.core import clock

    with django_capture_on_commit_callbacks(execute=True):
        sal = listed_service(name="Pantry")
    entry = models.SearchEntry.objects.get(service=sal.service)
    assert (entry.is_partner, entry.phone, entry.address) == (
        False,
        "(502) 555-0100",
        "100 Main St, Frankfort, KY 40601",
    )

    with django_capture_on_commit_callbacks(execute=True):
        OrganizationFactory.create(hsds_organization=sal.service.organization, onboarded_at=clock.now())
        models.Phone.objects.create(service=sal.service, number="(502) 555-0199", type="voice")

    entry = models.SearchEntry.objects.get(service=sal.service)
    assert (entry.is_partner, entry.phone) == (True, "(502) 555-0199")


@pytest.mark.parametrize("slack", [1, 10])
def test_nearest_first_orders_entries_at_the_same_place_by_name(
    monkeypatch: pytest.MonkeyPatch, slack: int
) -> None:
    # PostgreSQL fetches the nearest COUNT_CAP + 1 + slack entries from its index and orders them by
    # name itself; with ties across the cut (slack 1), it runs the exact query. Both give this order.
    count_cap(monkeypatch, 3)
    monkeypatch.setattr("kynect.directory.search.postgresql.KNN_SLACK", slack)
    first = listed_service(name="E pantry", latitude=FRANKFORT.latitude + 0.01, longitude=FRANKFORT.longitude)
    for name in ("D pantry", "B pantry", "C pantry", "A pantry"):
        listed_service(name=name, location=first.location)
    listed_service(name="Farther", latitude=FRANKFORT.latitude + 0.2, longitude=FRANKFORT.longitude)
    listed_service(name="Nearest", latitude=FRANKFORT.latitude, longitude=FRANKFORT.longitude)
    search_index_update()

    page = search_backend().search(near_frankfort(25, limit=10))

    assert page.total == 3
    assert page.total_is_capped
    entries = models.SearchEntry.objects.in_bulk([hit.entry_id for hit in page.hits])
    assert [entries[hit.entry_id].name for hit in page.hits] == ["Nearest", "A pantry", "B pantry"]
    assert page.hits[0].distance_miles == pytest.approx(0.0, abs=0.01)
    assert page.hits[1].distance_miles == pytest.approx(0.69, abs=0.02)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings")
def test_the_planner_settings_of_a_nearest_first_search_do_not_outlive_it() -> None:
    listed_service(name="Pantry", hours=[(WEEKDAYS, time(8), time(16))])
    search_index_update()

    with connection.cursor() as cursor:
        page = search_backend().search(near_frankfort(25, open_at=datetime(2026, 11, 23, 9, tzinfo=EASTERN)))
        cursor.execute("SELECT current_setting('enable_bitmapscan'), current_setting('enable_sort')")
        assert cursor.fetchone() == ("on", "on")
    assert page.total == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL planner settings")
@pytest.mark.django_db(transaction=True)
def test_the_planner_settings_end_with_a_search_that_is_its_own_transaction() -> None:
    listed_service(name="Pantry", hours=[(WEEKDAYS, time(8), time(16))])
    search_index_update()
    assert connection.get_autocommit()

    page = search_backend().search(near_frankfort(25))

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_bitmapscan'), current_setting('enable_sort')")
        assert cursor.fetchone() == ("on", "on")
    assert page.total == 1


def test_best_match_puts_names_before_descriptions_and_ranks_within() -> None:
    listed_service(name="Community kitchen", description="food " * 30)
    listed_service(name="Food pantry", description="Groceries.")
    listed_service(name="Food", description="Groceries.")
    listed_service(name="Clothing closet", description="Coats and food.")
    listed_service(name="Bus passes", description="Rides.")
    # Listings without the word, as in any real directory: with the word in nearly every listing, its
    # weight in bm25 falls to a floor and a token more or less in a listing decides the order.
    for number in range(6):
        listed_service(name=f"Legal aid {number}", description="Advice.")
    search_index_update()

    found = names(SearchQuery(words=keyword_words("food")))

    assert set(found[:2]) == {"Food pantry", "Food"}
    assert set(found[2:]) == {"Community kitchen", "Clothing closet"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL ranks a bounded set of candidates")
def test_a_tier_larger_than_the_candidates_is_ranked_on_a_bounded_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("kynect.directory.search.postgresql.RANK_CANDIDATES", 3)
    count_cap(monkeypatch, 2)
    for number in range(5):
        listed_service(name=f"Food pantry {number}")
    listed_service(name="Kitchen", description="Hot food.")
    search_index_update()

    page = search_backend().search(SearchQuery(words=keyword_words("food")))

    assert page.total == 2
    assert page.total_is_capped
    entries = models.SearchEntry.objects.in_bulk([hit.entry_id for hit in page.hits])
    assert all(entries[hit.entry_id].name.startswith("Food pantry") for hit in page.hits)


@pytest.mark.parametrize("candidates", [100, 2], ids=["few-read-at-once", "many-walked"])
def test_nearest_first_with_words_orders_the_same_whether_few_or_many_match(
    monkeypatch: pytest.MonkeyPatch, candidates: int
) -> None:
    # PostgreSQL reads the matches in the circle at once when few, and walks the place index when
    # many (NEAREST_CANDIDATES); both give the page's order: nearest, then best match, then name.
    monkeypatch.setattr("kynect.directory.search.postgresql.NEAREST_CANDIDATES", candidates)
    listed_service(name="Far food pantry", latitude=FRANKFORT.latitude + 0.2)
    listed_service(name="Near food bank", latitude=FRANKFORT.latitude + 0.01)
    listed_service(name="Kitchen", description="Hot food.", latitude=FRANKFORT.latitude + 0.05)
    listed_service(name="Food closet", latitude=FRANKFORT.latitude + 0.05)
    listed_service(name="Legal aid", latitude=FRANKFORT.latitude)
    listed_service(name="Food beyond", latitude=FRANKFORT.latitude + 2)
    search_index_update()

    found = names(near_frankfort(25, words=keyword_words("food"), sort=SortOrder.DISTANCE))

    assert found == ["Near food bank", "Food closet", "Kitchen", "Far food pantry"]


def test_open_now_nearby_finds_what_is_open_beyond_the_nearest_few() -> None:
    # PostgreSQL walks its (place, open slots) index nearest first and skips what is closed.
    listed_service(name="Closed nearby", hours=[("SA", time(9), time(12))], latitude=FRANKFORT.latitude)
    listed_service(
        name="Open a bit farther", hours=[(WEEKDAYS, time(8), time(17))], latitude=FRANKFORT.latitude + 0.05
    )
    listed_service(
        name="Open farther", hours=[(WEEKDAYS, time(8), time(17))], latitude=FRANKFORT.latitude + 0.1
    )
    search_index_update()

    monday_morning = datetime(2026, 11, 23, 9, tzinfo=EASTERN)
    assert names(near_frankfort(25, open_at=monday_morning)) == ["Open a bit farther", "Open farther"]
    assert names(near_frankfort(25, open_on=date(2026, 11, 28))) == ["Closed nearby"]


def _hours_of_every_kind() -> None:
    listed_service(name="Weekdays", hours=[(WEEKDAYS, time(8), time(16, 30))])
    listed_service(name="Overnight", hours=[("SU", time(22), time(2))])
    listed_service(name="Around the clock", hours=[("MO,TU,WE,TH,FR,SA,SU", time(0), time(0))])
    listed_service(name="Until midnight", hours=[("SA", time(18), time(23, 59, 59))])
    listed_service(name="No hours")
    shared = listed_service(name="Shared hours", hours=[("TU,TH", time(9), time(12))])
    evening = listed_service(name="Own evening", location=shared.location)
    models.Schedule.objects.create(
        service=evening.service, freq="WEEKLY", byday="WE", opens_at=time(18), closes_at=time(21)
    )
    opening_windows_rebuild(location_ids=[shared.location_id])
    search_index_update()


def test_the_index_keeps_the_hours_of_the_week_of_each_entry() -> None:
    _hours_of_every_kind()

    slots = dict(models.SearchEntry.objects.values_list("name", "open_slots"))

    assert slots["Weekdays"] == [day * 24 + hour for day in range(5) for hour in range(8, 17)]
    assert slots["Overnight"] == [0, 1, 166, 167]
    assert slots["Around the clock"] == list(range(168))
    assert slots["Until midnight"] == [5 * 24 + hour for hour in range(18, 24)]
    assert slots["No hours"] == []
    assert slots["Shared hours"] == [24 + 9, 24 + 10, 24 + 11, 72 + 9, 72 + 10, 72 + 11]
    assert slots["Own evening"] == [48 + 18, 48 + 19, 48 + 20]


def test_the_migration_fills_the_hours_of_the_week_as_the_index_does() -> None:
    # Migration 0011 fills existing entries in one statement on PostgreSQL (in Python on SQLite).
    from django.apps import apps

    fill = importlib.import_module("kynect.directory.migrations.0011_searchentry_open_slots")
    _hours_of_every_kind()
    built = dict(models.SearchEntry.objects.values_list("id", "open_slots"))
    models.SearchEntry.objects.update(open_slots=[])

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(fill.POSTGRES_FILL)
    else:
        fill.sqlite_fill(apps, None)

    assert dict(models.SearchEntry.objects.values_list("id", "open_slots")) == built
    assert any(built.values())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_a_nearest_open_search_skips_what_is_closed_inside_the_place_index() -> None:
    _hours_of_every_kind()
    statements: list[str] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if "ORDER BY" in sql and "open_slots" in sql and not sql.startswith("EXPLAIN"):
            # Inside the search's own planner settings (no bitmaps, no sorts).
            with context["connection"].cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                statements.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    monday_morning = datetime(2026, 11, 23, 9, tzinfo=EASTERN)
    with connection.execute_wrapper(capture):
        found = names(near_frankfort(25, open_at=monday_morning))

    assert found == ["Around the clock", "Weekdays"]
    assert len(statements) == 1
    plan = statements[0]
    assert "searchentry_place_open_gist" in plan
    index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "open_slots &&" in index_condition


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's tag vector holds the place cells")
def test_the_tag_vector_holds_the_place_cells_python_computes() -> None:
    # Migration 0012 writes the cells in SQL; the search asks for them by kynect.core.geo's tokens.
    points = [(38.2009, -84.8733), (37.0, -86.0), (38.0625, -85.5), (36.99999, -88.00001), (39.1, -84.5)]
    for number, (latitude, longitude) in enumerate(points):
        listed_service(name=f"Place {number}", latitude=latitude, longitude=longitude)
    search_index_update()

    for number, (latitude, longitude) in enumerate(points):
        entry = models.SearchEntry.objects.get(name=f"Place {number}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT tag_vector::text FROM directory_searchentry WHERE id = %s", [entry.pk])
            lexemes = {part.strip("'") for part in cursor.fetchone()[0].split()}
        assert set(point_cells(latitude, longitude)) <= lexemes, (latitude, longitude)


def test_a_category_near_a_place_keeps_only_what_is_in_the_radius() -> None:
    listed_service(name="Pantry here", category_slugs=["food-pantries"])
    listed_service(name="Pantry 30 miles north", category_slugs=["food-pantries"], latitude=38.2009 + 0.43)
    listed_service(name="Pantry far west", category_slugs=["food-pantries"], latitude=37.0, longitude=-88.5)
    listed_service(name="Shelter here", category_slugs=["emergency-shelter"])
    search_index_update()
    pantries = (term_tag(taxonomy_id("food-pantries")),)

    assert names(near_frankfort(25, words=keyword_words("pantry"), tag_groups=(pantries,))) == ["Pantry here"]
    assert names(near_frankfort(50, words=keyword_words("pantry"), tag_groups=(pantries,))) == [
        "Pantry here",
        "Pantry 30 miles north",
    ]
    assert names(near_frankfort(50, words=keyword_words("pantry"))) == [
        "Pantry here",
        "Pantry 30 miles north",
    ]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own place index")
def test_sqlite_keeps_its_covering_place_index_and_a_search_near_a_place_reads_it() -> None:
    listed_service(name="Pantry")
    search_index_update()

    entries, ordering = search_backend().filtered(SearchQuery(origin=Origin(38.2, -84.87), radius_miles=25))
    plan = entries.order_by(*ordering).values_list("id").explain()

    assert "COVERING INDEX searchentry_place_covering" in plan, plan
