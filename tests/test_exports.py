"""Full exports of households and persons: columns, escaping, dialects, filters, the access log,
refused users, query counts, the admin action, and the same file from SQLite and PostgreSQL."""

import datetime as dt

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from resettlement import exports
from resettlement.csv_format import EXCEL, PERSON_COLUMNS, PLAIN, unescape_cell
from resettlement.exports import HOUSEHOLD_COLUMNS, person_export_columns, queryset_lines
from resettlement.models import AccessLog, Group, Household, Person
from tests.reports_fixtures import build_world, household, kg, kz, member, user_with
from tests.reports_helpers import csv_bytes, csv_rows

pytestmark = pytest.mark.django_db

PERSONS = reverse("reports:export_persons")
HOUSEHOLDS = reverse("reports:export_households")

HYPERLINK = '=HYPERLINK("http://evil.example/?q=1","Click")'


@pytest.fixture
def exporter(django_user_model):
    return user_with(django_user_model, "analyst", "view_reports", "export_personal_data")


@pytest.fixture
def exporter_client(client, exporter):
    client.force_login(exporter)
    return client


@pytest.fixture
def family():
    """One household with the cells that test the format: formulas, quotes, commas, newlines."""
    group = Group.objects.create(
        program=kz(), name="Flight; 9 Sep, 2021", origin_country_id="AF", planned_size=2
    )
    h = household(
        kz(),
        "KZ-55",
        reference="KZ-2021-00007",
        group=group,
        status="settled",
        origin_area='Balkh, "Mazar"\nvillage 3',
        quota_year=2021,
        application_channel="evacuation",
        arrived_on=dt.date(2021, 9, 9),
        applied_on=dt.date(2021, 9, 15),
        decided_on=dt.date(2021, 10, 15),
        status_granted_on=dt.date(2021, 10, 15),
        status_expires_on=dt.date(2022, 10, 15),
    )
    head = member(
        h,
        "head",
        "M",
        "1975",
        surname=HYPERLINK,
        surname_latin="Akhmetov",
        given_name="Ерлан",
        citizenship_id="AF",
        document_type="passport",
        document_number="P 1234-567",
        education="secondary",
        occupation="@SUM(A1)",
        languages="Kazakh, Dari",
        phone="+77015551234",
        member_status="arrived",
    )
    spouse = member(
        h,
        "spouse",
        "F",
        "1980-10-01",
        surname="Ахметова",
        given_name="Әлия",
        occupation="-teacher",
        languages="\tDari",
    )
    return h, head, spouse


def expected_person_rows(h: Household, head: Person, spouse: Person) -> list[list[str]]:
    household_cells = [
        h.reference,
        "KZ-KANDAS",
        "Flight; 9 Sep, 2021",
        "settled",
        "AF",
        'Balkh, "Mazar"\nvillage 3',
        "KZ-55",
        "2021",
        "evacuation",
        "2021-09-15",
        "2021-10-15",
        "2021-09-09",
        "2021-10-15",
        "2022-10-15",
        "",
        "",
    ]
    return [
        [
            str(head.pk),
            *household_cells,
            "head",
            "'" + HYPERLINK,
            "Ерлан",
            "",
            "Akhmetov",
            "Erlan",
            "",
            "M",
            "1975",
            "year",
            "AF",
            "passport",
            "P 1234-567",
            "",
            "secondary",
            "'@SUM(A1)",
            "Kazakh, Dari",
            "'+77015551234",
            "arrived",
        ],
        [
            str(spouse.pk),
            *household_cells,
            "spouse",
            "Ахметова",
            "Әлия",
            "",
            "Akhmetova",
            "Aliya",
            "",
            "F",
            "1980-10-01",
            "day",
            "",
            "",
            "",
            "",
            "",
            "'-teacher",
            "'\tDari",
            "",
            "abroad",
        ],
    ]


def test_it_exports_persons_in_the_documented_columns(exporter_client, family):
    response = exporter_client.get(PERSONS)

    rows = csv_rows(response)
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="persons.csv"'
    assert rows[0] == list(PERSON_COLUMNS)
    assert rows[1:] == expected_person_rows(*family)


