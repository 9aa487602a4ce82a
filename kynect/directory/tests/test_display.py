"""One answer for a listing's main phone and address line: the result card, the detail page and a
shared listing say the same."""

from __future__ import annotations

import pytest

from kynect.directory import models
from kynect.directory.display import address_text, listing_address, listing_main_phone
from kynect.directory.search import search_index_update
from kynect.directory.services import listing_summary
from kynect.directory.tests.factories import listed_service

pytestmark = pytest.mark.django_db


def _card(sal: models.ServiceAtLocation) -> models.SearchEntry:
    search_index_update(service_ids=[sal.service_id])
    return models.SearchEntry.objects.get(service=sal.service, location=sal.location)


def test_the_card_and_the_share_choose_the_same_phone_at_every_level() -> None:
    sal = listed_service(name="Pantry")
    service, location = sal.service, sal.location
    steps = [
        (models.Phone(organization=service.organization, number="(502) 555-0111", type="voice"), "0100"),
        (models.Phone(service=service, number="(502) 555-0199", type="fax"), "0100"),
        (models.Phone(service=service, number="(502) 555-0177", type="text"), "0177"),
        (models.Phone(service=service, number="(502) 555-0188", type=""), "0188"),
        (models.Phone(service=service, number="  ", type="voice"), "0188"),
        (models.Phone(service_at_location=sal, number="(502) 555-0142", type="text"), "0142"),
    ]
    for phone, expected in steps:
        phone.save()
        chosen = listing_main_phone(service=service, location=location)
        assert chosen is not None
        assert chosen.number.endswith(expected)
        assert _card(sal).phone == chosen.number
        assert listing_summary(service=service, location=location).phone.endswith(expected)


def test_the_card_and_the_share_show_the_same_address_line() -> None:
    sal = listed_service(name="Pantry")
    location = sal.location
    models.Address.objects.filter(location=location).update(
        address_type=models.Address.AddressType.POSTAL, address_2="Suite 2", city=""
    )
    models.Address.objects.create(
        location=location, address_1="1 Web Way", city="Frankfort", state_province="KY", postal_code="40601",
        country="US", address_type=models.Address.AddressType.VIRTUAL,
    )  # fmt: skip

    line = listing_address(location=location)
    assert line == "100 Main St, Suite 2, KY 40601"
    assert _card(sal).address == line
    assert listing_summary(service=sal.service, location=location).address == line
    assert address_text(None) == ""
