"""The synthetic register is consistent with what the case services would have written."""

import datetime as dt
import itertools
from collections import defaultdict

import pytest
from django.core.management import call_command

from resettlement.enums import TRANSITIONS, HistoryKind, Relation
from resettlement.models import Household, Person, StatusChange
from resettlement.services.cases import add_months
from resettlement.synthetic import generate
from resettlement.text import normalise_document_number
from resettlement.validators import iin_checksum_ok

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 30)


def snapshot() -> list[tuple]:
    return list(
        Person.objects.order_by("id").values_list(
            "household__reference", "surname", "given_name", "iin", "document_number", "birth_date"
        )
    )


def test_it_writes_the_number_of_people_asked_for_in_households_of_1_to_12():
    counts = generate(persons=600, seed=5, as_of=AS_OF)

    sizes = defaultdict(int)
    for household_id in Person.objects.values_list("household_id", flat=True):
        sizes[household_id] += 1
    assert counts["person"] == Person.objects.count() == 600
    assert counts["household"] == Household.objects.count() == len(sizes)
    assert set(sizes.values()) <= set(range(1, 13))
    assert Household.objects.filter(is_demo=False).count() == 0
    assert Person.objects.filter(is_demo=False).count() == 0


def test_it_walks_each_case_through_the_transition_table_with_dates_in_order():
    generate(persons=600, seed=6, as_of=AS_OF)

    history = defaultdict(list)
    for change in StatusChange.objects.order_by("household_id", "id"):
        history[change.household_id].append(change)
    for household in Household.objects.select_related("program"):
        changes = history[household.pk]
        assert changes[0].kind == HistoryKind.CREATED
        assert changes[0].to_status == "draft"
        for before, after in itertools.pairwise(changes):
            assert after.effective_on >= before.effective_on
            if after.kind == HistoryKind.TRANSITION:
                assert after.from_status == before.to_status
                assert after.to_status in TRANSITIONS[before.to_status]
        assert changes[-1].to_status == household.status
        assert all(c.effective_on <= AS_OF for c in changes)
        household.full_clean()  # the check constraints and the quota rule
        if household.status_granted_on and not household.extensions_used:
            assert household.status_expires_on == add_months(
                household.status_granted_on, household.program.status_validity_months
            )


def test_it_fills_the_derived_fields_as_saving_a_person_would():
    generate(persons=300, seed=7, as_of=AS_OF)

    for person in Person.objects.all()[:300]:
        stored = (person.surname_latin, person.search_key, person.document_key)
        person.surname_latin = ""
        person.refresh_derived_fields()
        assert (person.surname_latin, person.search_key, person.document_key) == stored
        assert person.document_key == normalise_document_number(person.document_number)


def test_it_gives_valid_unique_iins_unique_references_and_one_head_per_household():
    generate(persons=800, seed=8, as_of=AS_OF)

    iins = list(Person.objects.exclude(iin="").values_list("iin", flat=True))
    references = list(Household.objects.values_list("program_id", "reference"))
    assert iins
    assert all(iin_checksum_ok(iin) for iin in iins)
    assert len(set(iins)) == len(iins)
    assert len(set(references)) == len(references)
    assert all(ref.split("-")[0] in ("KZ", "KG") for _, ref in references)
    assert Person.objects.filter(relation=Relation.HEAD).count() == Household.objects.count()


def test_it_is_deterministic_for_a_seed_and_continues_numbering_after_existing_cases():
    generate(persons=200, seed=9, as_of=AS_OF)
    first = snapshot()
    Person.objects.all().delete()
    StatusChange.objects.all()._raw_delete(StatusChange.objects.db)
    Household.objects.all().delete()

    generate(persons=200, seed=9, as_of=AS_OF)
    again = snapshot()
    call_command("generate_synthetic", persons=50, seed=9, as_of=AS_OF, verbosity=0)

    assert [row[1:] for row in again] == [row[1:] for row in first]
    assert Household.objects.values("program", "reference").distinct().count() == (
        Household.objects.count()
    )