def test_it_neutralises_formulas_so_that_the_import_gets_the_text_back(exporter_client, family):
    rows = csv_rows(exporter_client.get(PERSONS))

    head = dict(zip(rows[0], rows[1], strict=True))
    spouse = dict(zip(rows[0], rows[2], strict=True))
    assert (head["surname"], head["phone"], head["occupation"]) == (
        "'" + HYPERLINK,
        "'+77015551234",
        "'@SUM(A1)",
    )
    assert (spouse["occupation"], spouse["languages"]) == ("'-teacher", "'\tDari")
    assert unescape_cell(head["surname"]) == HYPERLINK
    assert head["person_id"] == str(family[1].pk)  # numbers are never escaped


def test_it_writes_the_same_bytes_on_every_database(exporter_client, family):
    """The PostgreSQL COPY path and the Python path (SQLite) must give this exact file."""
    h, head, spouse = family

    body = csv_bytes(exporter_client.get(PERSONS, {"dialect": "excel"}))

    common = (
        f'{h.reference};KZ-KANDAS;"Flight; 9 Sep, 2021";settled;AF;'
        '"Balkh, ""Mazar""\nvillage 3";KZ-55;2021;evacuation;2021-09-15;2021-10-15;'
        "2021-09-09;2021-10-15;2022-10-15;;"
    )
    assert body.decode("utf-8") == (
        "\ufeff" + ";".join(PERSON_COLUMNS) + "\r\n"
        f'{head.pk};{common};head;"\'=HYPERLINK(""http://evil.example/?q=1"",""Click"")";'
        "Ерлан;;Akhmetov;Erlan;;M;1975;year;AF;passport;P 1234-567;;secondary;'@SUM(A1);"
        "Kazakh, Dari;'+77015551234;arrived\r\n"
        f"{spouse.pk};{common};spouse;Ахметова;Әлия;;Akhmetova;Aliya;;F;1980-10-01;day;;;;;;"
        "'-teacher;'\tDari;;abroad\r\n"
    )


#: Cells that must be escaped, and look-alikes that must not.
EDGE_CELLS = [
    "=1+1",
    "+77015551234",
    "-5",
    "@SUM(A1)",
    "\tTab",
    "\rReturn",
    "'quoted",
    "''",
    "a=b",
    " =space first",
    "",
    'comma, "quote"',
    "semi;colon",
    "line\nbreak",
    "Әлия Қасымқызы",
]
ESCAPED_EDGE_CELLS = [
    "'=1+1",
    "'+77015551234",
    "'-5",
    "'@SUM(A1)",
    "'\tTab",
    "'\rReturn",
    "''quoted",
    "'''",
    "a=b",
    " =space first",
    "",
    'comma, "quote"',
    "semi;colon",
    "line\nbreak",
    "Әлия Қасымқызы",
]


def add_edge_members(h: Household) -> None:
    for index, cell in enumerate(EDGE_CELLS):
        member(h, "child", "F", None, occupation=cell, languages=cell, document_number=f"E{index}")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_it_gives_the_same_file_through_copy_as_through_python(family):
    build_world()
    add_edge_members(family[0])
    persons = Person.objects.order_by("household_id", "pk")

    for dialect in (PLAIN, EXCEL):
        copied = b"".join(
            line if isinstance(line, bytes) else line.encode()
            for line in queryset_lines(persons, person_export_columns(), dialect, use_copy=True)
        )
        written = "".join(
            queryset_lines(persons, person_export_columns(), dialect, use_copy=False)
        ).encode()

        assert copied == written
        assert copied.count(b"\r\n") >= Person.objects.count() + 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_an_export_abandoned_midway_leaves_the_connection_ready(family, monkeypatch):
    """A client that goes away mid-download: the rest of the COPY is cancelled and drained, and
    the same (persistent) connection runs the next query."""
    build_world()
    monkeypatch.setattr(exports, "COPY_CHUNK", 1)  # one chunk per row
    people = Person.objects.order_by("household_id", "pk")
    lines = queryset_lines(people, person_export_columns(), PLAIN, use_copy=True)
    header, first_row = next(lines), next(lines)
    lines.close()

    assert header.startswith("person_id,")
    assert first_row.endswith(b"\r\n")
    assert first_row.count(b"\r\n") == 1
    assert Person.objects.filter(pk__in=people.values("pk")).count() == people.count() > 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_a_failing_copy_raises_and_leaves_the_connection_ready(db):
    with connection.cursor() as cursor:
        raw = cursor.cursor.connection
        with pytest.raises(psycopg.errors.DivisionByZero):
            list(
                exports.copy_out(
                    raw,
                    "COPY (SELECT 1 / (count(*) - count(*)) FROM resettlement_program) TO STDOUT",
                )
            )
        with pytest.raises(psycopg.errors.UndefinedTable):
            list(exports.copy_out(raw, "COPY (SELECT * FROM no_such_table) TO STDOUT"))
    assert Household.objects.count() >= 0
    assert [
        bytes(row)
        for row in exports.copy_out(raw, "COPY (SELECT 1, 'a') TO STDOUT WITH (FORMAT csv)")
    ] == [b"1,a\n"]


