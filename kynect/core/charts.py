"""The charts of the dashboards: horizontal bars drawn as SVG by `templates/components/chart.html`,
with the same figures as a table. Every dashboard builds its charts here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

ROW_HEIGHT = 40


def number(value: float, digits: int = 0) -> str:
    """A figure in the reader's format (1,234 in English); rounded to `digits` after the decimal point
    (Django's formatting alone cuts the digits off: 66.67 would read 66.6)."""
    return str(formats.number_format(round(value, digits), digits, use_l10n=True, force_grouping=True))


def percent(share: float | None, digits: int = 0) -> str:
    """A share (0 to 1) as a percentage (whole unless `digits`), or a dash when there is none."""
    return "—" if share is None else _("%(percent)s%%") % {"percent": number(share * 100, digits)}


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    width: str  # percent of the chart's width, unlocalized for the SVG attribute
    label_y: int
    bar_y: int


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart drawn as SVG, and the same figures as a table."""

    slug: str
    title: str
    summary: str
    label_heading: str
    value_heading: str
    bars: list[Bar]
    height: int


def chart_build(
    *,
    slug: str,
    title: str,
    summary: str,
    label_heading: str,
    value_heading: str,
    figures: Sequence[tuple[str, float, str]],
) -> Chart:
    """Bars scaled to the largest value; each bar's label and figure are written above it."""
    largest = max((value for _, value, _ in figures), default=0) or 1
    bars = [
        Bar(
            label=label,
            text=text,
            width=f"{max(value / largest * 100, 0.5 if value else 0):.2f}",
            label_y=index * ROW_HEIGHT + 16,
            bar_y=index * ROW_HEIGHT + 22,
        )
        for index, (label, value, text) in enumerate(figures)
    ]
    return Chart(
        slug=slug,
        title=title,
        summary=summary,
        label_heading=label_heading,
        value_heading=value_heading,
        bars=bars,
        height=len(bars) * ROW_HEIGHT + 4,
    )


def charts_csv_rows(charts: list[Chart]) -> list[list[str]]:
    """Every chart's figures as CSV rows (chart, label, value): the download beside the charts."""
    rows = []
    for chart in charts:
        rows += [[chart.title, bar.label, bar.text] for bar in chart.bars]
    return rows
