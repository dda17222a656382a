"""Scope leaks: a user scoped to Kazakhstan never meets a Kyrgyz case, by any admin path."""

import pytest
from django.urls import reverse

from resettlement import roles
from resettlement.models import Group, Household, Person, Region, StatusChange
from resettlement.selectors.access import (
    households_for,
    persons_for,
    programs_for,
    regions_for,
    scope_queryset,
)

from .access_fixtures import household_in, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases():
    return {
        "kz_pavlodar": household_in("KZ-KANDAS", "KZ-55", "Ахметов"),
        "kz_akmola": household_in("KZ-KANDAS", "KZ-11", "Бекова"),
        "kg_chong_alai": household_in("KG-KAYRYLMAN", "KG-O-CHA", "Памирбеков"),
    }


@pytest.fixture
def kz_admin(client):
    user = staff_user("kz", roles.PROGRAM_ADMINISTRATOR, programs=("KZ-KANDAS",))
    client.force_login(user)
    return user


def references(response) -> list[str]:
    return sorted(str(row) for row in response.context["cl"].result_list)


def test_it_lists_only_households_and_people_of_the_users_program(client, kz_admin, cases):
    households = client.get(reverse("admin:resettlement_household_changelist"))
    people = client.get(reverse("admin:resettlement_person_changelist"))

    assert references(households) == sorted(
        [cases["kz_pavlodar"].reference, cases["kz_akmola"].reference]
    )
    assert references(people) == ["Ахметов Тест", "Бекова Тест"]


def test_it_answers_404_for_every_page_of_an_out_of_scope_case(client, kz_admin, cases):
    household = cases["kg_chong_alai"]
    person = household.members.get()
    group = Group.objects.create(
        program=household.program, name="Pamir convoy", origin_country_id="AF"
    )
    version_id = household.history.latest("history_id").history_id
    urls = [
        reverse("admin:resettlement_household_change", args=[household.pk]),
        reverse("admin:resettlement_household_history", args=[household.pk]),
        f"/admin/resettlement/household/{household.pk}/history/{version_id}/",
        reverse("admin:resettlement_household_delete", args=[household.pk]),
        reverse("admin:resettlement_household_transition", args=[household.pk]),
        reverse("admin:resettlement_household_extend", args=[household.pk]),
        reverse("admin:resettlement_person_change", args=[person.pk]),
        reverse("admin:resettlement_person_history", args=[person.pk]),
        reverse("admin:resettlement_person_delete", args=[person.pk]),
        reverse("admin:resettlement_group_change", args=[group.pk]),
        reverse("admin:resettlement_group_history", args=[group.pk]),
    ]

    codes = {url: client.get(url).status_code for url in urls}

    assert codes == dict.fromkeys(urls, 404)


def test_it_answers_the_same_404_for_a_missing_and_an_out_of_scope_case(client, kz_admin, cases):
    hidden = client.get(
        reverse("admin:resettlement_household_change", args=[cases["kg_chong_alai"].pk])
    )
    missing = client.get(reverse("admin:resettlement_household_change", args=[999999]))

    assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)


def test_it_finds_no_out_of_scope_case_by_search_or_autocomplete(client, kz_admin, cases):
    search = client.get(reverse("admin:resettlement_household_changelist"), {"q": "Памирбеков"})
    person_search = client.get(reverse("admin:resettlement_person_changelist"), {"q": "pamirbekov"})
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "resettlement",
            "model_name": "person",
            "field_name": "household",
            "term": "",
        },
    )

    assert references(search) == []
    assert references(person_search) == []
    assert autocomplete.status_code == 200
    assert sorted(r["text"] for r in autocomplete.json()["results"]) == sorted(
        [cases["kz_pavlodar"].reference, cases["kz_akmola"].reference]
    )


def test_it_offers_only_in_scope_programs_groups_and_regions_as_choices(client, kz_admin, cases):
    add = client.get(reverse("admin:resettlement_household_add"))
    regions = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "resettlement",
            "model_name": "household",
            "field_name": "destination_region",
            "term": "",
        },
    )
    listing = client.get(reverse("admin:resettlement_household_changelist"))

    form = add.context["adminform"].form
    assert [p.code for p in form.fields["program"].queryset] == ["KZ-KANDAS"]
    codes = {r["text"] for r in regions.json()["results"]}
    assert "Chong-Alai District" not in codes
    assert "Pavlodar Region" in codes
    filter_choices = {
        f.field_path: sorted(str(label) for _pk, label in f.lookup_choices)
        for f in listing.context["cl"].filter_specs
        if hasattr(f, "lookup_choices")
        and getattr(f, "field_path", None) in ("program", "destination_region")
    }
    # One program: Django hides a filter with a single choice; the Kyrgyz one is never offered.
    # Regions come from the reference table (no DISTINCT over households): Kazakhstan's only.
    assert list(filter_choices) == ["destination_region"]
    kazakh = sorted(str(r) for r in Region.objects.filter(code__startswith="KZ"))
    assert filter_choices["destination_region"] == kazakh


