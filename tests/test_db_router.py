"""Reports and exports read from the replica until the first write; everything else from the primary.

With ``DATABASE_REPLICA_URL`` set (CI sets it), the ``replica`` alias is a test mirror of the
default database, so these tests run the router against one real database.
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import RequestFactory

from resettlement.models import Country, Program
from tracker.db_router import (
    PinToPrimaryMiddleware,
    PrimaryReplicaRouter,
    unit_of_work,
    use_replica,
)

pytestmark = pytest.mark.django_db

READ_ALIAS = "replica" if "replica" in settings.DATABASES else "default"


@pytest.fixture(autouse=True)
def replica_shares_the_test_connection(db):
    """Like a test mirror in Django's own test cases: the replica alias uses the primary's
    connection, so it sees the test's uncommitted rows (and opens no second session)."""
    if "replica" not in settings.DATABASES:
        yield
        return
    original = connections["replica"]
    connections["replica"] = connections["default"]
    yield
    connections["replica"] = original


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
