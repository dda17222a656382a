"""Large imports are written in a background thread; the batch's page shows the progress, and
an import cut off by a restart can be confirmed again."""

import datetime as dt
import threading

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from resettlement.csv_format import PERSON_COLUMNS
from resettlement.models import Household, ImportBatch, ImportStatus, Person, Program, profile_for
from resettlement.services.imports import (
    START_GRACE,
    background_thread,
    create_batch,
    progress_key,
    recover_interrupted,
    start_commit_in_background,
)

from .imports_fixtures import blank_row, to_csv

pytestmark = [
    # serialized_rollback: the flush after a transactional test would drop the reference data.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

GIVEN_NAMES = ("Ерлан", "Болат", "Аскар", "Нурлан", "Серик", "Данияр", "Марат", "Айдос")


@pytest.fixture(autouse=True)
def _background_above_two_rows(settings, tmp_path) -> None:
    settings.IMPORT_BACKGROUND_ROWS = 2
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }


@pytest.fixture
def clerk(client) -> User:
    user = User.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["import_households", "view_person", "view_household"]
        )
    )
    profile_for(user).programs.set(Program.objects.all())
    client.force_login(user)
    return user


def new_families(count: int) -> list[list[str]]:
    return [list(PERSON_COLUMNS)] + [
        blank_row(
            household_reference=f"NEW-{n}",
            given_name=GIVEN_NAMES[n % len(GIVEN_NAMES)],
            birth_date=str(1940 + n % 60),
            surname="Ахметов" if n % 2 else "Сейткали",
        )
        for n in range(count)
    ]


def upload(client, rows: list[list[str]], name: str = "people.csv") -> ImportBatch:
    data = SimpleUploadedFile(name, to_csv(rows).encode(), content_type="text/csv")
    client.post(reverse("admin:resettlement_importbatch_add"), {"file": data})
    return ImportBatch.objects.get(file_name=name)


def finish(batch: ImportBatch) -> None:
    thread = background_thread(batch.pk)
    if thread is not None:
        thread.join(timeout=120)
    batch.refresh_from_db()


def test_it_imports_a_large_file_in_the_background_and_shows_the_result(client, clerk):
    batch = upload(client, new_families(5))

    confirm = client.post(reverse("admin:resettlement_importbatch_confirm", args=[batch.pk]))
    finish(batch)
    page = client.get(confirm.url).content.decode()

    assert confirm.url == reverse("admin:resettlement_importbatch_change", args=[batch.pk])
    assert (batch.status, batch.rows_total, batch.rows_done, batch.committed_by) == (
        ImportStatus.COMMITTED,
        5,
        5,
        clerk,
    )
    assert (Household.objects.count(), Person.objects.count()) == (5, 5)
    assert "The import has started; this page shows its progress." in page
    assert "Importing…" not in page
    assert 'http-equiv="refresh"' not in page
    assert "Confirm and import" not in page


def test_it_shows_the_progress_of_a_running_import_and_refreshes(client, clerk):
    batch = upload(client, new_families(5))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.IMPORTING, claimed_at=timezone.now()
    )
    from django.core.cache import cache

    cache.set(progress_key(batch.pk), 3)

    page = client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk]))

    text = page.content.decode()
    assert "Importing… 3 of 5 rows" in text
    assert '<meta http-equiv="refresh" content="2">' in text
    assert "Confirm and import" not in text


def test_it_writes_nothing_on_a_second_confirmation(client, clerk):
    batch = upload(client, new_families(4))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.IMPORTING, claimed_at=timezone.now()
    )

    again = client.post(reverse("admin:resettlement_importbatch_confirm", args=[batch.pk]))
    batch.refresh_from_db()

    assert (batch.status, background_thread(batch.pk), Person.objects.count()) == (
        ImportStatus.IMPORTING,
        None,
        0,
    )
    assert "This import is already running" in client.get(again.url).content.decode()


def test_it_does_not_import_the_same_file_twice_in_the_background(client, clerk):
    first = upload(client, new_families(3), name="a.csv")
    client.post(reverse("admin:resettlement_importbatch_confirm", args=[first.pk]))
    finish(first)
    second = create_batch(data=to_csv(new_families(3)).encode(), file_name="b.csv", user=clerk)

    started = start_commit_in_background(second, clerk)
    second.refresh_from_db()

    assert (first.status, started, second.status) == (
        ImportStatus.COMMITTED,
        None,
        ImportStatus.READY,
    )
    assert Person.objects.count() == 3


def test_it_records_a_failure_in_the_thread_and_writes_nothing(client, clerk):
    # More than one chunk of good rows (written as the import goes), then a broken quote.
    batch = upload(client, new_families(1100))
    ImportBatch.objects.filter(pk=batch.pk).update(text=batch.text + '"broken\n')

    client.post(reverse("admin:resettlement_importbatch_confirm", args=[batch.pk]))
    finish(batch)

    assert batch.status == ImportStatus.INVALID
    assert len(batch.errors) == 1
    assert batch.errors[0]["message"].startswith("The import failed (Line 1102 cannot be read")
    assert batch.errors[0]["message"].endswith("nothing was written.")
    assert (Household.objects.count(), Person.objects.count()) == (0, 0)
    page = client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk]))
    assert "Importing…" not in page.content.decode()


def cut_off(batch: ImportBatch, claimed_ago: dt.timedelta) -> None:
    """The batch as a server restart leaves it: claimed, no thread, nothing written."""
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.IMPORTING, claimed_at=timezone.now() - claimed_ago, rows_done=0
    )


def test_an_import_cut_off_by_a_restart_can_be_confirmed_again(client, clerk):
    batch = upload(client, new_families(3))
    cut_off(batch, START_GRACE * 2)

    page = client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk]))
    batch.refresh_from_db()

    text = page.content.decode()
    assert batch.status == ImportStatus.READY
    assert "This import was cut off before it finished" in text
    assert "Confirm and import" in text
    assert "Importing…" not in text

    client.post(reverse("admin:resettlement_importbatch_confirm", args=[batch.pk]))
    finish(batch)
    assert batch.status == ImportStatus.COMMITTED
    assert Person.objects.count() == 3


def test_a_just_claimed_import_is_left_to_start(client, clerk):
    batch = upload(client, new_families(3))
    cut_off(batch, START_GRACE / 2)

    page = client.get(reverse("admin:resettlement_importbatch_change", args=[batch.pk]))
    batch.refresh_from_db()

    assert batch.status == ImportStatus.IMPORTING
    assert "Importing…" in page.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_running_import_is_never_taken_for_a_cut_off_one(client, clerk):
    """A long import in another worker holds the batch's row lock for its whole transaction."""
    batch = upload(client, new_families(3))
    cut_off(batch, START_GRACE * 10)
    holding, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                ImportBatch.objects.select_for_update().get(pk=batch.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_worker)
    worker.start()
    try:
        assert holding.wait(timeout=30)
        assert recover_interrupted(batch) is False
        batch.refresh_from_db()
        assert batch.status == ImportStatus.IMPORTING
    finally:
        release.set()
        worker.join(timeout=30)
    # Once that transaction is gone (the worker died), the batch can be confirmed again.
    assert recover_interrupted(batch) is True
    assert batch.status == ImportStatus.READY
