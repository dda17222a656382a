"""A hand-built world for the report tests, following the 2021 events of the demo data.

- KZ: the evacuation flight of 9 September 2021 — 35 people in 9 households, five regions;
  statuses granted in October (5 households, 21 people) and November (4 households, 14 people).
- KG: the Badakhshan convoy of July 2021 — 345 people in 69 households, stopped in Tajikistan,
  returned to Afghanistan (cases "returned abroad", never arrived).
- KG: one family of 6 placed in Chong-Alai district (Osh oblast) in 2020 under a quota of 5.
- KZ quota 2025: Pavlodar — arrived family of 5 (one member left), granted family of 3 not yet
  arrived, withdrawn family of 4; Akmola — settled family of 2.

Every figure the tests expect is worked out by hand in the test that uses it.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import Permission

from resettlement.enums import DatePrecision, GroupStatus
from resettlement.models import (
    Country,
    Group,
    Household,
    Person,
    Program,
    Region,
    RegionQuota,
    profile_for,
)
from resettlement.services.summaries import refresh_household_summaries

D = dt.date


def kz() -> Program:
    return Program.objects.get(code="KZ-KANDAS")


def kg() -> Program:
    return Program.objects.get(code="KG-KAYRYLMAN")


_serial = {"n": 0}


def household(program: Program, region: str | None, **fields) -> Household:
    _serial["n"] += 1
    fields.setdefault("origin_country", Country.objects.get(code="AF"))
    return Household.objects.create(
        program=program,
        reference=fields.pop("reference", f"{program.reference_prefix}-T-{_serial['n']:05d}"),
        destination_region=Region.objects.get(code=region) if region else None,
        **fields,
    )


def member(household: Household, relation: str, sex: str, born: str | None, **fields) -> Person:
    """``born`` is "YYYY" (year only), "YYYY-MM-DD", or None."""
    if born and len(born) == 4:
        fields.update(birth_date=D(int(born), 1, 1), birth_date_precision=DatePrecision.YEAR)
    elif born:
        fields.update(birth_date=D.fromisoformat(born))
    fields.setdefault("surname", "Тестов" if sex == "M" else "Тестова")
    return Person.objects.create(household=household, relation=relation, sex=sex, **fields)


def family(household: Household, size: int, grandparents: bool = False, unknown: bool = False):
    """Head (M, born 1975, year only, secondary), spouse (F, 1980-10-01, basic), then children
    (F, M, F, ... born 2010-09-10, primary); optionally grandparents (F 1958-09-09, M 1959-01-01,
    no education) or one member with no birth date and no education."""
    member(household, "head", "M", "1975", education="secondary")
    members = 1
    if size > 1:
        member(household, "spouse", "F", "1980-10-01", education="basic")
        members += 1
    if grandparents:
        member(household, "parent", "F", "1958-09-09", education="none")
        member(household, "parent", "M", "1959-01-01", education="none")
        members += 2
    if unknown:
        member(household, "other", "M", None)
        members += 1
    for index in range(size - members):
        member(
            household, "child", "F" if index % 2 == 0 else "M", "2010-09-10", education="primary"
        )


@dataclass
class World:
    flight: Group
    convoy: Group
    flight_households: list[Household]
    chong_alai: Household
    pavlodar_arrived: Household
    pavlodar_granted: Household
    pavlodar_withdrawn: Household
    akmola_settled: Household


FLIGHT = [  # region, size, status granted on
    ("KZ-11", 4, D(2021, 10, 15)),
    ("KZ-11", 3, D(2021, 10, 15)),
    ("KZ-55", 5, D(2021, 10, 15)),
    ("KZ-55", 3, D(2021, 10, 15)),
    ("KZ-59", 6, D(2021, 10, 15)),
    ("KZ-39", 4, D(2021, 11, 20)),
    ("KZ-39", 2, D(2021, 11, 20)),
    ("KZ-63", 5, D(2021, 11, 20)),
    ("KZ-63", 3, D(2021, 11, 20)),
]


def build_world() -> World:
    af, tj, cn = (Country.objects.get(code=c) for c in ("AF", "TJ", "CN"))
    flight = Group.objects.create(
        program=kz(),
        name="Kabul evacuation flight, 9 Sep 2021",
        origin_country=af,
        planned_size=35,
        planned_on=D(2021, 9, 9),
        departed_on=D(2021, 9, 9),
        arrived_on=D(2021, 9, 9),
        status=GroupStatus.ARRIVED,
    )
    flight_households = []
    for index, (region, size, granted) in enumerate(FLIGHT):
        h = household(
            kz(),
            region,
            group=flight,
            status="settled",
            application_channel="evacuation",
            arrived_on=D(2021, 9, 9),
            applied_on=D(2021, 9, 15),
            decided_on=granted,
            status_granted_on=granted,
            status_expires_on=granted.replace(year=2022),
        )
        family(h, size, grandparents=index == 4, unknown=index == 8)
        flight_households.append(h)

    convoy = Group.objects.create(
        program=kg(),
        name="Badakhshan convoy, July 2021",
        origin_country=af,
        origin_area="Badakhshan, Wakhan",
        transit_country=tj,
        planned_size=345,
        planned_on=D(2021, 7, 10),
        departed_on=D(2021, 7, 10),
        status=GroupStatus.RETURNED,
    )
    convoy_households = Household.objects.bulk_create(
        Household(
            program=kg(),
            reference=f"KG-2021-{i + 1:05d}",
            group=convoy,
            origin_country=af,
            status="returned",
        )
        for i in range(69)
    )
    people = []
    for h in convoy_households:
        for i in range(5):
            person = Person(
                household=h,
                relation="head" if i == 0 else "child",
                surname="Памиров",
                sex="M" if i % 2 == 0 else "F",
            )
            person.refresh_derived_fields()
            people.append(person)
    Person.objects.bulk_create(people)
    # A bulk write bypasses the signals: refresh the counts the reports read, as bulk writers do.
    refresh_household_summaries(h.pk for h in convoy_households)

    RegionQuota.objects.create(
        program=kg(), region=Region.objects.get(code="KG-O"), year=2020, places=5
    )
    chong_alai = household(
        kg(),
        "KG-O-CHA",
        status="settled",
        quota_year=2020,
        arrived_on=D(2020, 3, 1),
        applied_on=D(2020, 3, 10),
        decided_on=D(2020, 5, 1),
        status_granted_on=D(2020, 5, 1),
        status_expires_on=D(2023, 5, 1),
    )
    family(chong_alai, 6)

    pavlodar_arrived = household(
        kz(),
        "KZ-55",
        origin_country=cn,
        status="arrived",
        quota_year=2025,
        applied_on=D(2025, 1, 20),
        decided_on=D(2025, 2, 15),
        status_granted_on=D(2025, 2, 15),
        status_expires_on=D(2026, 2, 15),
        arrived_on=D(2025, 4, 10),
    )
    family(pavlodar_arrived, 5)
    first_child = pavlodar_arrived.members.filter(relation="child").order_by("pk").first()
    Person.objects.filter(pk=first_child.pk).update(member_status="left")
    refresh_household_summaries([pavlodar_arrived.pk])  # a queryset update bypasses signals
    pavlodar_granted = household(
        kz(),
        "KZ-55",
        origin_country=Country.objects.get(code="MN"),
        status="granted",
        quota_year=2025,
        applied_on=D(2025, 2, 1),
        decided_on=D(2025, 3, 20),
        status_granted_on=D(2025, 3, 20),
        status_expires_on=D(2026, 3, 20),
    )
    family(pavlodar_granted, 3)
    pavlodar_withdrawn = household(
        kz(),
        "KZ-55",
        origin_country=Country.objects.get(code="MN"),
        status="withdrawn",
        quota_year=2025,
        applied_on=D(2025, 2, 1),
    )
    family(pavlodar_withdrawn, 4)
    akmola_settled = household(
        kz(),
        "KZ-11",
        origin_country=cn,
        status="settled",
        quota_year=2025,
        applied_on=D(2025, 1, 5),
        decided_on=D(2025, 3, 1),
        status_granted_on=D(2025, 3, 1),
        status_expires_on=D(2026, 3, 1),
        arrived_on=D(2025, 6, 1),
    )
    family(akmola_settled, 2)
    return World(
        flight,
        convoy,
        flight_households,
        chong_alai,
        pavlodar_arrived,
        pavlodar_granted,
        pavlodar_withdrawn,
        akmola_settled,
    )


def user_with(django_user_model, username: str, *codenames: str, staff: bool = True, programs=None):
    """A user with these permissions, scoped to ``programs`` (default: both programs)."""
    user = django_user_model.objects.create_user(
        username, password="pw-for-tests-only", is_staff=staff
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    profile_for(user).programs.set(programs if programs is not None else Program.objects.all())
    return user