def test_it_escapes_each_edge_cell_as_escape_cell_does(exporter_client, family):
    add_edge_members(family[0])

    rows = csv_rows(exporter_client.get(PERSONS))

    by_document = {row[29]: row for row in rows[1:]}
    cells = [by_document[f"E{i}"] for i in range(len(EDGE_CELLS))]
    assert [row[32] for row in cells] == ESCAPED_EDGE_CELLS  # occupation
    assert [row[33] for row in cells] == ESCAPED_EDGE_CELLS  # languages
    assert [unescape_cell(row[32]) for row in cells] == EDGE_CELLS


def test_it_exports_households_with_head_and_member_count(exporter_client, family):
    h, _head, _spouse = family

    rows = csv_rows(exporter_client.get(HOUSEHOLDS))

    assert rows == [
        list(HOUSEHOLD_COLUMNS),
        [
            str(h.pk),
            h.reference,
            "KZ-KANDAS",
            "Flight; 9 Sep, 2021",
            "settled",
            "AF",
            'Balkh, "Mazar"\nvillage 3',
            "KZ-55",
            "2021",
            "evacuation",
            "2021-09-15",
            "2021-10-15",
            "2021-09-09",
            "2021-10-15",
            "2022-10-15",
            "0",
            "",
            "",
            "",
            "",
            "2",
            "'" + HYPERLINK,
            "Ерлан",
            "Akhmetov",
            "Erlan",
        ],
    ]


def test_it_filters_the_export_like_the_reports(exporter_client, family):
    build_world()

    kyrgyz = csv_rows(exporter_client.get(PERSONS, {"program": "KG-KAYRYLMAN"}))
    osh = csv_rows(exporter_client.get(PERSONS, {"region": "KG-O"}))
    september = csv_rows(
        exporter_client.get(HOUSEHOLDS, {"date_from": "2021-09-01", "date_to": "2021-09-30"})
    )
    granted_october = csv_rows(
        exporter_client.get(
            HOUSEHOLDS,
            {"date_field": "status_granted_on", "date_from": "2021-10-01", "date_to": "2021-10-31"},
        )
    )

    assert len(kyrgyz) - 1 == 345 + 6
    assert {row[2] for row in kyrgyz[1:]} == {"KG-KAYRYLMAN"}
    assert [row[7] for row in osh[1:]] == ["KG-O-CHA"] * 6
    assert len(september) - 1 == 9 + 1  # the flight's 9 households and the test family
    assert len(granted_october) - 1 == 5 + 1


def test_it_records_every_export_in_the_access_log(exporter_client, exporter, family):
    exporter_client.get(PERSONS, {"program": "KZ-KANDAS", "status": ["settled", "arrived"]})
    exporter_client.get(HOUSEHOLDS)

    logs = [
        (log.user, log.kind, log.what, log.filters, log.row_count)
        for log in AccessLog.objects.order_by("id")
    ]
    assert logs == [
        (
            exporter,
            "export",
            "persons.csv",
            {"program": "KZ-KANDAS", "status": ["settled", "arrived"]},
            2,
        ),
        (exporter, "export", "households.csv", {}, 1),
    ]


