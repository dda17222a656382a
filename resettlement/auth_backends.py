"""Authentication backends."""

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for sign-ins that come with a request.

    Every sign-in form passes the request, so every sign-in over HTTP is checked. Code that
    authenticates without one (``Client.login`` in tests, scripts) has no address to lock and
    falls through to the next backend instead of failing.
    """

    def authenticate(self, request: HttpRequest | None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
