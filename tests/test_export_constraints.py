"""The database keeps the columns that the exports write as stored free of formulas.

On PostgreSQL the exports escape formula cells in SQL, except in the columns marked ``fixed``
(and skip NULLIF where ``blank=False``) — a fifth of a million-row export. Those marks are only
safe because the database refuses a value that would need escaping there. Every such column of
every export is found from the export's own column list and written past the model's validation
(``QuerySet.update``): the database must refuse a formula, and an empty string where the column
is marked never empty. The admin shows the constraint's message instead of failing.
"""

import pytest
from django.db import IntegrityError, models, transaction
from django.db.models import F

from resettlement.exports import (
    household_export_columns,
    payment_export_columns,
    person_export_columns,
)
from resettlement.models import Country, Household, Payment, Person, Program, Region
from tests.reports_fixtures import kz
from tests.stipends_fixtures import build_ledger

from . import benefits_fixtures as fx

pytestmark = pytest.mark.django_db
officer, checker = fx.officer, fx.checker

EXPORTS = {
    Person: person_export_columns,
    Household: household_export_columns,
    Payment: payment_export_columns,
}


def stored_field(model: type[models.Model], path: str) -> models.Field:
    """The column an export expression ``F(path)`` reads, following foreign keys to their target."""
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    while field.is_relation:  # "origin_country_id" is the country's code
        field = field.target_field
    return field


def text_columns_written_as_stored() -> list[tuple[str, str, models.Field, bool]]:
    """(export, column, stored field, may be empty) for every fixed column read from a text field."""
    found = []
    for model, columns in EXPORTS.items():
        for column in columns():
            if column.fixed and isinstance(column.expression, F):
                field = stored_field(model, column.expression.name)
                if isinstance(field, models.CharField):
                    found.append((model.__name__, column.code, field, column.blank))
    return found


COLUMNS = text_columns_written_as_stored()


def test_the_exports_write_codes_choices_and_the_iin_as_stored():
    names = {(export, code) for export, code, _, _ in COLUMNS}
    assert {
        ("Person", "household_reference"),
        ("Person", "program"),
        ("Person", "origin_country"),
        ("Person", "destination_region"),
        ("Person", "citizenship"),
        ("Person", "iin"),
        ("Person", "relation"),
        ("Person", "education"),
        ("Household", "status"),
        ("Household", "application_channel"),
        ("Payment", "state"),
    } <= names
    # Free text stays escaped.
    assert not names & {("Person", "surname"), ("Person", "phone"), ("Person", "group")}


@pytest.fixture
def rows(officer, checker):
    """One row of each model whose columns the exports write as stored."""
    ledger = build_ledger(officer, checker)
    return {
        Person: ledger.a1,
        Household: ledger.a,
        Payment: ledger.refused,
        Program: kz(),
        Region: Region.objects.get(code="KZ-55"),
        # A country of its own: changing the key of one that people point at fails anyway.
        Country: Country.objects.create(code="QQ", name_en="Test country"),
    }


def refused(model: type[models.Model], pk: object, field: models.Field, value: str) -> bool:
    try:
        with transaction.atomic():
            model.objects.filter(pk=pk).update(**{field.attname: value})
    except IntegrityError:
        return True
    return False


FORMULAS = ["=1+1", "+7", "-2", "@SUM(A1)", "\t1", "\r1", "'x"]


@pytest.mark.parametrize(
    ("export", "column", "field", "blank"),
    COLUMNS,
    ids=[f"{export}.{column}" for export, column, _, _ in COLUMNS],
)
def test_the_database_refuses_a_formula_where_the_export_writes_as_stored(
    rows, export, column, field, blank
):
    row = rows[field.model]
    formulas = [v[: field.max_length] for v in FORMULAS]  # "=" fits a one-character column
    accepted = [v for v in formulas if not refused(field.model, row.pk, field, v)]
    assert accepted == [], f"{field.model.__name__}.{field.name}"
    stored = getattr(row, field.attname)
    row.refresh_from_db()
    assert getattr(row, field.attname) == stored


@pytest.mark.parametrize(
    ("export", "column", "field"),
    [(e, c, f) for e, c, f, blank in COLUMNS if not blank],
    ids=[f"{e}.{c}" for e, c, _, blank in COLUMNS if not blank],
)
def test_the_database_refuses_an_empty_string_where_the_export_skips_nullif(
    rows, export, column, field
):
    row = rows[field.model]
    assert refused(field.model, row.pk, field, ""), f"{field.model.__name__}.{field.name}"


def test_blank_optional_choices_and_iin_are_still_accepted(rows):
    person = rows[Person]
    Person.objects.filter(pk=person.pk).update(iin="", education="", document_type="")
    Household.objects.filter(pk=person.household_id).update(application_channel="")
    person.refresh_from_db()
    assert (person.iin, person.education, person.document_type) == ("", "", "")


def test_the_admin_shows_the_constraints_message_for_a_formula_code(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root"))
    response = client.post(
        "/admin/resettlement/program/add/",
        {
            "code": "=cmd",
            "name_en": "Formula program",
            "country": "KZ",
            "currency": "KZT",
            "currency_symbol": "₸",
            "ethnic_group": "Kazakhs",
            "reference_prefix": "QQ",
            "status_validity_months": 12,
            "max_extensions": 0,
            "extension_max_months": 0,
        },
    )
    assert response.status_code == 200
    assert "cannot start with =, +, -, @" in response.content.decode()
    assert not Program.objects.filter(code="=cmd").exists()
