"""Writing many new rows at once, faster than ``bulk_create`` and with the same effect.

On PostgreSQL rows go in with ``COPY … FROM STDIN``: several times faster than the multi-row
``INSERT`` statements of ``bulk_create``, whose long SQL psycopg parses again for every batch.
Other databases get multi-row ``INSERT``s built here, at a third of the ORM's cost.

Values go through each field's ``get_db_prep_save`` as in the ORM, except where the value
already has the exact Python type the column takes and Django would pass it on unchanged (a
``str`` for a ``CharField``, a ``date`` for a ``DateField`` …): that check is most of the time
of a large write, and skipping it changes nothing in what is stored
(``tests/test_bulk.py`` compares with ``bulk_create``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models
from django.db.models import QuerySet
from django.utils import timezone

#: Field classes (exactly these, not subclasses that may convert) and the Python type whose
#: values their ``get_db_prep_save`` returns unchanged (dates: on PostgreSQL).
_PASSED_AS_IS: dict[type, type] = {
    models.CharField: str,
    models.TextField: str,
    models.SlugField: str,
    models.EmailField: str,
    models.BooleanField: bool,
    models.DateField: dt.date,
    models.IntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.SmallAutoField: int,
}


class _NotPassed:
    """A type no value has: fields without a pass-through type always convert."""


class _AwareDatetime:
    """Stands for ``datetime`` values with a time zone (see :func:`_values`)."""


def _field_spec(field: models.Field) -> tuple[str, type, Callable, object]:
    """``(attname, the type passed as is, get_db_prep_save, default)`` of a field."""
    target = field.target_field if field.is_relation else field
    native = _PASSED_AS_IS.get(type(target), _NotPassed)
    if native is dt.date and connection.vendor != "postgresql":
        native = _NotPassed  # SQLite's backend turns dates into ISO text itself
    if type(target) is models.DateTimeField and connection.vendor == "postgresql":
        # PostgreSQL takes an aware datetime as it is; a naive one is made aware by Django
        # (with a warning), so it still goes through the field.
        native = _AwareDatetime
    return field.attname, native, field.get_db_prep_save, field.get_default()


def insert_rows(model: type[models.Model], rows: list[dict], *, returning: bool) -> list[int]:
    """``INSERT`` many rows given as ``{attname: value}`` (``COPY`` on PostgreSQL); the ids of
    the new rows, in order, when ``returning``. Fields missing from a row get their default;
    the database numbers the rows."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy_rows(model, fields, rows, returning=returning)
    return _insert_values(model, fields, rows, returning=returning)


def _values(fields: list[models.Field], rows: Iterable[dict]) -> Iterable[list]:
    """Each row's values as the database driver takes them. ``type(...) is``: a datetime is a
    date and a bool is an int, but neither passes as is."""
    specs = [_field_spec(f) for f in fields]
    for row in rows:
        yield [
            value
            if (value := row.get(name, default)) is None
            or type(value) is native
            or (
                native is _AwareDatetime and type(value) is dt.datetime and value.tzinfo is not None
            )
            else prepare(value, connection)
            for name, native, prepare, default in specs
        ]


def _insert_values(model: type, fields: list, rows: list[dict], *, returning: bool) -> list[int]:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    limit = connection.features.max_query_params or 65535
    if connection.vendor == "sqlite":
        limit = 32766  # SQLite 3.32+; Django keeps 999 for older builds
    per_insert = max(1, min(500, limit // len(fields)))
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_insert):
            part = list(_values(fields, rows[start : start + per_insert]))
            # Table and column names come from the model; every value is a parameter.
            values = ", ".join([placeholder] * len(part))
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608
            if returning:
                sql += f" RETURNING {quote(meta.pk.column)}"
            cursor.execute(sql, [value for row in part for value in row])
            if returning:
                ids += [pk for (pk,) in cursor.fetchall()]
    return ids


def _copy_rows(model: type, fields: list, rows: list[dict], *, returning: bool) -> list[int]:
    """For ``returning``, the ids are taken from the table's sequence first, in one query, and
    written with the rows."""
    meta = model._meta
    quote = connection.ops.quote_name
    table = meta.db_table
    columns = [f.column for f in fields]
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(table), meta.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            columns = [meta.pk.column, *columns]
        names = ", ".join(quote(c) for c in columns)
        # Table and column names come from the model; the values travel as COPY data.
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for index, values in enumerate(_values(fields, rows)):
                copy.write_row([ids[index], *values] if returning else values)
    return ids


def create_objects(objects: list[models.Model]) -> None:
    """Save new model instances of one model, as ``bulk_create`` does: each field's
    ``pre_save`` runs (``auto_now_add`` timestamps), and each instance gets its primary key.
    No signals are sent and ``save()`` is not called."""
    if not objects:
        return
    model = type(objects[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    plain = [f.attname for f in fields if _reads_attribute(f)]
    computed = [f for f in fields if not _reads_attribute(f)]
    rows = [
        {
            **{name: getattr(obj, name) for name in plain},
            **{f.attname: f.pre_save(obj, True) for f in computed},
        }
        for obj in objects
    ]
    ids = insert_rows(model, rows, returning=True)
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _reads_attribute(field: models.Field) -> bool:
    """Whether the field's ``pre_save`` only reads the instance's attribute (most fields; not
    ``auto_now``/``auto_now_add`` dates, nor fields that override ``pre_save``)."""
    pre_save = type(field).pre_save
    if pre_save is models.Field.pre_save:
        return True
    return pre_save in (models.DateField.pre_save, models.DateTimeField.pre_save) and not (
        field.auto_now or field.auto_now_add
    )


def create_with_history(objects: list[models.Model], *, user: AbstractBaseUser | None) -> None:
    """:func:`create_objects` plus one "created" row each in the model's simple-history table,
    as ``simple_history.utils.bulk_create_with_history`` writes it."""
    if not objects:
        return
    create_objects(objects)
    historical = type(objects[0]).history.model
    now = timezone.now()
    tracked = [f.attname for f in historical.tracked_fields]
    user_id = user.pk if user is not None else None
    insert_rows(
        historical,
        [
            {
                **{name: getattr(obj, name) for name in tracked},
                "history_date": now,
                "history_user_id": user_id,
                "history_change_reason": None,
                "history_type": "+",
            }
            for obj in objects
        ],
        returning=False,
    )


def insert_select(model: type[models.Model], columns: Sequence[str], select: QuerySet) -> None:
    """``INSERT INTO`` ``model``'s table (``columns``) the rows of ``select`` (a ``values_list``
    in the same order), in one statement that never brings them into Python."""
    sql, params = select.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        # The names are the model's own; the values are bound parameters.
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT * FROM ({sql}) AS rows",  # noqa: S608
            params,
        )
