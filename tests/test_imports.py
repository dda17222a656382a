"""The household CSV import: bad files, matching, encodings, round trip, idempotency, duplicates."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resettlement.csv_format import PERSON_COLUMNS
from resettlement.models import (
    AccessLog,
    DuplicateCandidate,
    Household,
    ImportBatch,
    Person,
    StatusChange,
)
from resettlement.services import imports
from resettlement.services.cases import case_transition
from resettlement.services.imports import commit_batch, create_batch
from resettlement.validators import make_iin

from .imports_fixtures import blank_row, exported_persons, make_family, parse_csv, to_csv

pytestmark = pytest.mark.django_db

COL = {name: index for index, name in enumerate(PERSON_COLUMNS)}


def header() -> list[str]:
    return list(PERSON_COLUMNS)


def upload(rows: list[list[str]] | str | bytes, user=None, name: str = "people.csv"):
    if isinstance(rows, list):
        rows = to_csv(rows)
    data = rows.encode() if isinstance(rows, str) else rows
    return create_batch(data=data, file_name=name, user=user)


def snapshot() -> tuple:
    """Everything an import may write."""
    return (
        list(Household.objects.values().order_by("pk")),
        list(Person.objects.values().order_by("pk")),
        StatusChange.objects.count(),
        DuplicateCandidate.objects.count(),
        Person.history.count(),
    )


def errors_of(batch: ImportBatch) -> list[tuple]:
    return [(e["line"], e["column"]) for e in batch.errors]


def family_rows(key: str, size: int = 2, **head) -> list[list[str]]:
    rows = [blank_row(household_reference=key, **head)]
    for index in range(1, size):
        rows.append(
            blank_row(
                household_reference=key,
                relation="child",
                given_name=f"Бала{index}",
                sex="F",
                birth_date=f"2010-01-{index:02d}",
            )
        )
    return rows


# --- every bad input: a clear error, nothing written ------------------------------------------

BAD_ROWS = [
    ("birth_date", {"birth_date": "2020-13-01"}, "is not a real date"),
    ("birth_date", {"birth_date": "31.02.2020"}, "is not a real date"),
    ("birth_date", {"birth_date": "March 1980"}, "is not a date"),
    ("birth_date", {"birth_date": "2999-01-01"}, "in the future"),
    ("birth_date", {"birth_date": "0000"}, "A year of birth from 1900 to"),
    ("birth_date", {"birth_date": "1086"}, "A year of birth from 1900 to"),
    ("iin", {"iin": "800101300120"}, "This IIN is not valid"),
    ("destination_region", {"destination_region": "KZ-99"}, "Unknown region code “KZ-99”"),
    ("program", {"program": "UZ-RETURN"}, "Unknown program “UZ-RETURN”"),
    ("origin_country", {"origin_country": "ZZ"}, "Unknown country code “ZZ”"),
    ("citizenship", {"citizenship": "QQ"}, "Unknown country code “QQ”"),
    ("sex", {"sex": "X"}, "“X” is not one of: F, M"),
    ("relation", {"relation": ""}, "cannot be empty"),
    ("surname", {"surname": "Ж" * 10_000}, "At most 100 characters here; this cell has 10000"),
    ("occupation", {"occupation": '=HYPERLINK("http://x")'}, "a spreadsheet would run it"),
    ("phone", {"phone": "@SUM(A1)"}, "a spreadsheet would run it"),
    ("group", {"group": "No such flight"}, "no group named “No such flight”"),
    ("arrived_on", {"arrived_on": "2021-09-09"}, "A new household starts as a draft"),
    ("household_status", {"household_status": "granted"}, "A new household starts as a draft"),
    ("surname", {"surname": "", "surname_latin": ""}, "Enter the surname"),
]


@pytest.mark.parametrize(("column", "cells", "message"), BAD_ROWS)
def test_it_names_the_line_column_and_reason_of_a_bad_cell_and_writes_nothing(
    column, cells, message
):
    make_family()
    before = snapshot()
    rows = [header(), *family_rows("NEW-1"), blank_row(household_reference="NEW-2", **cells)]

    batch = upload(rows)

    assert batch.status == "invalid"
    assert errors_of(batch) == [(4, column)]
    assert message in batch.errors[0]["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf\r\n\r\n", "The file is empty."),
        (",".join(PERSON_COLUMNS).encode() + b"\r\n", "The file has a header but no rows."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "NUL byte: this is not a text CSV"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(1, 32)) * 20, "does not look like text"),
    ],
)
def test_it_refuses_an_unusable_file_and_writes_nothing(data, message):
    before = snapshot()

    batch = upload(data)

    assert batch.status == "invalid"
    assert message in batch.errors[0]["message"]
    assert snapshot() == before


def test_it_names_the_missing_and_unknown_columns():
    columns = [c for c in PERSON_COLUMNS if c not in ("sex", "iin")] + ["shoe_size"]

    batch = upload([columns, ["x"] * len(columns)])

    assert batch.errors == [
        {
            "line": None,
            "column": "",
            "message": "The first line must be the header of the persons template; missing "
            "columns: sex, iin; unknown columns: shoe_size.",
        }
    ]


def test_it_names_the_line_of_a_nul_byte_inside_a_cell():
    text = to_csv([header(), *family_rows("NEW-1", size=3)])
    data = text.replace("Бала2", "Ба\x00ла2").encode()

    batch = upload(data)

    assert "Line 4 contains a NUL byte" in batch.errors[0]["message"]
    assert Person.objects.count() == 0


def test_it_refuses_a_file_over_the_size_limit(settings):
    settings.IMPORT_MAX_BYTES = 500

    batch = upload([header(), *family_rows("NEW-1", size=3)])

    assert batch.status == "invalid"
    assert "the limit is 500 bytes" in batch.errors[0]["message"]
    assert batch.text == ""


def test_it_refuses_two_heads_in_one_household():
    rows = [header(), *family_rows("NEW-1"), blank_row(household_reference="NEW-1", iin="")]

    batch = upload(rows)

    assert batch.errors == [
        {
            "line": 4,
            "column": "relation",
            "message": "Household NEW-1 (first row on line 2) has 2 heads; it must have exactly one.",
        }
    ]


def test_it_refuses_a_household_without_a_head():
    rows = [header(), blank_row(household_reference="NEW-1", relation="child")]

    batch = upload(rows)

    assert errors_of(batch) == [(2, "relation")]
    assert "has no head" in batch.errors[0]["message"]


def test_it_refuses_the_same_person_twice_in_the_file():
    iin = make_iin("75010130012")
    rows = [
        header(),
        blank_row(household_reference="NEW-1", iin=iin),
        blank_row(household_reference="NEW-2", iin=iin, given_name="Другой"),
        blank_row(household_reference="NEW-3", document_number="N 123-45", given_name="А"),
        blank_row(household_reference="NEW-4", document_number="n12345", given_name="Б"),
    ]

    batch = upload(rows)

    assert errors_of(batch) == [(3, "iin"), (5, "document_number")]
    assert "line 2 has the same IIN" in batch.errors[0]["message"]
    assert "line 4 has the same document number" in batch.errors[1]["message"]


def test_it_refuses_a_birth_after_the_households_arrival(admin_user):
    household = make_family()
    case_transition(household=household, to="in_transit", by=admin_user, on=dt.date(2021, 9, 8))
    case_transition(household=household, to="arrived", by=admin_user, on=dt.date(2021, 9, 9))
    rows = parse_csv(to_csv(exported_persons()))
    new = list(rows[1])
    new[COL["person_id"]] = ""
    new[COL["iin"]] = new[COL["document_number"]] = ""
    new[COL["relation"]], new[COL["given_name"]] = "grandchild", "Жаңа"
    new[COL["given_name_latin"]] = ""
    new[COL["birth_date"]], new[COL["birth_date_precision"]] = "2022-01-05", "day"
    rows.append(new)
    before = snapshot()

    batch = upload(rows)

    assert batch.errors == [
        {
            "line": 5,
            "column": "birth_date",
            "message": "Born 2022-01-05, after the household arrived (2021-09-09).",
        }
    ]
    assert snapshot() == before


def test_it_refuses_an_iin_that_another_person_has():
    household = make_family()
    head = household.members.get(relation="head")
    rows = [header(), blank_row(household_reference="NEW-1", iin=head.iin)]

    batch = upload(rows)

    assert errors_of(batch) == [(2, "iin")]
    assert f"Person {head.pk} already has this IIN" in batch.errors[0]["message"]


def test_it_refuses_a_status_change_through_the_file():
    make_family()
    rows = parse_csv(to_csv(exported_persons()))
    rows[1][COL["household_status"]] = "granted"

    batch = upload(rows)

    assert errors_of(batch) == [(2, "household_status")]
    assert "the import does not change it" in batch.errors[0]["message"]


def test_it_names_line_317_of_a_500_row_file_with_quoted_newlines_and_writes_nothing(
    admin_user,
):
    rows = [header()]
    for number in range(250):  # 250 families of two = 500 rows
        rows += family_rows(f"F{number}", iin="")
    # Addresses with line breaks before the bad row add 6 physical lines.
    rows[9][COL["origin_area"]] = "Balkh\nMazar-i-Sharif\nDistrict 4"
    rows[10][COL["origin_area"]] = "Balkh\nMazar-i-Sharif\nDistrict 4"
    rows[11][COL["origin_area"]] = "Kunduz\nImam Sahib"
    rows[12][COL["origin_area"]] = "Kunduz\nImam Sahib"
    # Record 310 (after the header) starts on physical line 310 + 1 + 6 = 317.
    rows[310][COL["birth_date"]] = "31.02.2011"
    text = to_csv(rows)
    assert text.split("\n")[316].count("31.02.2011") == 1  # line 317 in a text editor
    before = snapshot()

    batch = upload(text, user=admin_user)
    result = commit_batch(batch=batch, user=admin_user)

    assert batch.rows_total == 500
    assert batch.errors == [
        {"line": 317, "column": "birth_date", "message": "“31.02.2011” is not a real date."}
    ]
    assert result is None
    assert snapshot() == before


# --- real-world files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [("utf-8", False, ","), ("utf-8", True, ";"), ("cp1251", False, ";"), ("cp1251", False, ",")],
)
def test_it_reads_utf8_bom_and_windows_1251_with_commas_or_semicolons(
    admin_user, encoding, bom, delimiter
):
    rows = [
        header(),
        blank_row(
            household_reference="NEW-1",
            origin_area="Бадахшан;\nВахан, Памир",
            birth_date="12.03.1979",
            birth_date_precision="",
        ),
        blank_row(
            household_reference="NEW-1",
            relation="child",
            surname="Масадыкова",
            given_name="Айгерім",
            sex="F",
            birth_date="2012",
            origin_area="Бадахшан;\nВахан, Памир",
            occupation="'=not a formula",
        ),
    ]
    data = to_csv(rows, delimiter=delimiter).encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data

    batch = upload(data, user=admin_user)
    commit_batch(batch=batch, user=admin_user)

    assert (batch.encoding, batch.delimiter, batch.status) == (
        "cp1251" if encoding == "cp1251" else "utf-8",
        delimiter,
        "committed",
    )
    household = Household.objects.get()
    assert household.origin_area == "Бадахшан;\nВахан, Памир"
    assert list(
        household.members.order_by("pk").values_list(
            "surname",
            "given_name",
            "given_name_latin",
            "birth_date",
            "birth_date_precision",
            "occupation",
        )
    ) == [
        ("Ахметов", "Ерлан", "Erlan", dt.date(1979, 3, 12), "day", ""),
        ("Масадыкова", "Айгерім", "Aygerim", dt.date(2012, 1, 1), "year", "=not a formula"),
    ]


# --- creating, updating, round trip ----------------------------------------------------------


def test_it_opens_new_cases_with_references_and_history(admin_user):
    rows = [header(), *family_rows("NEW-1", size=3), *family_rows("", size=1, given_name="Жалғыз")]

    batch = upload(rows, user=admin_user)
    result = commit_batch(batch=batch, user=admin_user)

    year = dt.date.today().year
    assert (result.households_created, result.persons_created) == (2, 4)
    assert list(Household.objects.order_by("pk").values_list("reference", "status")) == [
        (f"KZ-{year}-00001", "draft"),
        (f"KZ-{year}-00002", "draft"),
    ]
    assert [m.count() for m in (h.members for h in Household.objects.order_by("pk"))] == [3, 1]
    assert list(StatusChange.objects.values_list("kind", "to_status", "changed_by")) == [
        ("created", "draft", admin_user.pk),
        ("created", "draft", admin_user.pk),
    ]
    assert (
        list(Person.history.values_list("history_type", "history_user"))
        == [("+", admin_user.pk)] * 4
    )
    log = AccessLog.objects.get()
    assert (log.kind, log.object_id, log.row_count, log.user) == (
        "import",
        str(batch.pk),
        4,
        admin_user,
    )


def test_it_round_trips_an_export_unchanged_and_writes_nothing(admin_user):
    make_family()
    make_family(surname="Ахметов", iin_start="75010130012", quota_year=2021)
    exported = to_csv(exported_persons())
    before = snapshot()

    batch = upload(exported, user=admin_user)
    result = commit_batch(batch=batch, user=admin_user)

    assert batch.summary["persons_unchanged"] == 6
    assert batch.summary["households_unchanged"] == 2
    assert batch.summary["changes"] == []
    assert result.committed
    assert snapshot() == before
    assert to_csv(exported_persons()) == exported


def test_it_imports_a_spreadsheet_edit_and_the_export_shows_exactly_those_changes(admin_user):
    household = make_family()
    make_family(surname="Ахметов", iin_start="75010130012")
    rows = parse_csv(to_csv(exported_persons()))
    rows[1][COL["phone"]] = "'+77019998877"
    rows[2][COL["occupation"]] = "teacher"
    rows[4][COL["origin_area"]] = rows[5][COL["origin_area"]] = rows[6][COL["origin_area"]] = (
        "Kunduz"
    )
    new_member = list(rows[3])
    new_member[COL["person_id"]] = ""
    new_member[COL["given_name"]], new_member[COL["given_name_latin"]] = "Жаңа", "Zhana"
    new_member[COL["birth_date"]] = "2019-07-01"
    rows.append(new_member)

    batch = upload(rows, user=admin_user)
    changes = [(c["line"], c["action"], c["kind"], c["fields"]) for c in batch.summary["changes"]]
    commit_batch(batch=batch, user=admin_user)

    assert changes == [
        (2, "update", "person", {"phone": ["+77011234567", "+77019998877"]}),
        (3, "update", "person", {"occupation": ["", "teacher"]}),
        (5, "update", "household", {"origin_area": ["Balkh, Mazar-i-Sharif", "Kunduz"]}),
        (8, "create", "person", {}),
    ]
    new_id = household.members.get(given_name="Жаңа").pk
    rows[-1][COL["person_id"]] = str(new_id)
    rows = [*rows[:4], rows[-1], *rows[4:-1]]  # the export lists members by household
    assert parse_csv(to_csv(exported_persons())) == rows


def test_it_refuses_to_move_a_person_to_another_household():
    make_family()
    other = make_family(surname="Ахметов", iin_start="75010130012")
    rows = parse_csv(to_csv(exported_persons()))
    rows[2][COL["household_reference"]] = other.reference

    batch = upload(rows)

    assert (2 + 1, "household_reference") in errors_of(batch)


# --- idempotency -------------------------------------------------------------------------------


def test_it_writes_nothing_when_the_same_upload_is_confirmed_twice(admin_user):
    rows = [header(), *family_rows("NEW-1")]
    batch = upload(rows, user=admin_user)
    commit_batch(batch=batch, user=admin_user)
    after_first = snapshot()

    second = commit_batch(batch=batch, user=admin_user)
    again = upload(rows, user=admin_user)
    third = commit_batch(batch=again, user=admin_user)

    assert (second, third) == (None, None)
    assert again.summary["already_imported"] == batch.pk
    assert snapshot() == after_first
    assert AccessLog.objects.count() == 1


# --- duplicates --------------------------------------------------------------------------------


def test_it_shows_exact_and_likely_duplicates_in_the_preview_and_queues_them(admin_user):
    household = make_family()  # head Масадыков Нурлан, born 1980 (year), passport "P 8001013"
    head = household.members.get(relation="head")
    rows = [
        header(),
        blank_row(
            household_reference="NEW-1",
            surname_latin="Masadykov",
            surname="",
            given_name="",
            given_name_latin="Nurlan",
            birth_date="14.06.1980",
        ),
        blank_row(household_reference="NEW-2", given_name="Ерболат", document_number="P-8001013"),
    ]

    batch = upload(rows, user=admin_user)
    commit_batch(batch=batch, user=admin_user)

    assert [(d["line"], d["reason"], d["other_id"]) for d in batch.summary["duplicates"]] == [
        (2, "Same name and date or year of birth", head.pk),
        (3, "Same document number", head.pk),
    ]
    assert list(
        DuplicateCandidate.objects.order_by("pk").values_list(
            "person__given_name_latin", "other", "reason", "status", "batch"
        )
    ) == [
        ("Nurlan", head.pk, "name_birth", "open", batch.pk),
        ("Erbolat", head.pk, "document", "open", batch.pk),
    ]


def test_it_looks_up_likely_duplicates_in_the_same_queries_for_2_or_8_namesakes(admin_user):
    def commit_namesake(reference: str) -> tuple[int, int]:
        row = blank_row(
            household_reference=reference,
            surname_latin="Masadykov",
            surname="",
            given_name="",
            given_name_latin="Nurlan",
            birth_date="14.06.1980",
            document_number="",
        )
        batch = upload([header(), row], user=admin_user)
        with CaptureQueriesContext(connection) as queries:
            commit_batch(batch=batch, user=admin_user)
        return len(queries), len(batch.summary["duplicates"])

    for index in range(2):
        make_family(iin_start=f"800101300{index:02d}", size=1)
    few = commit_namesake("NEW-1")
    for index in range(2, 8):
        make_family(iin_start=f"800101300{index:02d}", size=1)
    many = commit_namesake("NEW-2")

    # The second file also finds the person the first one imported.
    assert (few[1], many[1]) == (2, 9)
    assert few[0] == many[0]


def test_it_queues_the_same_new_person_twice_in_one_file_for_review(admin_user, admin_client):
    rows = [
        header(),
        blank_row(household_reference="NEW-1", surname="Сейткали", given_name="Марат",
                  birth_date="14.06.1980"),
        blank_row(household_reference="NEW-2", surname="Сейткали", given_name="Марат",
                  birth_date="1980"),  # only the year: still the same person, likely
        blank_row(household_reference="NEW-3", surname="Сейткали", given_name="Марат",
                  birth_date="1981"),
        blank_row(household_reference="NEW-4", surname="Сейткали", given_name="Данияр",
                  birth_date="14.06.1980"),
    ]  # fmt: skip

    batch = upload(rows, user=admin_user)

    listed = [(d["line"], d["reason"], d["other_line"]) for d in batch.summary["duplicates"]]
    assert listed == [(3, "Same name and date or year of birth", 2)]
    page = admin_client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk]))
    assert "line 2 of this file: Сейткали Марат (14.06.1980)" in page.content.decode()

    commit_batch(batch=batch, user=admin_user)

    assert Person.objects.filter(surname="Сейткали").count() == 4
    pair = DuplicateCandidate.objects.get()
    assert (pair.person.birth_date, pair.other.birth_date) == (
        dt.date(1980, 1, 1),
        dt.date(1980, 6, 14),
    )
    assert (pair.reason, pair.status, pair.batch) == ("name_birth", "open", batch)


def test_a_name_repeated_in_a_file_gives_one_pair_per_repeat(admin_user):
    rows = [header()] + [
        blank_row(household_reference=f"NEW-{n}", surname="Сейткали", given_name="Марат",
                  birth_date="1980")
        for n in range(5)
    ]  # fmt: skip

    batch = upload(rows, user=admin_user)
    commit_batch(batch=batch, user=admin_user)

    assert [(d["line"], d["other_line"]) for d in batch.summary["duplicates"]] == [
        (3, 2),
        (4, 2),
        (5, 2),
        (6, 2),
    ]
    first = Person.objects.filter(given_name="Марат").order_by("pk").first()
    assert set(DuplicateCandidate.objects.values_list("other", flat=True)) == {first.pk}
    assert DuplicateCandidate.objects.count() == 4


def test_it_finds_the_same_new_person_in_different_parts_of_a_long_file(admin_user, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    rows = [header()] + [
        blank_row(household_reference=f"NEW-{n}", surname="Сейткали", given_name=name,
                  birth_date="1980")
        for n, name in enumerate(["Марат", "Данияр", "Болат", "Айдос", "Марат"])
    ]  # fmt: skip

    batch = upload(rows, user=admin_user)
    commit_batch(batch=batch, user=admin_user)

    assert [(d["line"], d["other_line"], d["other_name"]) for d in batch.summary["duplicates"]] == [
        (6, 2, "Сейткали Марат (1980)")
    ]
    pair = DuplicateCandidate.objects.get()
    marats = Person.objects.filter(given_name="Марат").order_by("pk")
    assert (pair.other, pair.person) == tuple(marats)


# --- the command -------------------------------------------------------------------------------


def test_the_command_dry_runs_by_default_and_commits_with_the_flag(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text(to_csv([header(), *family_rows("NEW-1")]), encoding="utf-8")

    call_command("import_households", str(path))
    dry = capsys.readouterr().out
    count_after_dry_run = Person.objects.count()
    call_command("import_households", str(path), "--commit")
    committed = capsys.readouterr().out

    assert "households: 1 new" in dry
    assert "Dry run: nothing written" in dry
    assert count_after_dry_run == 0
    assert "Imported (batch" in committed
    assert Person.objects.count() == 2


def test_the_command_exits_non_zero_and_prints_the_row_errors(tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text(
        to_csv([header(), *family_rows("NEW-1"), blank_row(iin="800101300120")]), encoding="utf-8"
    )

    with pytest.raises(CommandError) as error:
        call_command("import_households", str(path), "--commit")

    assert error.value.returncode == 1
    assert "line 4, column iin: This IIN is not valid" in capsys.readouterr().err
    assert Person.objects.count() == 0


def test_the_command_exits_2_for_a_missing_file(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("import_households", str(tmp_path / "nope.csv"))

    assert error.value.returncode == 2
