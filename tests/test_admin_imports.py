"""The import pages and the duplicate review queue in the admin, through the test client."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from resettlement.models import (
    DuplicateCandidate,
    Household,
    ImportBatch,
    Person,
    Program,
    profile_for,
)
from resettlement.services.imports import commit_batch, create_batch

from .imports_fixtures import blank_row, exported_persons, make_family, parse_csv, to_csv
from .test_admin_cases import household_post, member_row

pytestmark = pytest.mark.django_db


def staff(username: str, *codenames: str, programs=None) -> User:
    """A staff user with these permissions, working in ``programs`` (default: both)."""
    user = User.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    profile_for(user).programs.set(programs if programs is not None else Program.objects.all())
    return user


@pytest.fixture
def clerk(client):
    user = staff("clerk", "import_households", "view_person", "view_household")
    client.force_login(user)
    return user


@pytest.fixture
def outsider_client(client):
    client.force_login(staff("outsider", "view_household", "view_person"))
    return client


def csv_file(rows, name="people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, to_csv(rows).encode(), content_type="text/csv")


def test_it_uploads_previews_and_confirms_an_edited_export(client, clerk):
    household = make_family()
    rows = parse_csv(to_csv(exported_persons()))
    rows[2][33] = "Kazakh"  # languages of the first child
    rows.append(blank_row(household_reference="NEW-1", given_name="Болат"))

    upload = client.post(reverse("admin:resettlement_importbatch_add"), {"file": csv_file(rows)})
    batch = ImportBatch.objects.get()
    preview = client.get(upload.url)
    people_before_confirmation = Person.objects.count()
    confirm = client.post(reverse("admin:resettlement_importbatch_confirm", args=[batch.pk]))

    assert upload.url == reverse("admin:resettlement_importbatch_change", args=[batch.pk])
    page = preview.content.decode()
    assert "Confirm and import" in page
    assert "<code>languages</code>: <del>∅</del> → <ins>Kazakh</ins>" in page
    assert "Ахметов Болат (1975)" in page
    assert people_before_confirmation == 3
    assert confirm.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.committed_by) == ("committed", clerk)
    assert household.members.order_by("pk")[1].languages == "Kazakh"
    assert Household.objects.count() == 2
    done = client.get(confirm.url).content.decode()
    assert "Imported: 1 new and 0 changed households, 1 new and 1 changed people." in done
    assert "Confirm and import" not in done


def test_it_shows_the_row_errors_and_no_confirm_button(client, clerk):
    rows = [parse_csv(to_csv(exported_persons()))[0], blank_row(destination_region="KZ-99")]

    upload = client.post(reverse("admin:resettlement_importbatch_add"), {"file": csv_file(rows)})
    page = client.get(upload.url).content.decode()

    assert "<td>2</td><td>destination_region</td><td>Unknown region code “KZ-99”.</td>" in page
    assert "Confirm and import" not in page
    assert Household.objects.count() == 0


def test_it_offers_the_template_with_an_example_row(client, clerk):
    response = client.get(reverse("admin:resettlement_importbatch_template"))

    text = response.content.decode("utf-8-sig")
    batch = create_batch(data=text.encode(), file_name="template.csv", user=clerk)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (batch.status, batch.summary["persons_created"]) == ("ready", 1)


def test_it_refuses_the_import_pages_without_the_permission(outsider_client):
    batch = create_batch(data=b"", file_name="x.csv", user=None)

    responses = [
        outsider_client.get(reverse("admin:resettlement_importbatch_add")),
        outsider_client.post(
            reverse("admin:resettlement_importbatch_add"), {"file": csv_file([["x"]])}
        ),
        outsider_client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk])),
        outsider_client.post(reverse("admin:resettlement_importbatch_confirm", args=[batch.pk])),
        outsider_client.get(reverse("admin:resettlement_importbatch_template")),
        outsider_client.get(reverse("admin:resettlement_duplicatecandidate_changelist")),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403, 403, 403]
    assert ImportBatch.objects.count() == 1


# --- the review queue ------------------------------------------------------------------------


def imported_duplicate(user) -> DuplicateCandidate:
    """An imported one-person household whose head is the existing family's head again."""
    make_family()
    rows = [
        parse_csv(to_csv(exported_persons()))[0],
        blank_row(
            household_reference="NEW-1",
            surname="Масадыков",
            given_name="Нурлан",
            birth_date="1980",
            occupation="driver",
        ),
    ]
    batch = create_batch(data=to_csv(rows).encode(), file_name="x.csv", user=user)
    commit_batch(batch=batch, user=user)
    return DuplicateCandidate.objects.get()


@pytest.fixture
def officer(client):
    user = staff("officer", "review_duplicates", "view_person")
    client.force_login(user)
    return user


def test_it_merges_a_pair_keeping_the_older_record_and_its_history(client, officer):
    candidate = imported_duplicate(officer)
    new, old = candidate.person, candidate.other
    url = reverse("admin:resettlement_duplicatecandidate_change", args=[candidate.pk])

    page = client.get(url)
    response = client.post(url, {"keep": str(old.pk), "note": "same passport photo"})

    assert "Same person — keep" in page.content.decode()
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert (
        candidate.status,
        candidate.kept,
        candidate.person,
        candidate.decided_by,
        candidate.note,
        candidate.merged_snapshot["occupation"],
    ) == ("merged", old, None, officer, "same passport photo", "driver")
    old.refresh_from_db()
    assert old.occupation == "driver"  # filled from the merged record
    assert not Person.objects.filter(pk=new.pk).exists()
    deleted = Person.history.get(id=new.pk, history_type="-")
    assert (deleted.history_user, deleted.occupation) == (officer, "driver")


