"""factory_boy factories for the tracker's models, built on the reference data in every test DB.

Programs, countries and regions come from migration 0002 and are fetched, never created.
Households are saved straight to the database as drafts with a reference of the year 2099 (so
they never collide with ``open_case``'s numbering); a test that needs another status moves
the case with ``services.cases.case_transition``.
"""

import datetime as dt
from typing import Any

import factory
from factory.django import DjangoModelFactory

from resettlement.enums import Relation, Sex
from resettlement.models import Country, Group, Household, Person, Program, Region, RegionQuota


def program(code: str = "KZ-KANDAS") -> Program:
    return Program.objects.get(code=code)


def country(code: str) -> Country:
    return Country.objects.get(code=code)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = Group

    program = factory.LazyFunction(program)
    name = factory.Sequence(lambda n: f"Flight {n + 1}")
    origin_country = factory.LazyFunction(lambda: country("AF"))


class HouseholdFactory(DjangoModelFactory):
    """A draft case of the kandas program from Afghanistan, reference ``KZ-2099-00001`` etc."""

    class Meta:
        model = Household

    program = factory.LazyFunction(program)
    reference = factory.LazyAttributeSequence(
        lambda o, n: f"{o.program.reference_prefix}-2099-{n + 1:05d}"
    )
    origin_country = factory.LazyFunction(lambda: country("AF"))
    origin_area = "Balkh"


class PersonFactory(DjangoModelFactory):
    """A household member (a child unless told otherwise: a household has only one head)."""

    class Meta:
        model = Person

    household = factory.SubFactory(HouseholdFactory)
    relation = Relation.CHILD
    surname = factory.Iterator(["Ахметов", "Жумабаев", "Тулегенов", "Бекболатов", "Серіков"])
    given_name = factory.Iterator(["Ерлан", "Нұрлан", "Данияр", "Бауыржан", "Серік"])
    sex = Sex.MALE
    birth_date = dt.date(1980, 5, 17)
    citizenship = factory.LazyFunction(lambda: country("AF"))


class QuotaFactory(DjangoModelFactory):
    """A kandas quota for Astana in a year no seeded quota uses."""

    class Meta:
        model = RegionQuota

    program = factory.LazyFunction(program)
    region = factory.LazyFunction(lambda: region("KZ-71"))
    year = factory.Sequence(lambda n: 2100 + n)
    places = 100


def make_household(members: int = 1, **fields: Any) -> Household:
    """A household (fields as for ``HouseholdFactory``) with a head and ``members - 1`` children."""
    household = HouseholdFactory(**fields)
    PersonFactory(household=household, relation=Relation.HEAD)
    PersonFactory.create_batch(members - 1, household=household)
    return household
