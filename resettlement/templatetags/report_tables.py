"""A report table's cells in one pass: ``{% report_cells row %}`` writes a row's ``<td>`` cells.

A report can show thousands of cells (months × regions × benefits); a template loop with a
sub-template per cell spent more time on them than the report's queries. The tag writes what
that template wrote: numbers right-aligned (``class="num"``), short codes unbroken
(``class="nowrap"``), amounts of money with their currency sign (``money``), other values in the
active language's format (as ``{{ value }}`` would), ``None`` as an empty cell, all escaped.
"""

from django import template
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from ..selectors.reports import Cell
from .money import NumberFormat, format_money

register = template.Library()

CLASSES = {
    (True, False): ' class="num"',
    (True, True): ' class="num"',
    (False, True): ' class="nowrap"',
}


def _text(cell: Cell, fmt: NumberFormat) -> str:
    if cell.value is None:
        return ""
    if cell.currency is not None and cell.value != "":
        return format_money(cell.value, cell.currency, fmt)
    return localize(cell.value)


@register.simple_tag
def report_cells(cells: list[Cell]) -> SafeString:
    fmt = NumberFormat.current()
    return mark_safe(  # noqa: S308 — every text is escaped, the classes are constants
        "".join(
            f"<td{CLASSES.get((cell.numeric, cell.nowrap), '')}>"
            f"{conditional_escape(_text(cell, fmt))}</td>"
            for cell in cells
        )
    )