def test_it_shows_the_pair_side_by_side_by_label_and_in_the_pages_terms(client, officer):
    candidate = imported_duplicate(officer)
    url = reverse("admin:resettlement_duplicatecandidate_change", args=[candidate.pk])

    rows = {row["name"]: row for row in client.get(url).context["rows"]}

    assert (rows["Date of birth"]["a"], rows["Date of birth"]["b"]) == ("1980", "1980")
    assert (rows["Sex"]["a"], rows["Relation to head"]["b"]) == ("Male", "Head of household")
    assert (rows["Citizenship"]["a"], rows["Citizenship"]["b"]) == ("", "Afghanistan")
    assert rows["Citizenship"]["differs"]
    assert not rows["Surname (Cyrillic)"]["differs"]


def test_it_records_different_people(client, officer):
    candidate = imported_duplicate(officer)
    url = reverse("admin:resettlement_duplicatecandidate_change", args=[candidate.pk])

    client.post(url, {"decision": "different", "note": "twins"})

    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by, candidate.note, candidate.kept) == (
        "different",
        officer,
        "twins",
        None,
    )
    assert Person.objects.count() == 4


def test_it_refuses_to_merge_away_the_head_of_a_family(client, officer):
    candidate = imported_duplicate(officer)
    url = reverse("admin:resettlement_duplicatecandidate_change", args=[candidate.pk])

    response = client.post(url, {"keep": str(candidate.person_id)})

    assert "heads household" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == "open"
    assert Person.objects.count() == 4


def test_it_warns_about_duplicates_when_a_clerk_saves_a_household(admin_client):
    existing = make_family()
    head = existing.members.get(relation="head")
    members = [
        member_row(
            0,
            relation="head",
            sex="M",
            surname="",
            given_name="",
            surname_latin="Masadykov",
            given_name_latin="Nurlan",
            birth_date="1980-02-02",
            document_number="",
        )
    ]

    response = admin_client.post(
        reverse("admin:resettlement_household_add"), household_post(members), follow=True
    )

    text = response.content.decode()
    assert "Possible duplicates (queued for review):" in text
    url = reverse("admin:resettlement_person_change", args=[head.pk])
    assert f'<a href="{url}">Масадыков Нурлан</a>' in text
    pair = DuplicateCandidate.objects.get()
    assert (pair.other, pair.reason, pair.status) == (head, "name_birth", "open")
    assert dt.date(1980, 2, 2) == pair.person.birth_date


def test_it_moves_the_other_open_pairs_to_the_kept_record_on_merge(client, officer):
    lone = make_family(size=1)  # a one-person household: its head may be merged away
    original = lone.members.get()
    header = parse_csv(to_csv(exported_persons()))[0]
    rows = [
        header,
        blank_row(surname="Масадыков", given_name="Нурлан", birth_date="1980"),
        # The same passport as the person on record, another name (not a pair with row 2).
        blank_row(given_name="Ерболат", document_number="P-8001013"),
    ]
    batch = create_batch(data=to_csv(rows).encode(), file_name="x.csv", user=officer)
    commit_batch(batch=batch, user=officer)
    first, second = DuplicateCandidate.objects.order_by("pk")
    url = reverse("admin:resettlement_duplicatecandidate_change", args=[first.pk])

    client.post(url, {"keep": str(first.person_id)})

    second.refresh_from_db()
    kept = Person.objects.get(pk=first.person_id)
    assert (second.person.given_name_latin, second.other, second.status) == (
        "Erbolat",
        kept,
        "open",
    )
    assert not Person.objects.filter(pk=original.pk).exists()


def test_it_lists_imports_and_open_pairs(admin_client, admin_user):
    candidate = imported_duplicate(admin_user)

    imports = admin_client.get(reverse("admin:resettlement_importbatch_changelist"))
    pairs = admin_client.get(
        reverse("admin:resettlement_duplicatecandidate_changelist") + "?status__exact=open"
    )

    assert "x.csv" in imports.content.decode()
    assert list(pairs.context["cl"].result_list) == [candidate]


def test_it_refuses_rows_of_a_program_outside_the_clerks_scope(client):
    kazakh_clerk = staff(
        "kz-clerk",
        "import_households",
        "view_household",
        programs=Program.objects.filter(code="KZ-KANDAS"),
    )
    client.force_login(kazakh_clerk)
    header = parse_csv(to_csv(exported_persons()))[0]
    rows = [header, blank_row(program="KG-KAYRYLMAN", destination_region="KG-O-CHA")]

    upload = client.post(reverse("admin:resettlement_importbatch_add"), {"file": csv_file(rows)})
    page = client.get(upload.url).content.decode()

    assert "<td>2</td><td>program</td>" in page
    assert "Confirm and import" not in page
    assert Household.objects.count() == 0
