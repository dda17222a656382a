"""The interface language: each staff user's preferred language follows them from login.

Django picks a language per request from the ``django_language`` cookie or the browser's
``Accept-Language`` (``LocaleMiddleware``). On top of that:

- at login, the user's ``StaffProfile.preferred_language`` is put into the session
  (:func:`remember_preferred_language`, connected in ``apps.py``);
- :class:`PreferredLanguageMiddleware` activates the session's language on every request of a
  logged-in user and keeps the cookie in step, so the login page after a logout speaks the
  same language;
- the language switcher posts to :func:`set_language`, which does what Django's view does and
  also saves the choice as the user's preference.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .models import StaffProfile

SESSION_KEY = "preferred_language"


def is_interface_language(code: str | None) -> bool:
    return bool(code) and code in dict(settings.LANGUAGES)


def remember_preferred_language(
    sender: type, request: HttpRequest, user: AbstractBaseUser, **kwargs: object
) -> None:
    """``user_logged_in`` receiver: the session speaks the user's preferred language."""
    language = (
        StaffProfile.objects.filter(user=user).values_list("preferred_language", flat=True).first()
    )
    if is_interface_language(language) and hasattr(request, "session"):
        request.session[SESSION_KEY] = language
        translation.activate(language)


class PreferredLanguageMiddleware:
    """Activate the logged-in user's language (after ``LocaleMiddleware`` and the session).

    Reads the session only (no query per request); the session holds the preference from login
    or from the last switch.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if is_interface_language(language):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        # The view may have switched the language (set_language); read the session again.
        language = session.get(SESSION_KEY) if session is not None else None
        cookie = settings.LANGUAGE_COOKIE_NAME
        stale = is_interface_language(language) and request.COOKIES.get(cookie) != language
        if stale and cookie not in response.cookies:
            response.set_cookie(
                cookie,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (cookie and redirect), plus: save it as the user's preference."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if is_interface_language(language) and request.user.is_authenticated:
        StaffProfile.objects.update_or_create(
            user=request.user, defaults={"preferred_language": language}
        )
        request.session[SESSION_KEY] = language
    return response