@pytest.mark.parametrize("address", [PERSONS, HOUSEHOLDS])
def test_it_sends_anonymous_users_to_sign_in(client, address):
    response = client.get(address)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("address", [PERSONS, HOUSEHOLDS])
def test_it_refuses_a_report_reader_without_the_export_permission(
    client, django_user_model, address
):
    client.force_login(user_with(django_user_model, "reader", "view_reports", "view_person"))

    response = client.get(address)

    assert response.status_code == 403
    assert AccessLog.objects.count() == 0


def test_it_refuses_bad_filters(exporter_client):
    response = exporter_client.get(PERSONS, {"date_from": "yesterday"})

    assert response.status_code == 400
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("address", [PERSONS, HOUSEHOLDS])
@pytest.mark.parametrize("households", [3, 30])
def test_it_runs_the_same_number_of_queries_for_3_or_30_households(
    exporter_client, django_assert_num_queries, address, households
):
    for index in range(households):
        h = household(kg() if index % 2 else kz(), "KZ-55", status="settled")
        member(h, "head", "M", "1980", phone="+7 701")
        member(h, "child", "F", "2015-02-02")
    # session, user, permissions (2), scope, COUNT,
    # access log insert, then the rows: one query (PostgreSQL's COPY runs outside Django's log).
    expected = 7 + (0 if connection.vendor == "postgresql" else 1)

    with django_assert_num_queries(expected):
        response = exporter_client.get(address)
        rows = csv_rows(response)

    per_household = 2 if address == PERSONS else 1
    assert len(rows) - 1 == households * per_household


# --- admin action ---------------------------------------------------------------------------


def test_it_exports_the_selected_households_from_the_admin(admin_client, admin_user, family):
    h, _head, _spouse = family
    other = household(kz(), "KZ-11", reference="KZ-2021-00008")
    member(other, "head", "M", "1970")

    response = admin_client.post(
        reverse("admin:resettlement_household_changelist"),
        {"action": "export_households_csv", "_selected_action": [str(h.pk)]},
    )

    rows = csv_rows(response)
    assert rows[0] == list(HOUSEHOLD_COLUMNS)
    assert [row[1] for row in rows[1:]] == [h.reference]
    log = AccessLog.objects.get()
    assert (log.user, log.what, log.row_count) == (admin_user, "households.csv", 1)


def test_it_exports_the_selected_people_from_the_admin(admin_client, family):
    _h, _head, spouse = family

    response = admin_client.post(
        reverse("admin:resettlement_person_changelist"),
        {"action": "export_persons_csv", "_selected_action": [str(spouse.pk)]},
    )

    rows = csv_rows(response)
    assert rows[0] == list(PERSON_COLUMNS)
    assert rows[1] == expected_person_rows(*family)[1]


def test_it_offers_the_admin_export_only_with_the_permission(client, django_user_model, family):
    clerk = user_with(django_user_model, "clerk", "view_household", "change_household")
    client.force_login(clerk)

    page = client.get(reverse("admin:resettlement_household_changelist"))
    attempt = client.post(
        reverse("admin:resettlement_household_changelist"),
        {"action": "export_households_csv", "_selected_action": [str(family[0].pk)]},
    )

    assert "export_households_csv" not in page.content.decode()
    assert attempt.status_code == 200  # the changelist again, with "No action selected"
    assert not attempt.streaming
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("address", [PERSONS, HOUSEHOLDS])
def test_it_leaves_other_programs_out_of_a_scoped_users_export(client, django_user_model, address):
    kazakh = household(kz(), "KZ-55", status="settled")
    member(kazakh, "head", "M", "1980", surname="Қазақов")
    kyrgyz = household(kg(), "KG-O-CHA", status="settled")
    member(kyrgyz, "head", "M", "1981", surname="Кыргызов")
    user = user_with(django_user_model, "kz-exporter", "export_personal_data", programs=[kz()])
    client.force_login(user)

    rows = csv_rows(client.get(address))

    column = "household_reference" if address == PERSONS else "reference"
    references = {row[rows[0].index(column)] for row in rows[1:]}
    assert references == {kazakh.reference}
    assert AccessLog.objects.get().row_count == len(rows) - 1
