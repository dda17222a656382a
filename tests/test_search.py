"""Search in any script and case, on SQLite and PostgreSQL alike: names, documents, IINs, references."""

from dataclasses import dataclass

import pytest

from resettlement.enums import Relation, Sex
from resettlement.models import Country, Household, Person, Region
from resettlement.selectors.search import search_by_key, search_households, search_persons
from resettlement.validators import make_iin

from .factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

IIN = make_iin("75010130012")


@dataclass
class Families:
    masadykov: Household  # Cyrillic names; two Masadykovs and the mother, Әлия Сәрсенбайқызы
    timur: Household  # a Latin-only name, as in a foreign passport
    akhmetov: Household
    masaliev: Household  # a near miss by name and by document number, in the other program


def person(household: Household, relation: str, surname: str, given_name: str, **fields) -> None:
    """A member with exactly these names (Latin ones derived unless given)."""
    fields = {"surname_latin": "", "given_name_latin": "", **fields}
    PersonFactory(
        household=household, relation=relation, surname=surname, given_name=given_name, **fields
    )


@pytest.fixture
def families(kz_program, kg_program) -> Families:
    masadykov = HouseholdFactory(program=kz_program)
    person(
        masadykov,
        Relation.HEAD,
        "Масадыков",
        "Нұрлан",
        iin=IIN,
        document_number="N 1234-56",
    )
    person(masadykov, Relation.SPOUSE, "Сәрсенбайқызы", "Әлия", sex=Sex.FEMALE)
    person(masadykov, Relation.CHILD, "Масадыков", "Ерлан", document_number="N7654321")

    timur = HouseholdFactory(program=kz_program)
    person(timur, Relation.HEAD, "", "", surname_latin="Masadykov", given_name_latin="Timur")

    akhmetov = HouseholdFactory(program=kz_program)
    person(akhmetov, Relation.HEAD, "Ахметов", "Ерлан")
    person(akhmetov, Relation.CHILD, "Ахметова", "Гульнара", sex=Sex.FEMALE)

    masaliev = HouseholdFactory(program=kg_program)
    person(masaliev, Relation.HEAD, "Масалиев", "Данияр", document_number="N1234-57")

    return Families(masadykov=masadykov, timur=timur, akhmetov=akhmetov, masaliev=masaliev)


def households_found(query: str) -> list[str]:
    found = search_households(Household.objects.all(), query)
    return sorted(found.values_list("reference", flat=True))


def persons_found(query: str) -> list[tuple[str, str]]:
    found = search_persons(Person.objects.all(), query)
    return sorted((p.household.reference, p.full_name) for p in found.select_related("household"))


@pytest.mark.parametrize("query", ["masadykov", "МАСАДЫКОВ", "масадыков", "Masadikov", "MASADYKOV"])
def test_it_finds_a_name_in_any_script_and_case(families, query):
    households = households_found(query)
    persons = persons_found(query)

    assert households == sorted([families.masadykov.reference, families.timur.reference])
    assert persons == sorted(
        [
            (families.masadykov.reference, "Масадыков Нұрлан"),
            (families.masadykov.reference, "Масадыков Ерлан"),
            (families.timur.reference, "Masadykov Timur"),
        ]
    )


def test_it_finds_a_latin_only_name_by_its_cyrillic_spelling(families):
    households = households_found("Масадыков Тимур")
    persons = persons_found("Тимур Масадыков")

    assert households == [families.timur.reference]
    assert persons == [(families.timur.reference, "Masadykov Timur")]


@pytest.mark.parametrize(
    "query", ["әлия", "ӘЛИЯ", "aliya", "Alia", "Сәрсенбайқызы Әлия", "sarsenbaiqyzy ALIYA"]
)
def test_it_finds_kazakh_letters_by_any_spelling(families, query):
    households = households_found(query)
    persons = persons_found(query)

    assert households == [families.masadykov.reference]
    assert persons == [(families.masadykov.reference, "Сәрсенбайқызы Әлия")]


def test_it_finds_only_people_who_match_every_word(families):
    households = households_found("ерлан масадыков")
    persons = persons_found("ерлан масадыков")

    assert households == [families.masadykov.reference]
    assert persons == [(families.masadykov.reference, "Масадыков Ерлан")]


def test_it_wants_every_word_to_match_the_same_member_of_a_household(families):
    # The household has a Масадыков and an Әлия, but no Әлия Масадыкова.
    households = households_found("Масадыков Әлия")
    persons = persons_found("Масадыков Әлия")

    assert (households, persons) == ([], [])


def test_it_lists_a_household_once_however_many_members_match(families):
    found = search_households(Household.objects.all(), "ерлан")

    assert sorted(found.values_list("reference", flat=True)) == sorted(
        [families.masadykov.reference, families.akhmetov.reference]
    )


