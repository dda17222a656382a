"""Retention: closed cases are anonymised in the tables and their history, once."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from resettlement.models import Household, Person, RetentionRun, StatusChange
from resettlement.services.cases import case_transition

from .access_fixtures import household_in

pytestmark = pytest.mark.django_db


def closed_case(surname: str, closed_on: dt.date) -> Household:
    household = household_in("KZ-KANDAS", "KZ-55", surname, on=dt.date(2020, 1, 10))
    household.origin_area = "Balkh, Mazar-i-Sharif"
    household.save()
    person = household.members.get()
    person.occupation = "teacher"
    person.save()
    case_transition(
        household=household, to="withdrawn", by=None, reason=f"{surname} asked", on=closed_on
    )
    case_transition(household=household, to="closed", by=None, on=closed_on)
    return household


def test_it_anonymises_old_closed_cases_in_tables_and_history_and_keeps_the_counts():
    old = closed_case("Ахметов", dt.date(2020, 3, 1))
    recent = closed_case("Бекова", timezone.localdate() - dt.timedelta(days=30))
    open_case = household_in("KZ-KANDAS", "KZ-55", "Серикова")

    call_command("anonymise_closed_cases", "--older-than-days", "365", stdout=io.StringIO())

    person = old.members.get()
    assert (
        person.surname,
        person.surname_latin,
        person.given_name,
        person.document_number,
        person.phone,
        person.occupation,
        person.birth_date,
        person.birth_date_precision,
        person.sex,
        person.relation,
    ) == ("", "ANONYMISED", "", "", "", "", dt.date(1980, 1, 1), "year", "M", "head")
    assert [
        (h.surname, h.document_number, h.phone, h.occupation, h.birth_date)
        for h in person.history.all()
    ] == [("", "", "", "", dt.date(1980, 1, 1))] * person.history.count()
    old.refresh_from_db()
    assert (old.origin_area, old.anonymised_on is not None, old.status) == ("", True, "closed")
    assert {h.origin_area for h in old.history.all()} == {""}
    assert set(StatusChange.objects.filter(household=old).values_list("reason", flat=True)) == {""}
    assert recent.members.get().surname == "Бекова"
    assert open_case.members.get().surname == "Серикова"
    assert Person.objects.count() == 3


def test_it_changes_nothing_on_a_second_run_and_logs_both_runs():
    closed_case("Ахметов", dt.date(2020, 3, 1))
    call_command("anonymise_closed_cases", "--older-than-days", "365", stdout=io.StringIO())
    person_rows = list(Person.objects.values())
    history_rows = list(Person.history.values())

    call_command("anonymise_closed_cases", "--older-than-days", "365", stdout=io.StringIO())

    assert list(Person.objects.values()) == person_rows
    assert list(Person.history.values()) == history_rows
    runs = list(RetentionRun.objects.order_by("id").values_list("households", "persons"))
    assert runs == [(1, 1), (0, 0)]
