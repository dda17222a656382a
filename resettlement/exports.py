"""Streaming CSV: report tables, and the full exports of households, persons and payments.

Every file is written row by row into a ``StreamingHttpResponse``, so memory stays flat whatever
the row count. Text cells go through ``csv_format.escape_cell`` (formula neutralising); numbers
stay plain numbers, negative ones included. Dates are ISO 8601; a birth date known only to the
year is written as ``YYYY``.

On PostgreSQL the full exports are produced by ``COPY (<the filtered query>) TO STDOUT`` — the
database's own CSV writer. The same escaping rule is then expressed in SQL (see
:func:`escaped`), built from ``csv_format.FORMULA_TRIGGERS``; tests check that both paths give
byte-identical files.
"""

from collections.abc import Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass

import psycopg
from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Collate, Concat, NullIf, Substr
from django.db.models.lookups import Exact, GreaterThanOrEqual, Regex
from django.http import HttpRequest, StreamingHttpResponse
from psycopg import pq

from .csv_format import FORMULA_TRIGGERS, PERSON_COLUMNS, CsvDialect, csv_writer, escape_cell
from .enums import DatePrecision, Relation
from .models import Person
from .selectors.reports import Table
from .services.audit import log_access


class IsoDate(Func):
    """A date as ``YYYY-MM-DD`` text.

    On PostgreSQL a plain cast to text, which is ISO because every connection of the tracker
    sets ``DateStyle`` to ISO (``tracker/settings.py``); a cast is about twice as fast as
    ``to_char``, which counts in a million-row export.
    """

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])  # SQLite keeps dates as ISO text

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s)::text", **extra)


@dataclass(frozen=True)
class ExportColumn:
    """``fixed``: no value starts with a formula character — choices, formatted dates, and codes
    the database checks (``models.constraints.formula_safe``) — so the SQL path writes the column
    without the escaping expression, which counts in a million-row export. ``blank=False``: a
    value is never the empty string either (dates, checked choices and codes), so no NULLIF."""

    code: str
    expression: Expression | F
    numeric: bool = False
    fixed: bool = False
    blank: bool = True


#: A cell that starts with one of ``FORMULA_TRIGGERS`` ("-" first, so it is not a range).
TRIGGER_PATTERN = "^[-" + "".join(c for c in FORMULA_TRIGGERS if c != "-") + "]"


def escaped(expression: Expression) -> Expression:
    """SQL twin of ``escape_cell``: prefix an apostrophe when the first character triggers.

    Every trigger sorts before "A" byte-wise, so one cheap comparison in the "C" collation
    settles almost every cell (names, codes, Cyrillic text) before the regular expression is
    tried. Empty cells become NULL, which COPY writes unquoted, as Python's csv does.
    """
    return Case(
        When(GreaterThanOrEqual(Collate(expression, "C"), Value("A")), then=expression),
        When(Exact(expression, Value("")), then=Value(None)),
        When(Regex(expression, TRIGGER_PATTERN), then=Concat(Value("'"), expression)),
        default=expression,
        output_field=CharField(),
    )


def _date(field: str) -> IsoDate:
    return IsoDate(F(field))


_DATES = frozenset(
    {
        "applied_on",
        "decided_on",
        "arrived_on",
        "status_granted_on",
        "status_expires_on",
        "residence_permit_on",
        "citizenship_on",
    }
)
#: Never an empty string: dates (NULL or ISO text), choices that the database keeps to their
#: values (``models.constraints.one_of``), codes it keeps non-empty, foreign keys to those codes.
FILLED_PERSON_COLUMNS = _DATES | {
    "household_reference",
    "program",
    "household_status",
    "origin_country",
    "destination_region",
    "relation",
    "sex",
    "birth_date",
    "birth_date_precision",
    "citizenship",
    "member_status",
}
#: Never starting with a formula character: the filled columns, optional choices, the IIN.
FIXED_PERSON_COLUMNS = FILLED_PERSON_COLUMNS | {
    "application_channel",
    "document_type",
    "education",
    "iin",
}
FILLED_HOUSEHOLD_COLUMNS = _DATES | {
    "reference",
    "program",
    "status",
    "origin_country",
    "destination_region",
    "commission_on",
}
FIXED_HOUSEHOLD_COLUMNS = FILLED_HOUSEHOLD_COLUMNS | {"application_channel"}


