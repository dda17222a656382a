"""Household summaries (what reports and lists read instead of people) are right after every write.

Each test makes a write through a real path — a save, a move, a delete, a status change, new age
band limits, a CSV import, anonymisation — and checks (1) the figure a user sees right after it
and (2) that the stored summaries equal a from-scratch recomputation.
"""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Q, Value
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resettlement.csv_format import PERSON_COLUMNS
from resettlement.enums import DatePrecision, Education, Relation
from resettlement.models import AgeBandLimits, Household, HouseholdSummary, Person, Program
from resettlement.models.summaries import (
    AGE_BAND_CODES,
    COUNTERS,
    HEAD_NAMES,
    SEXES,
    age_field,
    education_field,
)
from resettlement.selectors.reports import with_age_band
from resettlement.services.cases import case_transition
from resettlement.services.imports import commit_batch, create_batch
from resettlement.services.summaries import GONE, refresh_household_summaries

from .imports_fixtures import blank_row, make_family, to_csv
from .test_retention import closed_case

pytestmark = pytest.mark.django_db

HOUSEHOLDS = reverse("admin:resettlement_household_changelist")


def stored() -> list[tuple]:
    summaries = list(
        HouseholdSummary.objects.order_by("pk").values_list("pk", *HEAD_NAMES, *COUNTERS)
    )
    counts = list(
        Household.objects.order_by("pk").values_list("pk", "member_count", "members_present")
    )
    return summaries + counts


def assert_same_as_recomputed() -> None:
    before = stored()
    refresh_household_summaries()
    assert before == stored()


def summary(household: Household) -> dict:
    return HouseholdSummary.objects.filter(pk=household.pk).values(*HEAD_NAMES, *COUNTERS).get()


def report_table(client, name: str, table: str, **params) -> list[tuple]:
    response = client.get(reverse("reports:report", args=[name]), params)
    assert response.status_code == 200
    return {t["table"].code: t["table"] for t in response.context["tables"]}[table].rows


def test_it_counts_members_saved_moved_and_deleted(admin_client):
    first = make_family(surname="Ахметов", size=3)
    second = make_family(surname="Бекова", size=2, iin_start="80010130020")
    child = first.members.filter(relation="child").first()

    child.household = second
    child.save()
    moved = (summary(first)["people"], summary(second)["people"])
    second.members.filter(relation="child").exclude(pk=child.pk).first().delete()
    after_delete = summary(second)["people"]
    Person.objects.create(household=first, relation="child", surname="Ахметова", sex="F")

    assert (moved, after_delete, summary(first)["people"]) == ((2, 3), 2, 3)
    response = admin_client.get(HOUSEHOLDS)
    shown = {
        h.reference: (h.member_count, h.head_surname) for h in response.context["cl"].result_list
    }
    assert shown == {first.reference: (3, "Ахметов"), second.reference: (2, "Бекова")}
    assert_same_as_recomputed()


def test_it_shows_an_arrival_in_the_reports_right_after_the_status_change(admin_client):
    household = make_family(surname="Ахметов", size=3)
    for status in ("applied", "under_review", "granted", "in_transit"):
        case_transition(household=household, to=status, by=None, on=dt.date(2025, 3, 1))
    before = report_table(admin_client, "demographics", "age")

    case_transition(household=household, to="arrived", by=None, on=dt.date(2025, 4, 10))

    # Head born 1980 (year only): working age; two girls born 2010: minors.
    assert before == []
    assert report_table(admin_client, "demographics", "age") == [
        ("minor", "Minors", 2, 0, 2),
        ("working", "Working age", 0, 1, 1),
    ]
    assert report_table(admin_client, "arrivals", "by_country") == [("AF", "Afghanistan", 1, 3)]
    assert_same_as_recomputed()


def test_it_moves_people_between_age_bands_when_the_limits_change(admin_client):
    household = make_family(surname="Ахметов", size=1)  # a man born 1980
    for status in ("applied", "under_review", "granted", "in_transit", "arrived"):
        case_transition(household=household, to=status, by=None, on=dt.date(2025, 4, 10))

    limits, _created = AgeBandLimits.objects.get_or_create(
        program=Program.objects.get(code="KZ-KANDAS"), sex="M"
    )
    limits.pension_from = 45
    limits.save()

    assert report_table(admin_client, "demographics", "age") == [
        ("pension", "Pension age", 0, 1, 1)
    ]
    assert_same_as_recomputed()


def test_it_counts_people_written_by_a_csv_import(admin_client, admin_user):
    rows = [
        list(PERSON_COLUMNS),
        blank_row(household_reference="NEW-1"),
        blank_row(household_reference="NEW-1", relation="child", given_name="Айгүл", sex="F"),
    ]
    batch = create_batch(data=to_csv(rows).encode(), file_name="people.csv", user=admin_user)
    assert batch.status == "ready", batch.errors

    commit_batch(batch=batch, user=admin_user)

    household = Household.objects.get()
    assert (household.member_count, summary(household)["head_surname"]) == (2, "Ахметов")
    response = admin_client.get(HOUSEHOLDS)
    assert [(h.member_count, h.head_surname) for h in response.context["cl"].result_list] == [
        (2, "Ахметов")
    ]
    assert_same_as_recomputed()


def test_it_blanks_the_head_name_when_a_case_is_anonymised():
    old = closed_case("Ахметов", dt.date(2020, 3, 1))
    assert summary(old)["head_surname"] == "Ахметов"

    call_command("anonymise_closed_cases", "--older-than-days", "365", stdout=io.StringIO())

    assert (summary(old)["head_surname"], summary(old)["head_surname_latin"]) == (
        "",
        "ANONYMISED",
    )
    assert_same_as_recomputed()


