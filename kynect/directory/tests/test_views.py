"""The public search and service detail pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from html.parser import HTMLParser

import pytest
import time_machine
from django.test import Client

from kynect.accounts.tests.factories import OrganizationFactory
from kynect.core import clock
from kynect.directory import models
from kynect.directory.search import search_index_update
from kynect.directory.tests.factories import DirectoryOrganizationFactory, listed_service

pytestmark = pytest.mark.django_db
WEEKDAYS = "MO,TU,WE,TH,FR"
# Monday 23 November 2026, 10:00 in Frankfort.
MONDAY_MORNING = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def text_of(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.fixture
def pantries() -> dict[str, models.ServiceAtLocation]:
    partner = DirectoryOrganizationFactory.create(name="Franklin County Health Department")
    OrganizationFactory.create(
        name="Franklin County Health Department", hsds_organization=partner, onboarded_at=clock.now()
    )
    open_now = listed_service(
        name="Food pantries",
        organization=partner,
        description="Free groceries to take home.",
        category_slugs=["food-pantries"],
        hours=[(WEEKDAYS, time(8), time(16, 30))],
        latitude=38.2009,
        longitude=-84.8733,
        url="https://pantry.example.org",
    )
    closed = listed_service(
        name="Evening food pantry",
        description="Groceries on weekday evenings.",
        category_slugs=["food-pantries"],
        hours=[(WEEKDAYS, time(17), time(19))],
        latitude=38.21,
        longitude=-84.86,
    )
    far = listed_service(
        name="Pikeville food pantry",
        category_slugs=["food-pantries"],
        latitude=37.479,
        longitude=-82.519,
        postal_code="41501",
        city="Pikeville",
    )
    search_index_update()
    return {"open": open_now, "closed": closed, "far": far}


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_food_pantry_open_now_near_40601(client: Client, pantries: dict) -> None:
    response = client.get("/search/", {"q": "food pantry", "near": "40601", "open": "now"})

    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "1 result " in text
    assert (
        "Showing listings matching “food pantry”, within 25 miles of 40601 (Frankfort, KY), open now." in text
    )
    assert re.search(
        r"KY Partner Franklin County Health Department Food pantries 1\.\d Miles "
        r"Free groceries to take home\. "
        r"\(502\) 555-0100 pantry\.example\.org 100 Main St, Frankfort, KY 40601 Today 8:00 AM to 4:30 PM "
        r"Connect Share",
        text,
    ), text
    assert "Evening food pantry" not in text
    assert "Pikeville" not in text


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_results_read_in_spanish(client: Client, pantries: dict) -> None:
    response = client.get("/es/search/", {"q": "despensa", "near": "40601", "sort": "distance"})

    text = text_of(response.content.decode())
    assert "2 resultados" in text
    assert "Socio de KY" in text
    assert "Hoy 8:00 AM a 4:30 PM" in text or "Hoy 8:00 a. m. a 4:30 p. m." in text


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_platform_organization_that_finished_onboarding_is_a_partner(client: Client) -> None:
    sal = listed_service(name="Tax help")
    OrganizationFactory.create(hsds_organization=sal.service.organization, onboarded_at=MONDAY_MORNING)
    listed_service(name="Tax clinic")
    search_index_update()

    text = text_of(client.get("/search/", {"q": "tax"}).content.decode())

    assert text.count("KY Partner") == 1
    assert re.search(r"KY Partner Community Help Center \d+ Tax help", text)


def test_the_result_links_to_detail_and_share_pages_at_its_location(client: Client, pantries: dict) -> None:
    sal = pantries["open"]
    html = client.get("/search/", {"q": "groceries home"}).content.decode()

    assert f'href="/services/{sal.service_id}/?location={sal.location_id}"' in html
    assert f'href="/services/{sal.service_id}/share/?location={sal.location_id}"' in html
    assert f'href="/services/{sal.service_id}/?location={sal.location_id}#connect"' in html


def test_a_category_at_any_level_and_the_count(client: Client, pantries: dict) -> None:
    for category in ("food", "food-pantries"):
        text = text_of(client.get("/search/", {"category": category}).content.decode())
        assert "3 results" in text
    assert "0 results" in text_of(client.get("/search/", {"category": "soup-kitchens"}).content.decode())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"near": "99999"}, "We could not find the ZIP code 99999."),
        ({"near": "Atlantis"}, "We could not find “Atlantis” in Kentucky."),
        ({"near": "٤٠٦٠١"}, "in Kentucky"),
        ({"near": "40601", "radius": "5000"}, "Choose a distance from the list"),
        ({"near": "40601", "radius": "-3"}, "Choose a distance from the list"),
        ({"q": "%%% ???"}, "Search for a word such as “food”, “rent” or “clinic”."),
        ({"q": "x" * 300}, "Ensure this value has at most 200 characters"),
        ({"q": "food", "page": "9999"}, "That page of results does not exist."),
        ({"category": "not-a-category"}, "Select a valid choice."),
        ({"situation": "martian"}, "We do not know that life situation."),
        ({"open": "someday"}, "Select a valid choice."),
        ({"lat": "38.2"}, "We could not use your location."),
        ({"lat": "400", "lon": "-84"}, "We could not use your location."),
    ],
)
def test_bad_input_gets_a_clear_message_and_no_results(client: Client, params: dict, message: str) -> None:
    listed_service(name="Food pantries")
    search_index_update()

    response = client.get("/search/", params)

    assert response.status_code == 400
    text = text_of(response.content.decode())
    assert message in text
    assert 'class="kynect-listing"' not in response.content.decode()
    assert not re.search(r"\d+ results?", text)


def test_the_query_is_shown_escaped(client: Client) -> None:
    html = client.get("/search/", {"q": "<script>alert(1)</script> food"}).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "matching “script alert 1 food”" in html


def test_use_my_location_searches_around_the_coordinates(client: Client, pantries: dict) -> None:
    text = text_of(client.get("/search/", {"lat": "37.48", "lon": "-82.52", "radius": "10"}).content.decode())

    assert "1 result " in text
    assert "within 10 miles of your location" in text
    assert "Pikeville food pantry" in text


def test_a_city_or_county_name_works_like_a_zip_code(client: Client, pantries: dict) -> None:
    for place in ("Frankfort", "frankfort, ky", "Franklin County"):
        text = text_of(client.get("/search/", {"near": place, "radius": "10"}).content.decode())
        assert "2 results" in text, place


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_no_results_say_why_and_suggest_wider_searches(client: Client, pantries: dict) -> None:
    response = client.get(
        "/search/",
        {
            "q": "pantry",
            "category": "soup-kitchens",
            "near": "41501",
            "radius": "1",
            "open": "now",
            "language": "vi",
        },
    )

    text = text_of(response.content.decode())
    assert "0 results" in text
    assert "We found nothing that matches every part of your search" in text
    html = response.content.decode()
    for suggestion in (
        "Search within 5 miles",
        "Show places whatever their hours",
        "Show services in any language",
        "See everything in Meals",
        "Search without your keyword",
        "Call 2-1-1",
    ):
        assert suggestion in text
    assert "radius=5" in html


def test_sort_by_distance_and_paging(client: Client) -> None:
    for number in range(25):
        listed_service(name=f"Pantry {number:02}", latitude=38.2 + number * 0.01, longitude=-84.87)
    search_index_update()

    first = text_of(
        client.get("/search/", {"q": "pantry", "near": "40601", "sort": "distance"}).content.decode()
    )
    second = client.get("/search/", {"q": "pantry", "near": "40601", "sort": "distance", "page": "2"})

    assert "25 results" in first
    assert "Pantry 02" in first
    assert "Pantry 12" not in first
    second_text = text_of(second.content.decode())
    assert "Pantry 12" in second_text
    assert "Pantry 02" not in second_text
    assert "Pantry 24" not in second_text
    assert 'aria-current="page"' in second.content.decode()


def test_a_life_situation_groups_results_under_plain_headings(client: Client) -> None:
    listed_service(name="HANDS home visits", category_slugs=["prenatal-postnatal-home-visitation"])
    listed_service(name="Prenatal checkups", category_slugs=["prenatal-checkups"])
    listed_service(name="Job club", category_slugs=["help-finding-work"])
    search_index_update()

    response = client.get("/search/", {"situation": "pregnant"})
    text = text_of(response.content.decode())

    assert re.search(r"Care during pregnancy .*Prenatal checkups.* See All Resources", text)
    assert re.search(r"Find support after birth .*HANDS home visits.* See All Resources", text)
    assert "Job club" not in text
    html = response.content.decode()
    assert "situation=pregnant&amp;heading=2" in html
    all_after_birth = text_of(
        client.get("/search/", {"situation": "pregnant", "heading": "2"}).content.decode()
    )
    assert "1 result: Find support after birth Showing listings for Pregnant." in all_after_birth
    assert "HANDS home visits" in all_after_birth
    assert client.get("/search/", {"situation": "pregnant", "heading": "9"}).status_code == 404


def test_htmx_gets_only_the_results_and_the_response_varies_on_it(client: Client, pantries: dict) -> None:
    response = client.get("/search/", {"q": "pantry"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="search-status"')
    assert 'hx-swap-oob="true"' in html
    # The form stays on the page: the filter disclosure's summary is brought up to date beside the results.
    assert '<span id="search-filters-label" hx-swap-oob="true">Filters and sort order</span>' in html
    assert 'id="search-results"' in html
    assert "HX-Request" in response["Vary"]


def test_the_search_page_query_count_does_not_grow_with_results(
    client: Client, django_assert_max_num_queries
) -> None:
    for number in range(20):
        listed_service(name=f"Pantry {number}", hours=[(WEEKDAYS, time(8), time(16))])
    search_index_update()

    with django_assert_max_num_queries(12):
        response = client.get("/search/", {"q": "pantry", "near": "40601", "open": "now"})
    assert response.status_code == 200


class Landmarks(HTMLParser):
    """The search and navigation landmarks of a page, as (role, name) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        role = values.get("role") or ("navigation" if tag == "nav" else "")
        if role in ("search", "navigation"):
            self.found.append((role, values.get("aria-label") or ""))


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_each_search_landmark_has_a_name_of_its_own(client: Client, prefix: str) -> None:
    # The header's search (shown on wide screens) and the page's own search form are both landmarks.
    landmarks = Landmarks()
    landmarks.feed(client.get(f"{prefix}/search/", {"q": "pantry"}).content.decode())

    assert [role for role, _name in landmarks.found].count("search") == 2
    assert len(set(landmarks.found)) == len(landmarks.found), landmarks.found


