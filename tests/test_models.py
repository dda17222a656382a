"""Rules the database holds: unique references, one head, unique IINs, dates in order, quotas,
the region tree, append-only history; and the names a person's save derives."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from resettlement.enums import CaseStatus, HistoryKind, Relation
from resettlement.models import Household, Person, Region, RegionQuota, StatusChange
from resettlement.services.cases import open_case
from resettlement.validators import make_iin

from .factories import (
    HouseholdFactory,
    PersonFactory,
    QuotaFactory,
    make_household,
    region,
)

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)
DAY_BEFORE = dt.date(2026, 3, 9)


# Households


def test_it_refuses_a_reference_twice_in_one_program(kz_program):
    HouseholdFactory(program=kz_program, reference="KZ-2026-00007")

    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdFactory(program=kz_program, reference="KZ-2026-00007")

    assert list(Household.objects.values_list("reference", flat=True)) == ["KZ-2026-00007"]


def test_it_allows_the_same_reference_in_the_other_program(kz_program, kg_program):
    HouseholdFactory(program=kz_program, reference="2026-00007")

    HouseholdFactory(program=kg_program, reference="2026-00007")

    assert sorted(Household.objects.values_list("program__code", "reference")) == [
        ("KG-KAYRYLMAN", "2026-00007"),
        ("KZ-KANDAS", "2026-00007"),
    ]


def test_it_explains_a_duplicate_reference_on_full_clean(kz_program):
    HouseholdFactory(program=kz_program, reference="KZ-2026-00007")
    duplicate = HouseholdFactory.build(program=kz_program, reference="KZ-2026-00007")

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert error.value.messages == ["Another household of this program has this reference."]


def test_it_refuses_an_empty_reference_in_the_database():
    with pytest.raises(IntegrityError, match="household_reference_not_empty"), transaction.atomic():
        HouseholdFactory(reference="")


DATE_RULES = [
    (
        {"applied_on": DAY, "decided_on": DAY_BEFORE},
        "household_decision_after_application",
        "The decision date cannot be before the application date.",
    ),
    (
        {"status_granted_on": DAY, "status_expires_on": DAY_BEFORE},
        "household_expiry_after_grant",
        "The status cannot expire before it was granted.",
    ),
    (
        {"residence_permit_on": DAY, "citizenship_on": DAY_BEFORE},
        "household_citizenship_after_permit",
        "Citizenship cannot come before the residence permit.",
    ),
]


@pytest.mark.parametrize(("dates", "constraint", "message"), DATE_RULES)
def test_it_refuses_dates_out_of_order_in_the_database(dates, constraint, message):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        HouseholdFactory(**dates)

    assert Household.objects.count() == 0


@pytest.mark.parametrize(("dates", "constraint", "message"), DATE_RULES)
def test_it_explains_dates_out_of_order_on_full_clean(dates, constraint, message):
    household = HouseholdFactory.build(**dates)

    with pytest.raises(ValidationError) as error:
        household.full_clean()

    assert error.value.message_dict == {"__all__": [message]}


def test_it_accepts_dates_on_the_same_day_and_missing_dates():
    household = HouseholdFactory(
        applied_on=DAY,
        decided_on=DAY,
        status_granted_on=DAY,
        status_expires_on=DAY,
        residence_permit_on=None,
        citizenship_on=DAY_BEFORE,
    )

    household.full_clean()  # does not raise
    assert Household.objects.filter(pk=household.pk).values_list(
        "applied_on", "decided_on", "status_granted_on", "status_expires_on", "citizenship_on"
    ).get() == (DAY, DAY, DAY, DAY, DAY_BEFORE)


def test_it_wants_a_destination_region_for_a_family_in_the_quota():
    household = HouseholdFactory.build(quota_year=2026, destination_region=None)

    with pytest.raises(ValidationError) as error:
        household.full_clean()

    assert error.value.message_dict == {
        "destination_region": ["A family in the quota needs a destination region."]
    }


def test_it_protects_a_household_with_status_history_from_deletion(kz_program, officer):
    household = open_case(
        household=HouseholdFactory.build(program=kz_program, reference=""), by=officer, on=DAY
    )

    with pytest.raises(ProtectedError), transaction.atomic():
        household.delete()

    assert Household.objects.filter(pk=household.pk).exists()
    assert household.status_changes.count() == 1


def test_it_deletes_a_household_without_history_with_its_members():
    household = make_household(members=3)

    household.delete()

    assert (Household.objects.count(), Person.objects.count()) == (0, 0)


# Status history


def test_it_refuses_to_edit_a_status_change(kz_program, officer):
    household = open_case(
        household=HouseholdFactory.build(program=kz_program, reference=""), by=officer, on=DAY
    )
    change = household.status_changes.get()
    change.reason = "rewritten"
    change.to_status = CaseStatus.GRANTED

    with pytest.raises(ValidationError) as error:
        change.save()

    assert error.value.messages == ["Status history is append-only; it cannot be edited."]
    assert list(household.status_changes.values_list("kind", "to_status", "reason")) == [
        (HistoryKind.CREATED, CaseStatus.DRAFT, "")
    ]


def test_it_refuses_to_delete_a_status_change(kz_program, officer):
    household = open_case(
        household=HouseholdFactory.build(program=kz_program, reference=""), by=officer, on=DAY
    )
    change = household.status_changes.get()

    with pytest.raises(ValidationError) as error:
        change.delete()

    assert error.value.messages == ["Status history is append-only; it cannot be deleted."]
    assert list(StatusChange.objects.filter(household=household).values_list("pk", flat=True)) == [
        change.pk
    ]


# Persons


def test_it_refuses_a_second_head_of_household():
    household = make_household(members=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(household=household, relation=Relation.HEAD)

    assert list(household.members.values_list("relation", flat=True)) == [Relation.HEAD]


def test_it_explains_a_second_head_on_full_clean():
    household = make_household(members=1)
    second_head = PersonFactory.build(household=household, relation=Relation.HEAD)

    with pytest.raises(ValidationError) as error:
        second_head.full_clean()

    assert error.value.messages == ["A household has exactly one head."]


def test_it_allows_one_head_in_each_household_and_many_other_members():
    first = make_household(members=3)
    second = make_household(members=2)

    assert sorted(Person.objects.values_list("household__reference", "relation")) == [
        (first.reference, Relation.CHILD),
        (first.reference, Relation.CHILD),
        (first.reference, Relation.HEAD),
        (second.reference, Relation.CHILD),
        (second.reference, Relation.HEAD),
    ]


def test_it_refuses_an_iin_that_another_person_has():
    iin = make_iin("75010130012")
    PersonFactory(iin=iin)

    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(iin=iin)

    assert list(Person.objects.values_list("iin", flat=True)) == [iin]


def test_it_explains_a_duplicate_iin_on_full_clean():
    iin = make_iin("75010130012")
    PersonFactory(iin=iin)
    duplicate = PersonFactory.build(household=HouseholdFactory(), iin=iin)

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert error.value.messages == ["Another person already has this IIN."]


def test_it_allows_many_people_without_an_iin():
    PersonFactory.create_batch(3, iin="")

    assert list(Person.objects.values_list("iin", flat=True)) == ["", "", ""]


def test_it_refuses_a_person_without_a_surname_in_either_script():
    household = HouseholdFactory()

    with pytest.raises(IntegrityError, match="person_has_a_surname"), transaction.atomic():
        PersonFactory(household=household, surname="", surname_latin="", given_name="Әлия")

    assert household.members.count() == 0


def test_it_accepts_a_surname_in_latin_script_only():
    person = PersonFactory(surname="", given_name="", surname_latin="Masadykov")

    assert Person.objects.filter(pk=person.pk).values_list("surname", "surname_latin").get() == (
        "",
        "Masadykov",
    )


def test_it_fills_latin_names_and_the_search_keys_on_save():
    person = PersonFactory(
        surname="Сәрсенбайқызы",
        given_name="Әлия",
        patronymic="",
        surname_latin="",
        given_name_latin="",
        patronymic_latin="",
        document_number="n 1234-56",
    )

    saved = Person.objects.filter(pk=person.pk).values(
        "surname",
        "given_name",
        "patronymic",
        "surname_latin",
        "given_name_latin",
        "patronymic_latin",
        "search_key",
        "document_key",
    )
    assert list(saved) == [
        {
            "surname": "Сәрсенбайқызы",
            "given_name": "Әлия",
            "patronymic": "",
            "surname_latin": "Sarsenbaykyzy",
            "given_name_latin": "Aliya",
            "patronymic_latin": "",
            "search_key": "sarsenbaikizi alia sarsenbaikizi alia",
            "document_key": "N123456",
        }
    ]


def test_it_keeps_a_latin_spelling_that_was_entered():
    person = PersonFactory(
        surname="Масадыков",
        given_name="Жұлдыз",
        patronymic="",
        surname_latin="Massadykov",
        given_name_latin="",
    )

    person.refresh_from_db()
    assert (person.surname_latin, person.given_name_latin, person.search_key) == (
        "Massadykov",
        "Zhuldyz",
        "masadikov juldiz massadikov juldiz",
    )


def test_it_refreshes_the_search_key_when_a_name_is_edited():
    person = PersonFactory(surname="", given_name="", surname_latin="Masadykov")
    person.surname_latin = "Akhmetov"

    person.save()

    person.refresh_from_db()
    assert person.search_key == "ahmetov"


# Reference data


def test_it_refuses_a_negative_quota():
    with pytest.raises(IntegrityError), transaction.atomic():
        QuotaFactory(places=-1)

    assert RegionQuota.objects.filter(year__gte=2100).count() == 0


def test_it_refuses_a_second_quota_for_a_program_region_and_year(kz_program):
    QuotaFactory(program=kz_program, region=region("KZ-71"), year=2030, places=10)

    with pytest.raises(IntegrityError), transaction.atomic():
        QuotaFactory(program=kz_program, region=region("KZ-71"), year=2030, places=20)

    assert list(
        RegionQuota.objects.filter(year=2030).values_list("program__code", "region__code", "places")
    ) == [("KZ-KANDAS", "KZ-71", 10)]


def test_it_allows_quotas_for_other_years_regions_and_programs(kz_program, kg_program):
    QuotaFactory(program=kz_program, region=region("KZ-71"), year=2030, places=10)
    QuotaFactory(program=kz_program, region=region("KZ-71"), year=2031, places=11)
    QuotaFactory(program=kz_program, region=region("KZ-55"), year=2030, places=12)
    QuotaFactory(program=kg_program, region=region("KZ-71"), year=2030, places=13)

    assert sorted(
        RegionQuota.objects.filter(year__in=[2030, 2031]).values_list(
            "program__code", "region__code", "year", "places"
        )
    ) == [
        ("KG-KAYRYLMAN", "KZ-71", 2030, 13),
        ("KZ-KANDAS", "KZ-55", 2030, 12),
        ("KZ-KANDAS", "KZ-71", 2030, 10),
        ("KZ-KANDAS", "KZ-71", 2031, 11),
    ]


@pytest.mark.parametrize(
    ("level", "parent_code"),
    [("oblast", None), ("district", None), ("city", None), ("country", "KZ")],
)
def test_it_refuses_a_region_whose_parent_does_not_match_its_level(level, parent_code):
    parent = region(parent_code) if parent_code else None

    with pytest.raises(IntegrityError, match="region_parent_matches_level"), transaction.atomic():
        Region.objects.create(code="XX-1", name_en="Nowhere", level=level, parent=parent)

    assert not Region.objects.filter(code="XX-1").exists()


@pytest.mark.parametrize(
    ("level", "parent_code"),
    [("oblast", "KZ"), ("district", "KG-O"), ("city", "KG"), ("country", None)],
)
def test_it_accepts_a_region_whose_parent_matches_its_level(level, parent_code):
    parent = region(parent_code) if parent_code else None

    Region.objects.create(code="XX-1", name_en="Nowhere", level=level, parent=parent)

    assert Region.objects.filter(code="XX-1").values_list("level", "parent__code").get() == (
        level,
        parent_code,
    )
