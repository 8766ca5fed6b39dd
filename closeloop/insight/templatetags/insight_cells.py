"""A KPI table's cell, written in Python (issue 20).

The dashboard shows its KPIs by department and by handler twice (the KPI tables and the league tables):
at 100,000 complaints about 1,400 cells, each an `{% include %}` with a dozen lookups. Template rendering
was 70% of the page's time. The cell is the same HTML as the template it replaces; every value goes in
through format_html (escaped), numbers as the template showed them (`localize`)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

_EMPTY = mark_safe('<span class="muted">—</span>\n')


@register.simple_tag
def kpi_cell(cell: dict[str, Any] | None) -> SafeString:
    """A figure's rate (marked met or missed against its target) over its numerator/denominator, each
    linking to its complaints when the cell has the links; a dash for no figure."""
    if not cell:
        return _EMPTY
    figure = cell["figure"]
    meets = figure.meets_target
    mark = " kpi-met" if meets is True else " kpi-missed" if meets is False else ""
    rate = figure.rate
    shown = f"{localize(rate)}%" if rate is not None else "—"
    if cell.get("numerator_url"):
        counts = format_html(
            '<a href="{}" title="{}">{}</a>/<a href="{}" title="{}">{}</a>',
            cell["numerator_url"],
            _("complaints behind the numerator"),
            localize(figure.numerator),
            cell["denominator_url"],
            _("complaints behind the denominator"),
            localize(figure.denominator),
        )
    else:
        counts = format_html("{}/{}", localize(figure.numerator), localize(figure.denominator))
    return format_html('<span class="kpi-rate{}">{}</span>\n<span class="kpi-counts">{}</span>\n', mark, shown, counts)
