"""Builders for the benefit and quota tests: households walked through the real case workflow."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from resettlement.models import (
    BenefitRule,
    Country,
    Group,
    Household,
    Person,
    Program,
    Region,
    RegionQuota,
    profile_for,
)
from resettlement.services.cases import case_transition, open_case
from resettlement.services.quota_ledger import place_in_quota

#: The path of a quota family from application to arrival.
TO_ARRIVAL = ("applied", "under_review", "granted", "in_transit", "arrived")


def make_household(
    *,
    by,
    members: int = 5,
    program: str = "KZ-KANDAS",
    region: str = "KZ-55",
    quota_year: int | None = None,
    path: tuple[str, ...] = (),
    on: dt.date = dt.date(2025, 3, 1),
    group: Group | None = None,
) -> Household:
    """A household of ``members`` people, walked through ``path`` (each step dated ``on``)."""
    program_row = Program.objects.get(code=program)
    household = open_case(
        household=Household(
            program=program_row,
            origin_country=Country.objects.get(code="AF"),
            destination_region=Region.objects.get(code=region),
            quota_year=quota_year,
            group=group,
        ),
        by=by,
        on=on,
    )
    for index in range(members):
        Person.objects.create(
            household=household,
            relation="head" if index == 0 else "child",
            surname="Масадыков",
            given_name=f"Член{index}",
            sex="M",
            member_status="arrived",
        )
    for step in path:
        case_transition(household=household, to=step, by=by, on=on, reason="test")
    household.refresh_from_db()
    return household


def quota_family(*, by, members: int = 5, year: int = 2025, region: str = "KZ-55") -> Household:
    """A family placed in ``region``'s quota for ``year`` that arrived on 1 March of that year."""
    household = make_household(
        by=by,
        members=members,
        region=region,
        quota_year=year,
        path=TO_ARRIVAL,
        on=dt.date(year, 3, 1),
    )
    place_in_quota(household=household, by=by)
    return household


def rule(code: str) -> BenefitRule:
    return BenefitRule.objects.get(program__code="KZ-KANDAS", code=code)


def quota(region: str = "KZ-55", year: int = 2025) -> RegionQuota:
    return RegionQuota.objects.get(program__code="KZ-KANDAS", region__code=region, year=year)


def som_stipend() -> BenefitRule:
    """A fixed-amount Kyrgyz monthly stipend (3 months of 5,000 som per person)."""
    return BenefitRule.objects.create(
        program=Program.objects.get(code="KG-KAYRYLMAN"),
        code="adaptation",
        name="Adaptation allowance",
        frequency="monthly",
        unit="person",
        amount_kind="fixed",
        amount=Decimal(5000),
        months=3,
        effective_from=dt.date(2021, 1, 1),
    )


def scoped_staff(django_user_model, username: str, *codenames: str):
    """A staff user with these permissions, working in both programs."""
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    profile_for(user).programs.set(Program.objects.all())
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def officer(django_user_model):
    """Prepares payment runs and grants benefits (the maker)."""
    return scoped_staff(django_user_model, "maker")


@pytest.fixture
def checker(django_user_model):
    """Approves payment runs (the checker)."""
    return scoped_staff(django_user_model, "checker")


@pytest.fixture
def quota_manager(django_user_model):
    """May place households over the quota."""
    return scoped_staff(django_user_model, "quota_manager", "override_quota")