def filters_of(html: str) -> re.Match[str]:
    """The search form's filter disclosure: whether it is open, its summary, and what it holds."""
    form = html[html.index('id="search-form"') : html.index("</form>", html.index('id="search-form"'))]
    found = re.search(
        r'<details class="kynect-search__filters" id="search-filters"( open)?>\s*'
        r'<summary class="usa-accordion__button"><span id="search-filters-label">(.*?)</span></summary>'
        r"(.*?)</details>",
        form,
        re.DOTALL,
    )
    assert found is not None, form
    return found


def test_the_filters_sit_in_a_closed_disclosure_after_the_keyword_and_place(
    client: Client, pantries: dict
) -> None:
    html = client.get("/search/", {"q": "pantry", "near": "40601"}).content.decode()

    filters = filters_of(html)
    assert filters.group(1) is None  # closed: on a phone the count and the results come first
    assert filters.group(2) == "Filters and sort order"
    for name in ("category", "radius", "open", "language", "sort"):
        assert f'name="{name}"' in filters.group(3), name
    ahead = html[html.index('id="search-form"') : html.index('id="search-filters"')]
    for name in ("q", "near"):
        assert f'name="{name}"' in ahead, name
    submit = html.index('type="submit"', html.index('id="search-form"'))
    assert html.index('id="search-filters"') < submit < html.index('id="search-results"')