def _columns(
    codes: Iterable[str],
    expressions: dict[str, tuple[Expression | F, bool]],
    fixed: frozenset[str],
    filled: frozenset[str],
) -> list[ExportColumn]:
    """The columns ``codes``, in order: each its expression and numeric flag from
    ``expressions`` (else the model field of that name, as text)."""
    columns = []
    for code in codes:
        expression, numeric = expressions.get(code, (F(code), False))
        columns.append(
            ExportColumn(code, expression, numeric, fixed=code in fixed, blank=code not in filled)
        )
    return columns


def person_export_columns() -> list[ExportColumn]:
    """``PERSON_COLUMNS``, in order, as expressions over ``Person``."""
    birth = Case(
        When(
            birth_date_precision=DatePrecision.YEAR,
            then=Substr(IsoDate(F("birth_date")), 1, 4),
        ),
        default=IsoDate(F("birth_date")),
        output_field=CharField(),
    )
    h = "household__"
    expressions: dict[str, tuple[Expression | F, bool]] = {
        "person_id": (F("pk"), True),
        "household_reference": (F(f"{h}reference"), False),
        "program": (F(f"{h}program__code"), False),
        "group": (F(f"{h}group__name"), False),
        "household_status": (F(f"{h}status"), False),
        "origin_country": (F(f"{h}origin_country_id"), False),
        "origin_area": (F(f"{h}origin_area"), False),
        "destination_region": (F(f"{h}destination_region__code"), False),
        "quota_year": (F(f"{h}quota_year"), True),
        "application_channel": (F(f"{h}application_channel"), False),
        **{
            name: (_date(f"{h}{name}"), False)
            for name in (
                "applied_on",
                "decided_on",
                "arrived_on",
                "status_granted_on",
                "status_expires_on",
                "residence_permit_on",
                "citizenship_on",
            )
        },
        "birth_date": (birth, False),
        "citizenship": (F("citizenship_id"), False),
    }
    return _columns(PERSON_COLUMNS, expressions, FIXED_PERSON_COLUMNS, FILLED_PERSON_COLUMNS)


#: One row per household; the head's names are repeated for convenience.
HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "household_id",
    "reference",
    "program",
    "group",
    "status",
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
    "extensions_used",
    "residence_permit_on",
    "citizenship_on",
    "commission_on",
    "certificate_number",
    "members",
    "head_surname",
    "head_given_name",
    "head_surname_latin",
    "head_given_name_latin",
)


