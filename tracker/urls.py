"""URL configuration: the admin for data entry, the site's own pages for reports."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from resettlement import twofactor
from resettlement.languages import set_language

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="admin/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Ours first: it also saves the choice as the user's preferred language.
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/2fa/", twofactor.verify, name="two_factor_verify"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("resettlement.urls")),
]
