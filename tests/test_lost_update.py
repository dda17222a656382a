"""Two staff editing the same household: the second save is refused, nothing is overwritten."""

import pytest
from django.test import Client
from django.urls import reverse

from resettlement import roles
from resettlement.admin.access import STALE_MESSAGE
from resettlement.models import Household

from .access_fixtures import change_form_data, household_in, staff_user

pytestmark = pytest.mark.django_db


def test_it_refuses_the_second_of_two_concurrent_edits():
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    url = reverse("admin:resettlement_household_change", args=[household.pk])
    first, second = Client(), Client()
    first.force_login(staff_user("first", roles.REGISTRAR, programs=("KZ-KANDAS",)))
    second.force_login(staff_user("second", roles.REGISTRAR, programs=("KZ-KANDAS",)))
    first_copy = change_form_data(first.get(url))
    second_copy = change_form_data(second.get(url))

    saved = first.post(url, {**first_copy, "notes": "first editor's note"})
    refused = second.post(
        url, {**second_copy, "notes": "second editor's note", "members-0-occupation": "driver"}
    )

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert str(STALE_MESSAGE) in refused.content.decode()
    household.refresh_from_db()
    assert (household.notes, household.version) == ("first editor's note", 1)
    assert household.members.get().occupation == ""


def test_it_saves_again_from_a_fresh_copy(client):
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    url = reverse("admin:resettlement_household_change", args=[household.pk])
    client.force_login(staff_user("clerk", roles.REGISTRAR, programs=("KZ-KANDAS",)))
    client.post(url, {**change_form_data(client.get(url)), "notes": "one"})

    response = client.post(url, {**change_form_data(client.get(url)), "notes": "two"})

    assert response.status_code == 302
    assert Household.objects.values_list("notes", "version").get() == ("two", 2)


def test_it_refuses_a_household_page_save_over_a_member_changed_on_the_person_page():
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    person = household.members.get()
    household_url = reverse("admin:resettlement_household_change", args=[household.pk])
    person_url = reverse("admin:resettlement_person_change", args=[person.pk])
    first, second = Client(), Client()
    first.force_login(staff_user("first", roles.REGISTRAR, programs=("KZ-KANDAS",)))
    second.force_login(staff_user("second", roles.REGISTRAR, programs=("KZ-KANDAS",)))
    household_copy = change_form_data(first.get(household_url))
    person_copy = change_form_data(second.get(person_url))

    saved = second.post(person_url, {**person_copy, "phone": "+77019999999"})
    refused = first.post(household_url, {**household_copy, "members-0-phone": "+77010000001"})

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert str(STALE_MESSAGE) in refused.content.decode()
    person.refresh_from_db()
    assert (person.phone, person.version) == ("+77019999999", 1)
