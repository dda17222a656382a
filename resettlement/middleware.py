"""Request-level security: no caching of personal data, absolute session lifetime, 2FA for staff."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

LOGIN_AT_SESSION_KEY = "resettlement_login_at"

#: Pages that show personal data (or aggregates of it) to signed-in staff.
NO_STORE_PREFIXES = ("/admin/", "/exports/", "/reports/", "/accounts/")


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page with personal data, so no browser or proxy keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(NO_STORE_PREFIXES):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response


SEEN_AT_SESSION_KEY = "_resettlement_seen_at"


@receiver(user_logged_in)
def _remember_login_time(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_SESSION_KEY] = int(time.time())
        request.session[SEEN_AT_SESSION_KEY] = int(time.time())


#: How often an active session's idle clock is pushed forward (a session write).
IDLE_CLOCK_RESOLUTION_SECONDS = 60


class AbsoluteSessionLifetimeMiddleware:
    """End a session ``SESSION_ABSOLUTE_SECONDS`` after sign-in, however active it has been.

    Inactivity expiry is Django's own: a session expires ``SESSION_COOKIE_AGE`` after it was
    last saved. Instead of saving on every request (one more write per page), an active
    session is saved at most once a minute, which moves that expiry forward.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            login_at = request.session.get(LOGIN_AT_SESSION_KEY)
            if login_at is None:
                request.session[LOGIN_AT_SESSION_KEY] = int(time.time())
            elif time.time() - login_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)  # flushes the session
                return HttpResponseRedirect(
                    f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}"
                )
            now = int(time.time())
            if now - request.session.get(SEEN_AT_SESSION_KEY, 0) >= IDLE_CLOCK_RESOLUTION_SECONDS:
                request.session[SEEN_AT_SESSION_KEY] = now
        return self.get_response(request)


class RequireTwoFactorMiddleware:
    """With ``REQUIRE_2FA``, a staff user must pass a TOTP check before any other page.

    Staff without a confirmed device are sent to set one up, the others to enter a code.
    Needs ``django_otp.middleware.OTPMiddleware`` before it (it sets ``user.is_verified``).
    """

    #: Reachable before the second factor: the 2FA pages themselves, sign-out, static files.
    OPEN_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/admin/logout/", "/i18n/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.REQUIRE_2FA
            and user.is_authenticated
            and user.is_staff
            and not user.is_verified()
            and not request.path.startswith(self.OPEN_PREFIXES)
            and not request.path.startswith("/" + settings.STATIC_URL.lstrip("/"))
        ):
            target = reverse("two_factor_verify")
            next_url = request.get_full_path()
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = "/"
            return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}")
        return self.get_response(request)
