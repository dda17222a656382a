"""Fixtures shared by every test module: the two programs, a staff officer, fast passwords.

Reference data (programs, countries, regions, seeded quotas) is loaded by migration 0002, so
it exists in every test database; fixtures fetch it rather than create it.
"""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections
from django.utils import translation

from resettlement.admin.scale import forget_filter_choices
from resettlement.models import Program


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    # Hashing with the production hasher costs a third of a second per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _replica_shares_the_test_connection():
    """With ``DATABASE_REPLICA_URL`` set (CI's replica stage) the ``replica`` alias is a test
    mirror of the primary; as in Django's own test cases, it uses the primary's connection, so
    report and export views, which read from it, see the test's uncommitted rows."""
    if "replica" not in django_settings.DATABASES:
        yield
        return
    original = connections["replica"]
    connections["replica"] = connections["default"]
    yield
    connections["replica"] = original


@pytest.fixture(autouse=True)
def _fresh_filter_choices():
    # A worker keeps the reference filters' choices until a program, region, group or country
    # changes; a test's rows vanish by rollback, which sends no signal.
    forget_filter_choices()
    yield
    forget_filter_choices()


@pytest.fixture(autouse=True)
def _default_language():
    # A request through the test client leaves its language active in the thread (LocaleMiddleware
    # activates, nothing deactivates); every test starts in the default language instead.
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def kz_program(db) -> Program:
    """Kazakhstan's kandas program: status for 12 months, one extension of up to 6."""
    return Program.objects.get(code="KZ-KANDAS")


@pytest.fixture
def kg_program(db) -> Program:
    """Kyrgyzstan's kayrylman program: status for 36 months, no extension."""
    return Program.objects.get(code="KG-KAYRYLMAN")


@pytest.fixture
def officer(django_user_model) -> AbstractBaseUser:
    """A staff user with no particular permissions, who records case changes."""
    return django_user_model.objects.create_user(
        username="officer", password="officer-password", is_staff=True
    )
