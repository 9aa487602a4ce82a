from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from kynect.directory.models import Service


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
