"""Two staff editing the same household: the second save is refused, nothing is overwritten."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from resettlement import roles
from resettlement.admin.access import STALE_MESSAGE
from resettlement.models import Household

from .access_fixtures import household_in, staff_user
from .html_forms import posted_form

pytestmark = pytest.mark.django_db


def test_it_refuses_the_second_of_two_concurrent_edits():
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    url = reverse("admin:resettlement_household_change", args=[household.pk])
    first, second = Client(), Client()
    first.force_login(staff_user("first", roles.REGISTRAR, programs=("KZ-KANDAS",)))
    second.force_login(staff_user("second", roles.REGISTRAR, programs=("KZ-KANDAS",)))
    first_copy = posted_form(first.get(url))
    second_copy = posted_form(second.get(url))

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
    client.post(url, {**posted_form(client.get(url)), "notes": "one"})

    response = client.post(url, {**posted_form(client.get(url)), "notes": "two"})

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
    household_copy = posted_form(first.get(household_url))
    person_copy = posted_form(second.get(person_url))

    saved = second.post(person_url, {**person_copy, "phone": "+77019999999"})
    refused = first.post(household_url, {**household_copy, "members-0-phone": "+77010000001"})

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert str(STALE_MESSAGE) in refused.content.decode()
    person.refresh_from_db()
    assert (person.phone, person.version) == ("+77019999999", 1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_of_two_saves_in_flight_at_once_one_is_kept_and_the_other_refused():
    household = household_in("KZ-KANDAS", "KZ-55", "Ахметов")
    url = reverse("admin:resettlement_household_change", args=[household.pk])
    editors = {}
    for name in ("first", "second"):
        client = Client()
        client.force_login(staff_user(name, roles.REGISTRAR, programs=("KZ-KANDAS",)))
        editors[name] = (client, posted_form(client.get(url)))
    answers = {}

    def save(name: str) -> None:
        client, copy = editors[name]
        try:
            answers[name] = client.post(url, {**copy, "notes": f"{name} editor's note"})
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=save, args=(name,)) for name in editors]
    with transaction.atomic():
        # Hold the household's row: both saves start and wait for it, as two clerks pressing
        # Save at the same moment wait for each other.
        Household.objects.select_for_update().get(pk=household.pk)
        for thread in threads:
            thread.start()
        waiting = 0
        for _ in range(100):
            with connection.cursor() as cursor:
                # The activity view is a snapshot kept for the transaction; take a new one.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                (waiting,) = cursor.fetchone()
            if waiting == 2:
                break
            time.sleep(0.05)
        assert waiting == 2, "both saves should be waiting for the row"
    for thread in threads:
        thread.join(10)

    statuses = sorted((answer.status_code, name) for name, answer in answers.items())
    assert [status for status, _name in statuses] == [200, 302]
    refused, kept = statuses[0][1], statuses[1][1]
    assert str(STALE_MESSAGE) in answers[refused].content.decode()
    household.refresh_from_db()
    assert (household.notes, household.version) == (f"{kept} editor's note", 1)