def household_export_columns() -> list[ExportColumn]:
    heads = Person.objects.filter(household=OuterRef("pk"), relation=Relation.HEAD)
    members = (
        Person.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    expressions: dict[str, tuple[Expression | F, bool]] = {
        "household_id": (F("pk"), True),
        "program": (F("program__code"), False),
        "group": (F("group__name"), False),
        "origin_country": (F("origin_country_id"), False),
        "destination_region": (F("destination_region__code"), False),
        "quota_year": (F("quota_year"), True),
        "extensions_used": (F("extensions_used"), True),
        "members": (Coalesce(Subquery(members, output_field=IntegerField()), Value(0)), True),
        **{
            name: (_date(name), False)
            for name in (
                "applied_on",
                "decided_on",
                "arrived_on",
                "status_granted_on",
                "status_expires_on",
                "residence_permit_on",
                "citizenship_on",
                "commission_on",
            )
        },
        **{
            f"head_{name}": (Subquery(heads.values(name)[:1], output_field=CharField()), False)
            for name in ("surname", "given_name", "surname_latin", "given_name_latin")
        },
    }
    return _columns(
        HOUSEHOLD_COLUMNS, expressions, FIXED_HOUSEHOLD_COLUMNS, FILLED_HOUSEHOLD_COLUMNS
    )


#: One row per ledger line (a reversal is a line of its own, negative, pointing at the original).
PAYMENT_COLUMNS: tuple[str, ...] = (
    "payment_id",
    "household_reference",
    "person_id",
    "program",
    "destination_region",
    "rule_code",
    "rule",
    "period",
    "amount",
    "currency",
    "index_code",
    "index_value",
    "index_year",
    "state",
    "reason",
    "batch_id",
    "paid_on",
    "payment_reference",
    "reversal_of",
)
#: As for persons: checked codes and choices, and dates.
FILLED_PAYMENT_COLUMNS = frozenset(
    {"household_reference", "program", "destination_region", "period", "state", "paid_on"}
)
FIXED_PAYMENT_COLUMNS = FILLED_PAYMENT_COLUMNS


def payment_export_columns() -> list[ExportColumn]:
    """``PAYMENT_COLUMNS``, in order, as expressions over ``Payment``."""
    h, r = "grant__household__", "grant__rule__"
    expressions: dict[str, tuple[Expression | F, bool]] = {
        "payment_id": (F("pk"), True),
        "household_reference": (F(f"{h}reference"), False),
        "person_id": (F("person_id"), True),
        "program": (F(f"{h}program__code"), False),
        "destination_region": (F(f"{h}destination_region__code"), False),
        "rule_code": (F(f"{r}code"), False),
        "rule": (F(f"{r}name"), False),
        "period": (Substr(IsoDate(F("period")), 1, 7), False),  # YYYY-MM
        "amount": (F("amount"), True),
        "index_code": (F(f"{r}index_code"), False),
        "index_value": (F("index_value"), True),
        "index_year": (F("index_year"), True),
        "reason": (F("decision_reason"), False),
        "batch_id": (F("batch_id"), True),
        "paid_on": (_date("paid_on"), False),
        "reversal_of": (F("reversal_of_id"), True),
    }
    return _columns(PAYMENT_COLUMNS, expressions, FIXED_PAYMENT_COLUMNS, FILLED_PAYMENT_COLUMNS)


# --- writing --------------------------------------------------------------------------------


def _cell(value: object, numeric: bool) -> object:
    if numeric:
        return "" if value is None else value
    return escape_cell(value)


def _lines(header: Iterable[str], rows: Iterable[Iterable[object]], dialect: CsvDialect):
    writer = csv_writer(dialect)
    if dialect.bom:
        yield "\ufeff"
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow(row)


def table_lines(table: Table, dialect: CsvDialect) -> Iterator[str]:
    """A report table as CSV: header of column codes, then the rows (totals are left out)."""
    flags = [c.numeric for c in table.columns]
    rows = (
        [_cell(v, numeric) for v, numeric in zip(row, flags, strict=True)] for row in table.rows
    )
    return _lines((c.code for c in table.columns), rows, dialect)


def _aliased(columns: list[ExportColumn], sql_escape: bool) -> dict[str, Expression | F]:
    result = {}
    for i, column in enumerate(columns):
        expression = column.expression
        if sql_escape and not column.numeric:
            if not column.fixed:
                expression = escaped(expression)
            elif column.blank:
                expression = NullIf(expression, Value(""))
        result[f"c{i:02d}"] = expression
    return result


def queryset_lines(
    queryset: QuerySet,
    columns: list[ExportColumn],
    dialect: CsvDialect,
    *,
    use_copy: bool | None = None,
) -> Iterator[str | bytes]:
    """Stream ``queryset`` as CSV: through COPY on PostgreSQL, else in chunks via Python.

    ``use_copy=False`` forces the Python path (tests compare the two on PostgreSQL).
    """
    header = [c.code for c in columns]
    if use_copy is None:
        use_copy = connections[queryset.db].vendor == "postgresql"
    if use_copy:
        return _copy_lines(queryset, columns, header, dialect)
    aliases = _aliased(columns, sql_escape=False)
    values = queryset.annotate(**aliases).values_list(*aliases).iterator(chunk_size=2000)
    flags = [c.numeric for c in columns]
    rows = ([_cell(v, numeric) for v, numeric in zip(row, flags, strict=True)] for row in values)
    return _lines(header, rows, dialect)


#: Bytes of COPY output gathered before each write to the client.
COPY_CHUNK = 64 * 1024


def _copy_lines(
    queryset: QuerySet, columns: list[ExportColumn], header: list[str], dialect: CsvDialect
) -> Iterator[str | bytes]:
    yield from _lines(header, [], dialect)
    aliases = _aliased(columns, sql_escape=True)
    query = queryset.annotate(**aliases).values_list(*aliases).query
    sql, params = query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        raw = cursor.cursor.connection
        # COPY takes no bind parameters: let psycopg quote them into the statement.
        statement = psycopg.ClientCursor(raw).mogrify(sql, params)
        delimiter = "';'" if dialect.delimiter == ";" else "','"
        copy_sql = f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, DELIMITER {delimiter})"
        buffer = bytearray()
        # Closed explicitly when the client goes away, so the COPY is cancelled at once.
        with closing(copy_out(raw, copy_sql)) as rows:
            for row in rows:
                # PostgreSQL sends one row per message, ending in LF; the CSV files use CRLF.
                buffer += row
                buffer[-1] = 13  # CR
                buffer.append(10)  # LF
                if len(buffer) >= COPY_CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)


