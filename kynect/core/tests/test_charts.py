"""The dashboards' figures: rounded, in the reader's format."""

from __future__ import annotations

from django.utils import translation

from kynect.core.charts import number, percent


def test_figures_are_rounded_not_cut_off() -> None:
    with translation.override("en"):
        assert number(66.666, 1) == "66.7"
        assert number(94.96, 1) == "95.0"
        assert number(1234.5) == "1,234"  # rounded to even, as Python rounds
        assert percent(2 / 3, digits=1) == "66.7%"
        assert percent(0.954) == "95%"
        assert percent(None) == "—"


def test_figures_follow_the_readers_language() -> None:
    with translation.override("es"):
        assert number(1234.56, 1) == "1\xa0234,6"  # a no-break space groups thousands in Spanish
        assert percent(2 / 3, digits=1) == "66,7 %"
