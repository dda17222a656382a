"""Every role against every admin page: allowed or refused as the README's Roles matrix says."""

import io

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.core.management import call_command
from django.urls import reverse

from resettlement import roles
from resettlement.demo_users import DEMO_PASSWORD, demo_users, ensure_demo_users

from .access_fixtures import household_in, staff_user

pytestmark = pytest.mark.django_db

PAGES = [
    "household",
    "person",
    "group",
    "regionquota",
    "region",
    "program",
    "country",
    "accesslog",
    "staffprofile",
    "retentionrun",
]

REFERENCE_LISTS = {"regionquota:list", "region:list", "program:list", "country:list"}
CASE_LISTS = {"household:list", "person:list", "group:list"}

#: role → the admin pages (model:list / model:add) it may open; every other one answers 403.
ALLOWED = {
    roles.REGISTRAR: REFERENCE_LISTS | CASE_LISTS | {"household:add", "person:add", "group:add"},
    roles.CASE_OFFICER: REFERENCE_LISTS | CASE_LISTS,
    roles.FINANCE_OFFICER: REFERENCE_LISTS | CASE_LISTS,
    roles.APPROVER: REFERENCE_LISTS | CASE_LISTS,
    roles.QUOTA_MANAGER: REFERENCE_LISTS | {"regionquota:add"},
    roles.ANALYST: REFERENCE_LISTS,
    roles.PROGRAM_ADMINISTRATOR: REFERENCE_LISTS
    | CASE_LISTS
    | {
        "household:add",
        "person:add",
        "group:add",
        "regionquota:add",
        "accesslog:list",
        "staffprofile:list",
        "staffprofile:add",
        "retentionrun:list",
    },
}


def test_it_creates_every_role_group_with_the_permissions_of_the_table():
    for role, codenames in roles.ROLE_PERMISSIONS.items():
        group = AuthGroup.objects.get(name=role)
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        expected = {c if "." in c else f"resettlement.{c}" for c in codenames}
        assert granted == expected, role


def test_it_resynchronises_roles_after_someone_changed_a_group():
    registrar = AuthGroup.objects.get(name=roles.REGISTRAR)
    registrar.permissions.clear()

    call_command("sync_roles", stdout=io.StringIO())

    assert registrar.permissions.count() == len(roles.ROLE_PERMISSIONS[roles.REGISTRAR])


@pytest.mark.parametrize("role", list(ALLOWED))
def test_it_allows_each_role_exactly_its_admin_pages(client, role):
    household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    user = staff_user("someone", role, programs=("KZ-KANDAS", "KG-KAYRYLMAN"))
    client.force_login(user)

    outcome = {}
    for name in PAGES:
        for page, url_name in (("list", "changelist"), ("add", "add")):
            response = client.get(reverse(f"admin:resettlement_{name}_{url_name}"))
            outcome[f"{name}:{page}"] = response.status_code

    expected = {key: (200 if key in ALLOWED[role] else 403) for key in outcome}
    assert outcome == expected


@pytest.mark.parametrize("role", list(ALLOWED))
def test_it_shows_names_only_to_roles_that_handle_personal_data(client, role):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    person = household.members.get()
    user = staff_user("someone", role, programs=("KZ-KANDAS",))
    client.force_login(user)

    pages = [
        reverse("admin:resettlement_person_change", args=[person.pk]),
        reverse("admin:resettlement_person_history", args=[person.pk]),
        reverse("admin:resettlement_household_history", args=[household.pk]),
    ]
    codes = [client.get(url).status_code for url in pages]

    sees_people = role in roles.PERSONAL_DATA_ROLES
    assert codes == [200 if sees_people else 403] * 3
    assert (role == roles.ANALYST) <= (not sees_people)


def test_it_creates_one_scoped_demo_user_per_role(client):
    names = ensure_demo_users(force=True)
    ensure_demo_users(force=True)  # idempotent

    listed = demo_users()
    assert [row[0] for row in listed] == names
    assert {row[2] for row in listed} == set(roles.ROLE_PERMISSIONS)
    response = client.post(
        reverse("admin:login"), {"username": "registrar.pavlodar", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