def copy_out(raw: psycopg.Connection, statement: str) -> Iterator[memoryview]:
    """The rows of ``COPY … TO STDOUT``, read from libpq one blocking call per row.

    psycopg's ``Copy`` reads each row through a generator and its wait loop: in a million-row
    export that was most of the serving worker's CPU, which shares two cores with PostgreSQL
    and the client. If the reader stops early (the client went away), the rest of the COPY is
    cancelled and drained, so the connection goes back to Django ready for the next query.
    """
    pgconn = raw.pgconn
    pgconn.send_query(statement.encode(raw.info.encoding))
    result = pgconn.get_result()
    if result is None or result.status != pq.ExecStatus.COPY_OUT:
        _finish(pgconn)
        raise _error(raw, result)
    done = False
    try:
        while True:
            size, data = pgconn.get_copy_data(0)  # blocks; -1 at the end (an error raises)
            if size < 0:
                break
            yield data
        done = True
    finally:
        if not done:
            # Without a cancel the rest is read and dropped below all the same.
            with suppress(psycopg.Error):
                raw.cancel_safe()
            while pgconn.get_copy_data(0)[0] >= 0:
                pass
        final = _finish(pgconn)
    if final is None or final.status != pq.ExecStatus.COMMAND_OK:
        raise _error(raw, final)


def _finish(pgconn: pq.abc.PGconn) -> pq.abc.PGresult | None:
    """Read the statement's remaining results (libpq needs them read); returns the first."""
    first = pgconn.get_result()
    while pgconn.get_result() is not None:
        pass
    return first


def _error(raw: psycopg.Connection, result: pq.abc.PGresult | None) -> psycopg.Error:
    if result is None:
        return psycopg.OperationalError("COPY ended without a result")
    return psycopg.errors.error_from_result(result, encoding=raw.info.encoding)


def csv_response(lines: Iterable[str | bytes], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def request_filters(request: HttpRequest) -> dict:
    """The GET parameters as the access log stores them (lists only where repeated)."""
    return {k: v[0] if len(v) == 1 else v for k, v in request.GET.lists()}


def personal_data_response(
    *,
    request: HttpRequest,
    what: str,
    queryset: QuerySet,
    columns: list[ExportColumn],
    dialect: CsvDialect,
    filters: dict,
) -> StreamingHttpResponse:
    """Log the export (with its row count, by one COUNT query) and stream the file.

    The rows are read on the database the view reads from (the replica inside a report view,
    ``tracker.db_router``), bound here: they are streamed after the view has returned, and the
    access log's write would otherwise send them to the primary.
    """
    queryset = queryset.using(queryset.db)
    log_access(
        request=request, kind="export", what=what, filters=filters, row_count=queryset.count()
    )
    return csv_response(queryset_lines(queryset, columns, dialect), what)
