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


def _value(bound_field) -> object:
    value = bound_field.value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value) if not hasattr(value, "isoformat") else value.isoformat()


def change_form_data(response) -> dict:
    """What a browser would post back from an admin change page, unchanged."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        if name in form.fields and not form.fields[name].disabled:
            value = _value(form[name])
            if value != "":
                data[form.add_prefix(name)] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = _value(formset.management_form[name])
        for sub in formset.forms:
            for name in sub.fields:
                value = _value(sub[name])
                if value != "":
                    data[sub.add_prefix(name)] = value
    return data
