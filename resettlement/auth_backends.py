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


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for the lockout, trusting only our own ``DJANGO_PROXY_COUNT`` proxies.

    Each trusted proxy appends the address it saw to ``X-Forwarded-For``; entries further left
    came from the client and could be forged, so we take the one our outermost proxy wrote.
    """
    from django.conf import settings

    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