def test_the_closed_filters_say_how_many_are_applied(client: Client, pantries: dict) -> None:
    english = client.get(
        "/search/",
        {"q": "pantry", "near": "40601", "radius": "50", "open": "now", "sort": "relevance"},
    ).content.decode()
    spanish = client.get("/es/search/", {"category": "food-pantries", "radius": "25"}).content.decode()

    assert filters_of(english).group(1) is None
    assert filters_of(english).group(2) == "Filters and sort order (2 filters applied)"
    assert filters_of(spanish).group(2) == "Filtros y orden (1 filtro aplicado)"


def test_the_filters_open_to_show_an_error_in_one_of_them(client: Client) -> None:
    on_a_filter = client.get("/search/", {"near": "40601", "radius": "7"}).content.decode()
    elsewhere = client.get("/search/", {"near": "99999"}).content.decode()

    assert filters_of(on_a_filter).group(1) == " open"
    assert filters_of(elsewhere).group(1) is None


def test_the_empty_search_page_offers_categories_and_situations(client: Client) -> None:
    text = text_of(client.get("/search/").content.decode())

    assert "Search by Category" in text
    assert "Pregnant" in text


# --- Detail page ------------------------------------------------------------------------------------


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_the_detail_page_has_every_section_of_the_overview(client: Client, pantries: dict) -> None:
    sal = pantries["open"]
    service = sal.service
    service.fees_description = "Free"
    service.eligibility_description = "Resident of Franklin County"
    service.application_process = "Appointment required, please call"
    service.save()
    models.RequiredDocument.objects.create(service=service, document="Picture ID")
    models.ServiceArea.objects.create(
        service=service, name="Franklin County", description="Serves Franklin County"
    )
    location = sal.location
    location.transportation = "On a bus line"
    location.save()
    models.Accessibility.objects.create(location=location, description="Parking", details="Free lot behind")
    listed_service(name="Clothing closet", organization=service.organization, location=location)
    search_index_update()

    response = client.get(f"/services/{service.id}/", {"location": str(sal.location_id)})

    assert response.status_code == 200
    text = text_of(response.content.decode())
    for expected in (
        "KY Partner",
        "Food pantries",
        "Free groceries to take home.",
        "Main: (502) 555-0100",
        "pantry.example.org",
        "100 Main St, Frankfort, KY 40601",
        "Monday (today) 8:00 AM to 4:30 PM",
        "Saturday Closed",
        "Qualifications Fees Free",
        "Must have/meet Resident of Franklin County",
        "Benefiting Serves Franklin County",
        "Location Instructions Next steps Appointment required, please call",
        "What to Bring Picture ID",
        "Transportation Instructions On a bus line",
        "Parking Instructions Free lot behind",
        "Related Services Evening food pantry",
        "Other Services offered at this Location Clothing closet",
    ):
        assert expected in text, expected
    assert "Frequently Paired Together" not in text
    assert 'id="connect"' in response.content.decode()


