"""Reports and exports read from the replica until the first write; everything else from the primary.

With ``DATABASE_REPLICA_URL`` set (CI sets it), the ``replica`` alias is a test mirror of the
default database, so these tests run the router against one real database (``conftest.py``
lets the alias share the primary's connection, as Django's own test cases do).
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import RequestFactory

from resettlement.models import AccessLog, Country, Program
from tests.reports_fixtures import family, household, kz, user_with
from tracker.db_router import (
    PinToPrimaryMiddleware,
    PrimaryReplicaRouter,
    unit_of_work,
    use_replica,
)

pytestmark = pytest.mark.django_db

READ_ALIAS = "replica" if "replica" in settings.DATABASES else "default"


def test_it_reads_from_the_primary_outside_reports():
    with unit_of_work():
        assert Program.objects.all().db == "default"


def test_it_reads_reports_from_the_replica_with_the_primary_s_data():
    with unit_of_work(), use_replica():
        programs = Program.objects.order_by("code")

        assert programs.db == READ_ALIAS
        assert [p.code for p in programs] == ["KG-KAYRYLMAN", "KZ-KANDAS"]


def test_it_stays_on_the_primary_after_a_write():
    with unit_of_work(), use_replica():
        Country.objects.create(code="QQ", name_en="Testland")
        countries = Country.objects.filter(code="QQ")

        assert countries.db == "default"
        assert [c.name_en for c in countries] == ["Testland"]


def test_it_forgets_the_pin_when_the_request_ends():
    seen = []

    def view(request):
        with use_replica():
            seen.append(Program.objects.all().db)
            User.objects.create_user(f"clerk{len(seen)}")
            seen.append(Program.objects.all().db)
        return None

    middleware = PinToPrimaryMiddleware(view)
    middleware(RequestFactory().get("/"))
    middleware(RequestFactory().get("/"))

    assert seen == [READ_ALIAS, "default", READ_ALIAS, "default"]


def test_it_migrates_the_primary_only():
    router = PrimaryReplicaRouter()

    assert router.allow_migrate("default", "resettlement") is True
    assert router.allow_migrate("replica", "resettlement") is False


class RecordingRouter(PrimaryReplicaRouter):
    """The tracker's router, noting where each read went."""

    reads: list[tuple[str, str]] = []

    def db_for_read(self, model, **hints):
        alias = super().db_for_read(model, **hints)
        self.reads.append((model._meta.label, alias))
        return alias


@pytest.fixture
def reads(settings):
    RecordingRouter.reads = []
    settings.DATABASE_ROUTERS = ["tests.test_db_router.RecordingRouter"]
    return RecordingRouter.reads


@pytest.fixture
def analyst(client, django_user_model):
    user = user_with(django_user_model, "analyst", "view_reports", "export_personal_data")
    client.force_login(user)
    return client


def app_reads(reads: list[tuple[str, str]]) -> set[str]:
    return {alias for label, alias in reads if label.startswith("resettlement.")}


def test_a_report_page_reads_the_register_from_the_replica(analyst, reads):
    family(household(kz(), "KZ-55", status="settled"), 3)
    reads.clear()

    response = analyst.get("/reports/overview/")

    assert response.status_code == 200
    assert app_reads(reads) == {READ_ALIAS}
    # Who is signed in and what they may do is read from the primary (before the view).
    assert {alias for label, alias in reads if label == "auth.User"} == {"default"}


def test_an_export_streams_from_the_replica_and_logs_on_the_primary(analyst, reads):
    family(household(kz(), "KZ-55", status="settled"), 3)
    reads.clear()

    response = analyst.get("/exports/persons.csv")
    rows = b"".join(response.streaming_content).decode().splitlines()

    assert len(rows) == 1 + 3
    assert ("resettlement.Person", READ_ALIAS) in reads
    assert AccessLog.objects.using("default").filter(what="persons.csv", row_count=3).exists()


def test_the_admin_reads_from_the_primary(analyst, reads, django_user_model):
    analyst.force_login(django_user_model.objects.create_superuser("root"))

    assert analyst.get("/admin/resettlement/household/").status_code == 200
    assert app_reads(reads) == {"default"}
