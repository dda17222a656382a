"""The CSV formats shared by exports and the import: column codes, cell escaping, dialects.

Column headers are stable codes (not translated), so a file exported in any interface
language imports back unchanged. Dates are ISO 8601; amounts are plain numbers.

Spreadsheets run a cell that starts with ``= + - @``, a tab or a carriage return as a formula
(CSV injection). Such cells — and cells that start with an apostrophe, so that the escape is
reversible — are written with one leading apostrophe; :func:`unescape_cell` removes exactly one.
"""

import csv
from dataclasses import dataclass

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")

#: One row per person, with the household's columns repeated. Export and import share it.
PERSON_COLUMNS: tuple[str, ...] = (
    "person_id",
    "household_reference",
    "program",
    "group",
    "household_status",
    "origin_country",
    "origin_area",
    "destination_region",
    "quota_year",
    "application_channel",
    "applied_on",
    "decided_on",
    "arrived_on",
    "status_granted_on",
    "status_expires_on",
    "residence_permit_on",
    "citizenship_on",
    "relation",
    "surname",
    "given_name",
    "patronymic",
    "surname_latin",
    "given_name_latin",
    "patronymic_latin",
    "sex",
    "birth_date",
    "birth_date_precision",
    "citizenship",
    "document_type",
    "document_number",
    "iin",
    "education",
    "occupation",
    "languages",
    "phone",
    "member_status",
)


def escape_cell(value: object) -> str:
    """A cell's text, made safe to open in a spreadsheet."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell` exactly once."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


@dataclass(frozen=True)
class CsvDialect:
    """Plain UTF-8 with commas (default), or Excel's: UTF-8 with a BOM and semicolons."""

    delimiter: str
    bom: bool

    @classmethod
    def from_param(cls, value: str | None) -> "CsvDialect":
        return EXCEL if value == "excel" else PLAIN


PLAIN = CsvDialect(delimiter=",", bom=False)
EXCEL = CsvDialect(delimiter=";", bom=True)


class Echo:
    """A file-like object whose write returns the line, for streaming with csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_writer(dialect: CsvDialect) -> "csv._writer":
    return csv.writer(Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
