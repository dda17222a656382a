"""Reading report pages and CSV downloads back in tests."""

import csv
import io
import re
from decimal import Decimal
from html.parser import HTMLParser


class TableParser(HTMLParser):
    """Collects the body rows of every ``<table data-table="...">`` as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[list[str]]]] = {}
        self._table: str | None = None
        self._part = ""
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "table" and "data-table" in attributes:
            self._table = attributes["data-table"]
            self.tables[self._table] = {"head": [], "body": [], "foot": []}
        elif self._table and tag in ("thead", "tbody", "tfoot"):
            self._part = tag[1:]
        elif self._table and tag == "tr":
            self._row = []
        elif self._table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table][self._part].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_tables(response) -> dict[str, dict[str, list[list[str]]]]:
    parser = TableParser()
    parser.feed(response.content.decode())
    return parser.tables


def csv_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response, delimiter: str = ",") -> list[list[str]]:
    text = csv_bytes(response).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def money_value(text: str) -> Decimal:
    """An amount as the English page shows it ("1,234.50 ₸", "-700 сом") as a number."""
    return Decimal(re.sub(r"[^0-9.\-]", "", text))


def comparable(table, row: list[str]) -> list:
    """A row of page texts or CSV cells (page columns only), with amounts of money as numbers."""
    shown = [c for c in table.columns if c.on_page]
    return [
        money_value(cell) if column.currency_from else cell
        for column, cell in zip(shown, row, strict=True)
    ]
