"""A report row's cells, written by ``{% report_cells %}`` in one pass: classes, amounts with
their currency sign, numbers in the language's format, empty cells and escaping."""

from decimal import Decimal

import pytest
from django.utils import translation

from resettlement.selectors.reports import Cell
from resettlement.templatetags.report_tables import report_cells

ROW = [
    Cell(1991, True),
    Cell(Decimal("1376200.00"), True, "KZT"),
    Cell(Decimal("5000"), True, "KGS"),
    Cell(Decimal("7.50"), True, ""),
    Cell("", True, "KZT"),
    Cell(None, True),
    Cell("KZ-55", False, nowrap=True),
    Cell(Decimal("12.5"), True),
    Cell('<script>alert("x")</script> & Co', False),
]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            '<td class="num">1991</td><td class="num">1,376,200\xa0₸</td>'
            '<td class="num">5,000\xa0сом</td><td class="num">7.50</td><td class="num"></td>'
            '<td class="num"></td><td class="nowrap">KZ-55</td><td class="num">12.5</td>'
            "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</td>",
        ),
        (
            "ru",
            '<td class="num">1991</td><td class="num">1\xa0376\xa0200\xa0₸</td>'
            '<td class="num">5\xa0000\xa0сом</td><td class="num">7,50</td><td class="num"></td>'
            '<td class="num"></td><td class="nowrap">KZ-55</td><td class="num">12,5</td>'
            "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</td>",
        ),
    ],
)
def test_it_writes_a_rows_cells_in_the_languages_format(language, expected):
    with translation.override(language):
        assert report_cells(ROW) == expected
