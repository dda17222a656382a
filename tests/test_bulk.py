"""services.bulk writes what the ORM's bulk_create_with_history writes, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from resettlement.enums import CaseStatus, DatePrecision, HistoryKind, Relation, Sex
from resettlement.models import Household, Person, StatusChange
from resettlement.services.bulk import create_objects, create_with_history, insert_rows
from resettlement.services.cases import open_cases

from .factories import country, program, region

pytestmark = pytest.mark.django_db

#: Filled by the database or the writer, so different for two rows that are otherwise the same.
ROW_IDS = {"id", "reference", "household", "created_at"}
HISTORY_IDS = {"history_id", "id", "history_date", "reference", "household_id", "created_at"}


def _household(reference: str) -> Household:
    return Household(
        program=program(),
        reference=reference,
        origin_country=country("AF"),
        origin_area="Balkh, Mazar-i-Sharif",
        destination_region=region("KZ-55"),
        status=CaseStatus.DRAFT,
        notes='Line one\nline two; "quoted", tab\there',
        applied_on=dt.date(2021, 9, 9),
        # Not a str: it goes through the field's own conversion, as in the ORM.
        certificate_number=12345,
    )


def _people(household: Household) -> list[Person]:
    people = [
        Person(
            household=household,
            relation=Relation.HEAD,
            surname="Масадыков",
            given_name="Ерлан",
            surname_latin="Masadykov",
            sex=Sex.MALE,
            birth_date=dt.date(1979, 1, 1),
            birth_date_precision=DatePrecision.YEAR,
            citizenship=country("AF"),
            iin="",
        ),
        Person(
            household=household,
            relation=Relation.CHILD,
            surname="Әлия",
            given_name="",
            sex=Sex.FEMALE,
            birth_date=None,
        ),
    ]
    for person in people:
        person.refresh_derived_fields()
    return people


def _row(obj, exclude=ROW_IDS) -> dict:
    obj.refresh_from_db()
    return {k: v for k, v in model_to_dict(obj).items() if k not in exclude}


def _history(obj) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in HISTORY_IDS} for row in obj.history.values()]


def test_households_and_people_are_stored_as_the_orm_stores_them():
    user = get_user_model().objects.create_user("writer")
    orm, fast = _household("KZ-2099-90001"), _household("KZ-2099-90002")
    bulk_create_with_history([orm], Household, default_user=user)
    create_with_history([fast], user=user)

    assert fast.pk is not None
    assert fast.pk != orm.pk
    assert _row(fast) == _row(orm)
    assert fast.created_at is not None  # auto_now_add ran, as in bulk_create
    assert Household.objects.get(pk=fast.pk).certificate_number == "12345"
    assert _history(fast) == _history(orm)
    assert fast.history.get().history_user == user
    assert fast.history.get().history_type == "+"

    orm_people, fast_people = _people(orm), _people(fast)
    bulk_create_with_history(orm_people, Person, default_user=user)
    create_with_history(fast_people, user=user)
    for a, b in zip(orm_people, fast_people, strict=True):
        assert _row(b) == _row(a)
        assert _history(b) == _history(a)
    assert Person.objects.get(pk=fast_people[1].pk).surname == "Әлия"
    assert Person.objects.filter(household=fast).count() == 2


def test_ids_come_back_in_order_and_follow_the_table():
    households = [_household(f"KZ-2099-9100{n}") for n in range(5)]
    create_objects(households)
    stored = dict(
        Household.objects.filter(reference__startswith="KZ-2099-9100").values_list(
            "reference", "pk"
        )
    )
    assert {h.reference: h.pk for h in households} == stored
    # The next household the ORM saves is numbered after them.
    later = _household("KZ-2099-91009")
    later.save()
    assert later.pk > max(stored.values())


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@pytest.mark.parametrize(
    "moment",
    [
        timezone.now().replace(microsecond=0),  # aware, in UTC
        dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))),  # aware
        dt.datetime(2024, 1, 1, 12, 0),  # naive: Django reads it in TIME_ZONE
    ],
)
def test_a_datetime_is_stored_as_the_orm_stores_it(moment):
    household = _household("KZ-2099-92002")
    create_objects([household])
    row = {
        "household_id": household.pk,
        "kind": HistoryKind.CREATED,
        "from_status": "",
        "to_status": CaseStatus.DRAFT,
        "effective_on": dt.date(2021, 9, 9),
        "changed_at": moment,
    }
    insert_rows(StatusChange, [row], returning=False)

    change = StatusChange.objects.get(household=household)
    assert change.effective_on == dt.date(2021, 9, 9)
    stored = change.changed_at
    # What the field makes of it: a naive value is read in the default time zone.
    assert stored == StatusChange._meta.get_field("changed_at").get_prep_value(moment)
    assert stored == (timezone.make_aware(moment) if moment.tzinfo is None else moment)
    assert stored.tzinfo is not None


def test_open_cases_writes_households_history_and_first_status_rows():
    user = get_user_model().objects.create_user("clerk")
    households = [_household("") for _ in range(3)]
    open_cases(households=households, by=user, on=dt.date(2026, 11, 30))
    references = [h.reference for h in households]
    assert len(set(references)) == 3
    assert all(r.startswith("KZ-2026-") for r in references)
    for household in households:
        stored = Household.objects.get(pk=household.pk)
        assert stored.reference == household.reference
        assert stored.status == CaseStatus.DRAFT
        change = StatusChange.objects.get(household=household)
        assert (change.kind, change.to_status, change.changed_by) == (
            HistoryKind.CREATED,
            CaseStatus.DRAFT,
            user,
        )
        assert change.effective_on == dt.date(2026, 11, 30)
        assert stored.history.get().history_user == user


def test_history_rows_without_a_user_are_stored_as_the_orm_stores_them():
    orm, fast = _household("KZ-2099-90011"), _household("KZ-2099-90012")
    bulk_create_with_history([orm], Household)
    create_with_history([fast], user=None)

    assert _history(fast) == _history(orm)
    assert fast.history.get().history_user is None
