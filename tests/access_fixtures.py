"""Users with roles and scopes, and households in each program, for the access tests."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as AuthGroup

from resettlement.models import Country, Household, Person, Program, Region, profile_for
from resettlement.services.cases import open_case

PASSWORD = "a-long-test-password-1"


def staff_user(
    username: str,
    role: str | None = None,
    programs: tuple[str, ...] = (),
    regions: tuple[str, ...] = (),
):
    """A staff user in ``role`` (an auth group made by the migration) scoped as given."""
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    if role:
        user.groups.add(AuthGroup.objects.get(name=role))
    profile = profile_for(user)
    profile.programs.set(Program.objects.filter(code__in=programs))
    profile.regions.set(Region.objects.filter(code__in=regions))
    return user


def household_in(
    program: str, region: str | None, surname: str, *, by=None, on: dt.date | None = None
) -> Household:
    """A draft case of ``program`` placed in ``region`` with a head called ``surname``."""
    household = open_case(
        household=Household(
            program=Program.objects.get(code=program),
            origin_country=Country.objects.get(code="AF"),
            destination_region=Region.objects.get(code=region) if region else None,
        ),
        by=by,
        on=on or dt.date(2025, 1, 10),
    )
    Person.objects.create(
        household=household,
        relation="head",
        surname=surname,
        given_name="Тест",
        sex="M",
        document_type="passport",
        document_number=f"P{household.pk:07d}",
        phone="+77010000000",
        birth_date=dt.date(1980, 6, 15),
    )
    return household
