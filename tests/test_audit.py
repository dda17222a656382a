"""Audit: field history with the user who changed it, the log of personal-data views, no deletion."""

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from resettlement import roles
from resettlement.models import AccessLog, Household, Person

from .access_fixtures import household_in, staff_user
from .html_forms import posted_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def registrar(client):
    user = staff_user("registrar", roles.REGISTRAR, programs=("KZ-KANDAS",))
    client.force_login(user)
    return user


def test_it_records_who_changed_which_field_of_a_household_and_a_member(client, registrar):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    url = reverse("admin:resettlement_household_change", args=[household.pk])
    data = posted_form(client.get(url))
    data["origin_area"] = "Badakhshan, Wakhan"
    data["members-0-occupation"] = "teacher"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    household_change = household.history.latest("history_id")
    person_change = household.members.get().history.latest("history_id")
    diff = household_change.diff_against(household_change.prev_record)
    assert (household_change.history_user, household_change.history_type) == (registrar, "~")
    assert [(c.field, c.old, c.new) for c in diff.changes if c.field == "origin_area"] == [
        ("origin_area", "", "Badakhshan, Wakhan")
    ]
    assert (person_change.history_user, person_change.occupation) == (registrar, "teacher")


def test_it_shows_the_history_page_with_the_user(client, registrar):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    url = reverse("admin:resettlement_household_change", args=[household.pk])
    client.post(url, {**posted_form(client.get(url)), "notes": "called the family"})

    page = client.get(reverse("admin:resettlement_household_history", args=[household.pk]))

    assert page.status_code == 200
    assert "registrar" in page.content.decode()


def test_it_logs_each_view_of_a_person_and_a_household_page(client, registrar):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    person = household.members.get()

    client.get(reverse("admin:resettlement_person_change", args=[person.pk]))
    client.get(reverse("admin:resettlement_household_change", args=[household.pk]))
    client.get(reverse("admin:resettlement_person_history", args=[person.pk]))

    rows = list(
        AccessLog.objects.order_by("id").values_list("user__username", "kind", "what", "object_id")
    )
    assert rows == [
        ("registrar", "view", "person", str(person.pk)),
        ("registrar", "view", "household", str(household.pk)),
        ("registrar", "view", "person history", str(person.pk)),
    ]


def test_it_logs_no_view_of_a_page_that_was_refused(client):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    outsider = staff_user("kg", roles.REGISTRAR, programs=("KG-KAYRYLMAN",))
    client.force_login(outsider)

    response = client.get(
        reverse("admin:resettlement_person_change", args=[household.members.get().pk])
    )

    assert response.status_code == 404
    assert AccessLog.objects.count() == 0


def test_it_lets_a_program_administrator_read_the_access_log_but_not_change_it(client):
    admin = staff_user("padmin", roles.PROGRAM_ADMINISTRATOR, programs=("KZ-KANDAS",))
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    client.force_login(admin)
    client.get(reverse("admin:resettlement_household_change", args=[household.pk]))
    entry = AccessLog.objects.get()

    listing = client.get(reverse("admin:resettlement_accesslog_changelist"))
    change = client.post(
        reverse("admin:resettlement_accesslog_change", args=[entry.pk]), {"what": "nothing"}
    )
    delete = client.post(
        reverse("admin:resettlement_accesslog_delete", args=[entry.pk]), {"post": "yes"}
    )

    assert [row.pk for row in listing.context["cl"].result_list] == [entry.pk]
    assert (change.status_code, delete.status_code) == (403, 403)
    entry.refresh_from_db()
    assert entry.what == "household"


def test_it_never_deletes_a_case_with_history(client, admin_client):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    person = household.members.get()

    household_delete = admin_client.post(
        reverse("admin:resettlement_household_delete", args=[household.pk]), {"post": "yes"}
    )
    person_delete = admin_client.post(
        reverse("admin:resettlement_person_delete", args=[person.pk]), {"post": "yes"}
    )
    bulk = admin_client.post(
        reverse("admin:resettlement_household_changelist"),
        {"action": "delete_selected", "_selected_action": [household.pk], "post": "yes"},
    )
    with pytest.raises(ProtectedError):
        Household.objects.filter(pk=household.pk).delete()

    assert (household_delete.status_code, person_delete.status_code) == (403, 403)
    assert bulk.status_code in (200, 302)
    assert (Household.objects.count(), Person.objects.count()) == (1, 1)