def test_it_refuses_to_save_a_case_into_a_program_outside_the_scope(client, kz_admin, cases):
    kg_group_choice = cases["kg_chong_alai"].program.pk
    response = client.post(
        reverse("admin:resettlement_household_add"),
        {"program": str(kg_group_choice), "origin_country": "AF"},
    )

    assert response.status_code == 200
    assert "program" in response.context["adminform"].form.errors
    assert Household.objects.filter(program=kg_group_choice).count() == 1


def test_it_limits_a_region_scoped_user_to_the_region(client, cases):
    user = staff_user("pavlodar", roles.REGISTRAR, programs=("KZ-KANDAS",), regions=("KZ-55",))
    client.force_login(user)

    listing = client.get(reverse("admin:resettlement_household_changelist"))
    other_region = client.get(
        reverse("admin:resettlement_household_change", args=[cases["kz_akmola"].pk])
    )

    assert references(listing) == [cases["kz_pavlodar"].reference]
    assert other_region.status_code == 404
    assert list(regions_for(user).values_list("code", flat=True)) == ["KZ-55"]


def test_it_includes_the_districts_of_a_scoped_region(cases):
    user = staff_user("osh", roles.CASE_OFFICER, programs=("KG-KAYRYLMAN",), regions=("KG-O",))

    assert list(households_for(user)) == [cases["kg_chong_alai"]]
    assert set(regions_for(user).values_list("code", flat=True)) == {
        "KG-O",
        "KG-O-ALA",
        "KG-O-CHA",
    }


def test_it_shows_nothing_to_staff_without_programs_and_everything_to_a_superuser(
    cases, admin_user
):
    nobody = staff_user("nobody", roles.PROGRAM_ADMINISTRATOR)

    assert (households_for(nobody).count(), persons_for(nobody).count()) == (0, 0)
    assert programs_for(nobody).count() == 0
    assert (households_for(admin_user).count(), persons_for(admin_user).count()) == (3, 3)


def test_it_scopes_any_model_by_its_path_to_the_household(cases):
    user = staff_user("kg", roles.CASE_OFFICER, programs=("KG-KAYRYLMAN",))

    changes = scope_queryset(user, StatusChange.objects.all(), household_path="household")
    people = scope_queryset(user, Person.objects.all(), household_path="household")

    assert [c.household for c in changes] == [cases["kg_chong_alai"]]
    assert [p.surname for p in people] == ["Памирбеков"]


def test_it_offers_only_groups_of_the_users_program_in_the_group_box(client, kz_admin, cases):
    kz = Group.objects.create(
        program=cases["kz_akmola"].program, name="Flight 1", origin_country_id="AF"
    )
    Group.objects.create(
        program=cases["kg_chong_alai"].program, name="Pamir convoy", origin_country_id="AF"
    )

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "resettlement", "model_name": "household", "field_name": "group"},
    )
    listing = client.get(reverse("admin:resettlement_group_changelist"))

    assert [r["text"] for r in response.json()["results"]] == [kz.name]
    assert references(listing) == [kz.name]


def test_it_makes_a_region_bound_clerk_place_every_new_case(client, cases):
    client.force_login(
        staff_user("pavlodar", roles.REGISTRAR, programs=("KZ-KANDAS",), regions=("KZ-55",))
    )

    response = client.post(
        reverse("admin:resettlement_household_add"),
        {"program": str(cases["kz_akmola"].program_id), "origin_country": "AF"},
    )

    assert response.context["adminform"].form.errors["destination_region"] == [
        "This field is required."
    ]


def test_it_shows_a_program_administrator_only_the_log_of_their_programs_staff(client, cases):
    kz_admin = staff_user("kz-admin", roles.PROGRAM_ADMINISTRATOR, programs=("KZ-KANDAS",))
    kz_clerk = staff_user("kz-clerk", roles.REGISTRAR, programs=("KZ-KANDAS",))
    kg_clerk = staff_user("kg-clerk", roles.REGISTRAR, programs=("KG-KAYRYLMAN",))
    for user, case in ((kz_clerk, "kz_akmola"), (kg_clerk, "kg_chong_alai")):
        client.force_login(user)
        client.get(reverse("admin:resettlement_household_change", args=[cases[case].pk]))
    client.force_login(kz_admin)

    listing = client.get(reverse("admin:resettlement_accesslog_changelist"))

    assert [(row.user.username, row.object_id) for row in listing.context["cl"].result_list] == [
        ("kz-clerk", str(cases["kz_akmola"].pk))
    ]


def test_choices_kept_for_a_wider_scope_are_never_offered_to_a_narrower_one(
    client, admin_client, kz_admin, cases
):
    # The superuser's page (every region) first: the worker keeps those choices.
    wide = admin_client.get(reverse("admin:resettlement_household_changelist"))
    narrow = client.get(reverse("admin:resettlement_household_changelist"))

    def regions(response) -> list[str]:
        (spec,) = [
            f
            for f in response.context["cl"].filter_specs
            if getattr(f, "field_path", None) == "destination_region"
        ]
        return sorted(str(label) for _pk, label in spec.lookup_choices)

    assert "Chong-Alai District" in regions(wide)
    assert regions(narrow) == sorted(str(r) for r in Region.objects.filter(code__startswith="KZ"))