@pytest.mark.parametrize("query", ["N1234-56", "n123456", "N-1234-56", "n1234.56", "N12/3456"])
def test_it_finds_a_document_number_ignoring_spaces_dashes_and_case(families, query):
    # Stored as "N 1234-56". (Typed with a space, it is still found: see the next test.)
    households = households_found(query)
    persons = persons_found(query)

    assert households == [families.masadykov.reference]
    assert persons == [(families.masadykov.reference, "Масадыков Нұрлан")]


def test_it_finds_a_document_number_typed_with_a_space(families):
    persons = persons_found("N 1234-56")

    assert persons == [(families.masadykov.reference, "Масадыков Нұрлан")]


def test_it_finds_a_person_by_exact_iin_only(families):
    exact = (households_found(IIN), persons_found(IIN))
    partial = (households_found(IIN[:11]), persons_found(IIN[:11]))

    assert exact == (
        [families.masadykov.reference],
        [(families.masadykov.reference, "Масадыков Нұрлан")],
    )
    assert partial == ([], [])


def test_it_finds_a_household_and_its_members_by_reference(families):
    reference = families.akhmetov.reference

    households = (households_found(reference), households_found(reference.lower()))
    persons = persons_found(reference.lower())

    assert households == ([reference], [reference])
    assert persons == sorted([(reference, "Ахметов Ерлан"), (reference, "Ахметова Гульнара")])


@pytest.mark.parametrize("query", ["Смагулов", "masadykov nurlanbek", "N1234567", "KZ-2098-00001"])
def test_it_finds_nothing_when_nothing_matches(families, query):
    assert (households_found(query), persons_found(query)) == ([], [])


def test_it_finds_a_near_miss_only_by_its_own_name_and_document(families):
    by_name = (households_found("масалиев"), persons_found("масалиев"))
    by_document = (households_found("n1234-57"), persons_found("n1234-57"))

    expected = ([families.masaliev.reference], [(families.masaliev.reference, "Масалиев Данияр")])
    assert (by_name, by_document) == (expected, expected)


def test_it_returns_everything_for_an_empty_query(families):
    assert households_found("  ") == sorted(
        h.reference
        for h in (families.masadykov, families.timur, families.akhmetov, families.masaliev)
    )


def test_it_searches_only_within_the_queryset_it_is_given(families, kg_program):
    households = search_households(Household.objects.filter(program=kg_program), "masa")
    persons = search_persons(Person.objects.filter(household__program=kg_program), "masa")

    assert list(households.values_list("reference", flat=True)) == [families.masaliev.reference]
    assert [p.full_name for p in persons] == ["Масалиев Данияр"]


def test_a_number_is_looked_up_once_and_many_matches_are_found_as_before(families, monkeypatch):
    """A term with digits (IIN, document, reference number) finds its few households in one
    statement; past ``RESOLVE_LIMIT`` matching rows the search runs as a subquery, with the same result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import resettlement.selectors.search as search

    with CaptureQueriesContext(connection) as queries:
        found = search_households(Household.objects.all(), IIN)
        assert list(found.values_list("reference", flat=True)) == [families.masadykov.reference]
    assert "union" not in queries[-1]["sql"].lower()  # the list reads the ids it was given

    every = sorted(h.reference for h in Household.objects.filter(reference__icontains="20"))
    assert len(every) == 4
    assert households_found("20") == every
    monkeypatch.setattr(search, "RESOLVE_LIMIT", 2)
    assert households_found("20") == every
    with CaptureQueriesContext(connection) as queries:
        list(search_households(Household.objects.all(), "20"))
    assert "union" in queries[-1]["sql"].lower()


@pytest.mark.parametrize(
    ("model", "query", "codes"),
    [
        (Country, "Ауғанстан", ["AF"]),
        (Country, "AFGHANISTAN", ["AF"]),
        (Country, "ооганстан", ["AF"]),
        (Region, "астана", ["KZ-71"]),
        (Region, "алай", ["KG-O-ALA", "KG-O-CHA"]),
        (Region, "Чоң-Алай", ["KG-O-CHA"]),
        (Region, "alai district chong", ["KG-O-CHA"]),
    ],
)
def test_it_finds_reference_rows_by_any_of_their_names(model, query, codes):
    found = search_by_key(model.objects.all(), query)

    assert sorted(found.values_list("code", flat=True)) == codes


def test_a_household_search_knows_how_many_it_found_unless_the_list_is_filtered(
    families, kg_program
):
    from resettlement.selectors.search import search_households_counted

    found, count = search_households_counted(Household.objects.all(), "20")
    filtered, unknown = search_households_counted(
        Household.objects.filter(program=kg_program), "20"
    )

    assert count == found.count() == 4
    assert unknown is None
    assert (
        filtered.count()
        == Household.objects.filter(program=kg_program, reference__icontains="20").count()
    )


def test_a_name_shared_by_several_members_finds_their_household_once(families):
    from resettlement.selectors.search import search_households_counted

    # Two Masadykovs in one household, one (in Latin) in another.
    found, count = search_households_counted(Household.objects.all(), "масадыков")

    assert sorted(found.values_list("reference", flat=True)) == sorted(
        [families.masadykov.reference, families.timur.reference]
    )
    assert count == 2
