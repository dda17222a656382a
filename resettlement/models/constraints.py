"""Check constraints that let the CSV exports write columns as stored.

The exports neutralise spreadsheet formulas (``csv_format.escape_cell``): on PostgreSQL an SQL
expression per text cell, which costs a fifth of a million-row export. A column the database
guarantees to be safe — no value starts with one of ``csv_format.FORMULA_TRIGGERS`` — is written
as it is (``exports.ExportColumn.fixed``); one it guarantees to be non-empty needs no NULLIF
either (``ExportColumn.blank``). ``tests/test_export_constraints.py`` writes a bad value into
each such column past the model's validation and expects the database to refuse it.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..csv_format import FORMULA_TRIGGERS

FORMULA_MESSAGE = _(
    "A code or number cannot start with =, +, -, @, an apostrophe, a tab or a line break."
)


def formula_safe(field: str, name: str, *, blank: bool = False) -> models.CheckConstraint:
    """``field`` does not start with a formula character and, unless ``blank``, is not empty."""
    starts = Q()
    for trigger in FORMULA_TRIGGERS:
        starts |= Q(**{f"{field}__startswith": trigger})
    condition = ~starts if blank else ~starts & ~Q(**{field: ""})
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=FORMULA_MESSAGE,
    )


def one_of(
    field: str, choices: type[models.TextChoices], name: str, *, blank: bool = False
) -> models.CheckConstraint:
    """``field`` holds one of its choices (or, if ``blank``, nothing): never a formula."""
    values = [*choices.values, ""] if blank else list(choices.values)
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": values}),
        name=name,
        violation_error_message=_("Choose one of the listed values."),
    )