def test_it_has_no_summary_for_a_household_without_members_and_counts_zero():
    household = make_family(surname="Ахметов", size=1)
    household.members.get().delete()

    household.refresh_from_db()
    assert (household.member_count, HouseholdSummary.objects.filter(pk=household.pk).exists()) == (
        0,
        False,
    )
    assert_same_as_recomputed()


def test_it_recomputes_everything_with_the_command():
    household = make_family(surname="Ахметов", size=2)
    HouseholdSummary.objects.all().delete()
    Household.objects.update(member_count=0)

    out = io.StringIO()
    call_command("refresh_report_summaries", stdout=out)

    household.refresh_from_db()
    assert (out.getvalue(), household.member_count, summary(household)["people"]) == (
        "1 household summaries, 0 monthly payment summaries\n",
        2,
        2,
    )


#: Born the day before, the day after and 63 years before an arrival on 29 February 2024.
EDGE_BIRTHS = [dt.date(2006, 2, 28), dt.date(2006, 3, 1), dt.date(1961, 2, 28), None, None]


def families_arrived_on_29_february(size: int, **columns: list) -> list[Household]:
    """A family in each program, arrived on 29 February 2024; member n takes ``columns[…][n]``."""
    families = []
    for program, surname, iin in (
        ("KZ-KANDAS", "Ахметов", "80010130012"),
        ("KG-KAYRYLMAN", "Бекова", "81010130012"),
    ):
        family = make_family(surname=surname, size=size, iin_start=iin)
        Household.objects.filter(pk=family.pk).update(
            program=Program.objects.get(code=program), arrived_on=dt.date(2024, 2, 29)
        )
        for n, person in enumerate(family.members.order_by("pk")):
            Person.objects.filter(pk=person.pk).update(
                birth_date_precision=DatePrecision.EXACT,
                **{column: values[n] for column, values in columns.items()},
            )
        families.append(family)
    return families


def test_a_refresh_of_listed_households_counts_age_bands_as_the_full_recomputation():
    # The listed refresh joins the households through their own list; its age bands (age on
    # arrival, each program's limits) must come out as the whole register's recomputation.
    families = families_arrived_on_29_february(4, birth_date=EDGE_BIRTHS[:4])
    HouseholdSummary.objects.all().delete()

    refresh_household_summaries([f.pk for f in families])

    listed = stored()
    assert {summary(f)["unknown_m"] + summary(f)["unknown_f"] for f in families} == {1}
    refresh_household_summaries()
    assert stored() == listed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plans")
def test_a_refresh_of_listed_households_reads_only_those_households():
    families = [make_family(size=2, iin_start=f"8{n}010130012") for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        refresh_household_summaries([f.pk for f in families[:2]])
    (counting,) = [q["sql"] for q in queries if q["sql"].startswith("INSERT INTO")]
    with connection.cursor() as cursor:
        # In a register of a million people PostgreSQL chose to scan every household and
        # hash-join the few listed. Forbid the scan and the per-row look-up, as a big table
        # would make them: the households must still be found by the list itself.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("EXPLAIN " + counting)
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "Index Cond: (id = ANY" in plan, plan  # the households' key, by the list


def orm_counters() -> dict:
    """The summary's columns as ORM aggregates over ``with_age_band`` people: what the counting
    statement of ``services.summaries`` must give."""
    expressions = {
        "people": Count("pk"),
        "people_present": Count("pk", filter=~Q(member_status__in=GONE)),
    }
    for band in AGE_BAND_CODES:
        for sex in SEXES:
            expressions[age_field(band, sex)] = Count("pk", filter=Q(sex=sex, age_band=band))
    for education in Education:
        for sex in SEXES:
            condition = Q(education=education.value)
            if education == Education.UNKNOWN:
                condition |= Q(education="")  # a blank education counts as unknown
            expressions[education_field(education.value, sex)] = Count(
                "pk", filter=condition & Q(sex=sex)
            )
    head = Q(relation=Relation.HEAD)
    for name in HEAD_NAMES:
        expressions[name] = Coalesce(Max(name.removeprefix("head_"), filter=head), Value(""))
    return expressions


def test_the_counting_statement_counts_as_the_orm_expressions_do():
    # The summaries are counted by one SQL statement over a subquery (each person's age band
    # worked out once); the ORM's expressions in services.summaries say what it must give.
    families_arrived_on_29_february(
        5,
        birth_date=EDGE_BIRTHS,
        education=["", "unknown", "higher", "none", "secondary"],
        member_status=["arrived", "left", "deceased", "abroad", "arrived"],
        sex=["M", "F", "M", "F", "M"],
    )
    headless = make_family(surname="Сейткали", size=2, iin_start="82010130012")
    headless.members.filter(relation="head").update(relation="spouse")

    refresh_household_summaries()

    by_orm = (
        with_age_band(Person.objects.all())
        .order_by()
        .values("household_id")
        .annotate(**orm_counters())
        .values_list("household_id", *HEAD_NAMES, *COUNTERS)
    )
    stored_rows = HouseholdSummary.objects.values_list("pk", *HEAD_NAMES, *COUNTERS)
    assert sorted(stored_rows) == sorted(by_orm)
    assert len(stored_rows) == 3
    assert summary(headless)["head_surname"] == ""
