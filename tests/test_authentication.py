"""Sign-in hardening: lockout, second factor, session lifetimes, sign-out, security headers."""

import datetime as dt
import time

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from resettlement import roles
from resettlement.middleware import LOGIN_AT_SESSION_KEY, SEEN_AT_SESSION_KEY

from .access_fixtures import PASSWORD, staff_user

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str):
    return client.post(reverse("admin:login"), {"username": username, "password": password})


def test_it_locks_out_a_username_after_the_configured_failures_while_others_sign_in(settings):
    settings.AXES_FAILURE_LIMIT = 3
    staff_user("alice", roles.REGISTRAR)
    staff_user("bob", roles.REGISTRAR)
    attacker, colleague = Client(), Client()

    failures = [sign_in(attacker, "alice", "wrong").status_code for _ in range(3)]
    locked = sign_in(attacker, "alice", PASSWORD)
    other = sign_in(colleague, "bob", PASSWORD)

    assert failures == [200, 200, 429]
    assert locked.status_code == 429
    assert "_auth_user_id" not in attacker.session
    assert other.status_code == 302
    assert colleague.session["_auth_user_id"] == str(User.objects.get(username="bob").pk)


def test_it_sends_staff_to_set_up_a_second_factor_before_any_page(client, settings):
    settings.REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no waiting after the wrong code in this test
    user = staff_user("clerk", roles.REGISTRAR)
    client.force_login(user)

    blocked = client.get(reverse("admin:index"))
    setup = client.get(reverse("two_factor_verify"), {"next": "/admin/"})
    device = TOTPDevice.objects.get(user=user)
    wrong = client.post(reverse("two_factor_verify"), {"token": "000000", "next": "/admin/"})
    token = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    verified = client.post(reverse("two_factor_verify"), {"token": str(token), "next": "/admin/"})
    index = client.get(reverse("admin:index"))

    assert (blocked.status_code, blocked["Location"]) == (302, "/accounts/2fa/?next=%2Fadmin%2F")
    assert setup.context["setting_up"] is True
    assert "<svg" in setup.content.decode()
    assert wrong.status_code == 200
    assert (verified.status_code, verified["Location"]) == (302, "/admin/")
    assert index.status_code == 200
    device.refresh_from_db()
    assert device.confirmed is True


def test_it_does_not_ask_for_a_second_factor_in_development(client, settings):
    settings.REQUIRE_2FA = False
    client.force_login(staff_user("clerk", roles.REGISTRAR))

    assert client.get(reverse("admin:index")).status_code == 200


def test_it_ends_a_session_after_its_absolute_lifetime(client, settings):
    settings.SESSION_ABSOLUTE_SECONDS = 3600
    client.force_login(staff_user("clerk", roles.REGISTRAR))
    session = client.session
    session[LOGIN_AT_SESSION_KEY] = int(time.time()) - 3601
    session.save()

    response = client.get(reverse("admin:index"))

    assert (response.status_code, response["Location"]) == (
        302,
        "/accounts/login/?next=%2Fadmin%2F",
    )
    assert "_auth_user_id" not in client.session


def test_it_expires_idle_sessions_and_renews_active_ones(client, settings):
    client.force_login(staff_user("clerk", roles.REGISTRAR))
    session = client.session
    session[SEEN_AT_SESSION_KEY] -= 120  # the last page was two minutes ago
    session.save()
    key = session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + dt.timedelta(seconds=60)
    )

    active = client.get(reverse("admin:index"))
    renewed = Session.objects.get(session_key=key).expire_date
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    idle = client.get(reverse("admin:index"))

    assert active.status_code == 200
    assert renewed > timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    assert idle.status_code == 302
    assert idle["Location"].startswith("/admin/login/")


def test_it_does_not_write_the_session_on_every_page(client):
    client.force_login(staff_user("clerk", roles.REGISTRAR))
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date

    client.get(reverse("admin:index"))

    assert Session.objects.get(session_key=key).expire_date == before


def test_it_kills_the_session_on_sign_out(client):
    client.force_login(staff_user("clerk", roles.REGISTRAR))
    key = client.session.session_key

    response = client.post(reverse("logout"))
    after = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert not Session.objects.filter(session_key=key).exists()
    assert after.status_code == 302


def test_it_sends_no_store_and_a_content_security_policy_on_admin_pages(admin_client):
    response = admin_client.get(reverse("admin:resettlement_person_changelist"))

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_still_lets_code_sign_in_without_a_request(client):
    staff_user("clerk", roles.REGISTRAR)

    assert client.login(username="clerk", password=PASSWORD) is True
    assert client.login(username="clerk", password="wrong") is False


def test_it_locks_out_by_the_address_the_proxy_saw_not_a_forged_one(settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    staff_user("alice", roles.REGISTRAR)
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")

    for forged in ("1.1.1.1", "2.2.2.2"):
        attacker.post(
            reverse("admin:login"),
            {"username": "alice", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.5",
        )
    locked = attacker.post(
        reverse("admin:login"),
        {"username": "alice", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="3.3.3.3, 203.0.113.5",
    )
    elsewhere = sign_in(colleague, "alice", PASSWORD)

    assert locked.status_code == 429
    assert elsewhere.status_code == 302
