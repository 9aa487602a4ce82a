import csv
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kynect.core.geo import zip_lookup
from kynect.directory.generator import TABLES, directory_generate, hsds_columns
from kynect.directory.taxonomy import CategoryNode, categories, life_situations, taxonomy_id


def read(out: Path, file_name: str) -> list[dict[str, str]]:
    with (out / file_name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("directory")
    directory_generate(services=400, seed=7, out=out)
    return out


def test_the_package_lists_every_csv_with_hsds_columns(package: Path) -> None:
    datapackage = json.loads((package / "datapackage.json").read_text())
    assert [resource["path"] for resource in datapackage["resources"]] == [file for _n, file, _m in TABLES]
    for _name, file_name, model in TABLES:
        with (package / file_name).open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == hsds_columns(model)
    assert "name_es" not in hsds_columns(TABLES[1][2])


def test_exactly_the_requested_number_of_services_across_every_category_leaf(package: Path) -> None:
    services = read(package, "services.csv")
    assert len(services) == 400
    attributes = read(package, "attributes.csv")
    used_terms = {row["taxonomy_term_id"] for row in attributes if row["link_type"] == "category"}

    def leaves(nodes: tuple[CategoryNode, ...]) -> Iterator[CategoryNode]:
        for node in nodes:
            yield from leaves(node.children) if node.children else [node]

    assert {str(taxonomy_id(leaf.slug)) for leaf in leaves(tuple(categories()))} <= used_terms
    situations = {row["taxonomy_term_id"] for row in attributes if row["link_type"] == "life_situation"}
    assert situations == {str(taxonomy_id(situation.slug)) for situation in life_situations()}


def test_locations_are_in_kentucky_with_the_right_time_zone(package: Path) -> None:
    locations = {row["id"]: row for row in read(package, "locations.csv")}
    for address in read(package, "addresses.csv"):
        location = locations[address["location_id"]]
        info = zip_lookup(address["postal_code"])
        assert info.state == "KY"
        assert abs(float(location["latitude"]) - info.latitude) < 0.05
        assert 36.4 < float(location["latitude"]) < 39.2
        assert -89.7 < float(location["longitude"]) < -81.9
    offsets = Counter(row["timezone"] for row in read(package, "schedules.csv"))
    assert set(offsets) == {"-5", "-6"}


def test_schedules_have_split_days_weekends_24_hours_and_holiday_closures(package: Path) -> None:
    schedules = read(package, "schedules.csv")
    assert any(row["opens_at"] == "00:00:00" and row["closes_at"] == "23:59:59" for row in schedules)
    assert any("SA" in row["byday"] or "SU" in row["byday"] for row in schedules)
    assert any(row["opens_at"] == "17:00:00" for row in schedules)
    by_location = Counter((row["location_id"], row["byday"]) for row in schedules if row["byday"])
    assert any(count > 1 for count in by_location.values()), "no split day"
    closures = [row for row in schedules if row["notes"] == "closed"]
    assert closures
    assert all(row["valid_from"] == row["valid_to"] and not row["opens_at"] for row in closures)


def test_the_feed_marks_no_partners(package: Path) -> None:
    """KY Partners come from onboarding only: the demo onboards some after loading (`load_demo_directory`)."""
    assert read(package, "organizations.csv")
    assert not [row for row in read(package, "attributes.csv") if row["link_entity"] == "organization"]


def test_the_same_seed_gives_the_same_package(tmp_path: Path, package: Path) -> None:
    directory_generate(services=400, seed=7, out=tmp_path)
    for _name, file_name, _model in TABLES:
        assert (tmp_path / file_name).read_bytes() == (package / file_name).read_bytes()


def test_command_refuses_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("generate_directory", services=0, out=tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CommandError):
        call_command("generate_directory", services=10, out=blocker)
