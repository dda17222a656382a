"""The admin's navigation sidebar is rendered once per different content and kept
(``resettlement/templatetags/admin_sidebar.py``): the same HTML as Django's own template, for
every user, page and language, and never stale."""

import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.template.loader import get_template
from django.utils import translation

from resettlement.templatetags import admin_sidebar
from tests.reports_fixtures import user_with

pytestmark = pytest.mark.django_db

SIDEBAR = re.compile(r'<button class="sticky toggle-nav-sidebar".*?</nav>', re.S)


def sidebar_of(response) -> str:
    assert response.status_code == 200
    found = SIDEBAR.findall(response.content.decode())
    assert len(found) == 1
    return found[0]


def djangos_sidebar(response) -> str:
    """What Django's ``admin/nav_sidebar.html`` renders for the same request and user."""
    request = response.wsgi_request
    with translation.override(request.LANGUAGE_CODE):
        context = admin.site.each_context(request)
        html = get_template("admin/nav_sidebar.html").render(context, request)
    return SIDEBAR.findall(html)[0]


@pytest.fixture(autouse=True)
def _empty_cache():
    admin_sidebar._rendered.clear()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/resettlement/household/",
        "/admin/resettlement/person/?q=Ахмет",
        "/admin/resettlement/program/",
        "/admin/auth/user/",
    ],
)
def test_it_writes_djangos_sidebar_for_a_superuser_on_any_page(client, django_user_model, path):
    client.force_login(django_user_model.objects.create_superuser("root"))
    first = client.get(path)
    again = client.get(path)  # from the kept HTML
    assert sidebar_of(first) == djangos_sidebar(first)
    assert sidebar_of(again) == sidebar_of(first)
    assert 'aria-current="page"' in sidebar_of(first)


def test_the_second_page_reuses_the_sidebar_instead_of_rendering_it(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root"))
    first = client.get("/admin/resettlement/household/")
    again = client.get("/admin/resettlement/household/?q=KZ")
    rendered = [[t.name for t in r.templates] for r in (first, again)]
    assert "admin/app_list.html" in rendered[0]
    assert "admin/app_list.html" not in rendered[1]
    assert sidebar_of(again) == djangos_sidebar(again)


def test_the_current_model_follows_the_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root"))
    households = sidebar_of(client.get("/admin/resettlement/household/"))
    persons = sidebar_of(client.get("/admin/resettlement/person/"))
    assert 'class="model-household current-model"' in households
    assert 'class="model-person current-model"' not in households
    assert 'class="model-person current-model"' in persons
    assert 'class="model-household current-model"' not in persons


def test_a_new_permission_shows_on_the_next_page(client, django_user_model):
    clerk = user_with(django_user_model, "clerk", "view_household")
    client.force_login(clerk)
    before = client.get("/admin/resettlement/household/")
    assert "/admin/resettlement/household/" in sidebar_of(before)
    assert "/admin/resettlement/person/" not in sidebar_of(before)
    assert "addlink" not in sidebar_of(before)

    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_person", "add_household"])
    )
    after = client.get("/admin/resettlement/household/")
    assert sidebar_of(after) == djangos_sidebar(after)
    assert "/admin/resettlement/person/" in sidebar_of(after)
    assert 'href="/admin/resettlement/household/add/" class="addlink"' in sidebar_of(after)


def test_each_language_gets_its_own_sidebar(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root"))
    english = client.get("/admin/resettlement/household/")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    russian = client.get("/admin/resettlement/household/")
    assert sidebar_of(russian) == djangos_sidebar(russian)
    assert "Start typing to filter" in sidebar_of(english)
    assert "Start typing to filter" not in sidebar_of(russian)
    assert sidebar_of(russian) != sidebar_of(english)


def test_the_kept_sidebars_are_bounded(client, django_user_model, monkeypatch):
    monkeypatch.setattr(admin_sidebar, "MAX_ENTRIES", 2)
    client.force_login(django_user_model.objects.create_superuser("root"))
    for path in (
        "/admin/resettlement/program/",
        "/admin/resettlement/household/",
        "/admin/resettlement/person/",
    ):
        client.get(path)
        assert len(admin_sidebar._rendered) <= 2
