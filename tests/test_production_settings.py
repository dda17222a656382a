"""The production profile: refuses to start half-configured; ``check --deploy`` is clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = "import django; django.setup()"


def run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL")) or k == "DJANGO_SETTINGS_MODULE"
    }
    base["DJANGO_SETTINGS_MODULE"] = "tracker.settings"
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "tracker.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/tracker_check",
}


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "Set DJANGO_SECRET_KEY"),
        ("DJANGO_ALLOWED_HOSTS", "Set DJANGO_ALLOWED_HOSTS"),
        ("DATABASE_URL", "PostgreSQL DATABASE_URL"),
    ],
)
def test_it_refuses_to_start_in_production_without_required_settings(missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = run(["-c", SETUP], **env)

    assert result.returncode != 0
    assert message in result.stderr


def test_it_refuses_sqlite_in_production():
    result = run(["-c", SETUP], **{**PRODUCTION, "DATABASE_URL": "sqlite:////tmp/x.sqlite3"})

    assert result.returncode != 0
    assert "PostgreSQL DATABASE_URL" in result.stderr


def test_it_passes_the_deployment_checks_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_requires_two_factor_sign_in_in_production():
    code = f"{SETUP}; from django.conf import settings as s; print(s.REQUIRE_2FA, s.DEBUG)"

    result = run(["-c", code], **PRODUCTION)

    assert result.stdout.split()[-2:] == ["True", "False"]


def test_it_keeps_postgresql_connections_open_between_requests():
    code = (
        f"{SETUP}; from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d['OPTIONS']['options'])"
    )

    default = run(["-c", code], **PRODUCTION)
    changed = run(["-c", code], **PRODUCTION, DATABASE_CONN_MAX_AGE="0")

    assert default.stdout.split()[:2] == ["60", "True"], default.stderr
    assert "-c jit=off" in default.stdout
    assert changed.stdout.split()[0] == "0"