def test_the_detail_page_is_404_for_unknown_or_inactive_services(client: Client, pantries: dict) -> None:
    inactive = listed_service(name="Gone", status=models.Service.Status.INACTIVE)
    search_index_update()

    assert client.get(f"/services/{inactive.service_id}/").status_code == 404
    assert client.get("/services/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_bad_location_parameter_falls_back_to_the_first_location(client: Client, pantries: dict) -> None:
    sal = pantries["open"]
    for location in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = client.get(f"/services/{sal.service_id}/", {"location": location})
        assert response.status_code == 200
        assert "100 Main St" in text_of(response.content.decode())


def test_frequently_paired_together_shows_when_there_are_co_referrals(
    client: Client, pantries: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kynect.directory import listings

    sal = pantries["open"]
    paired = listings.OtherService("Job training", "Bluegrass Works", "/services/x/")
    monkeypatch.setattr(listings, "frequently_paired", lambda *, service_id: [paired])

    text = text_of(client.get(f"/services/{sal.service_id}/").content.decode())

    assert "Frequently Paired Together Job training — Bluegrass Works" in text


def test_cards_show_closed_days_and_a_service_own_hours() -> None:
    from kynect.directory.hours import opening_windows_rebuild
    from kynect.directory.listings import listing_cards
    from kynect.directory.search import SearchQuery, search_backend

    office = listed_service(name="Office", hours=[(WEEKDAYS, time(8), time(17))])
    clinic = listed_service(name="Evening clinic", location=office.location)
    models.Schedule.objects.create(
        service=clinic.service, freq="WEEKLY", byday="MO", opens_at=time(18), closes_at=time(21)
    )
    opening_windows_rebuild(location_ids=[office.location_id])
    closed_elsewhere = listed_service(name="Holiday pantry", hours=[(WEEKDAYS, time(9), time(12))])
    models.ClosedDay.objects.create(
        location=closed_elsewhere.location,
        date=MONDAY_MORNING.date(),
        source_schedule=models.Schedule.objects.get(location=closed_elsewhere.location),
    )
    search_index_update()

    page = search_backend().search(SearchQuery())
    cards = {card.name: card for card in listing_cards(hits=page.hits, now=MONDAY_MORNING)}

    assert cards["Office"].today is not None
    assert cards["Office"].today.label == "Today 8:00 AM to 5:00 PM"
    assert cards["Evening clinic"].today is not None
    assert cards["Evening clinic"].today.label == "Today 6:00 PM to 9:00 PM"
    assert cards["Holiday pantry"].today is not None
    assert cards["Holiday pantry"].today.label == "Closed today"
    assert cards["Office"].location_id == office.location_id
    assert cards["Office"].phone is not None
