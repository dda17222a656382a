"""Russian, Kazakh and Kyrgyz: complete catalogs, every admin page rendered in each language,
the preferred language, reference names, locale formatting and search in every language."""

import datetime as dt
import html
import json
import re
from decimal import Decimal

import polib
import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from resettlement.csv_format import escape_cell
from resettlement.enums import CaseStatus
from resettlement.models import Country, Group, Household, Person, Program, Region, StaffProfile
from resettlement.services.cases import case_transition, open_case
from resettlement.translations import (
    CATALOG_LANGUAGES,
    Msg,
    catalog_path,
    catalog_problems,
    source_messages,
)

pytestmark = pytest.mark.django_db

LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


# --- the catalogs ------------------------------------------------------------------------


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_it_translates_every_string_of_our_code(language):
    assert catalog_problems(language) == []


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_it_completes_djangos_own_kazakh_admin_catalogs(domain):
    path = settings.LOCALE_PATHS[1] / "kk" / "LC_MESSAGES" / f"{domain}.po"
    catalog = polib.pofile(str(path))

    assert catalog.percent_translated() == 100
    assert catalog.fuzzy_entries() == []
    with translation.override("kk"):
        assert translation.gettext("Recent actions") == "Соңғы әрекеттер"


def test_it_reports_a_string_that_is_missing_from_the_catalog(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(
        'from django.utils.translation import gettext_lazy as _\nTITLE = _("A brand-new page")\n'
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        '{% load i18n %}<h1>{% translate "Status change" %}</h1>'
        "{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}"
    )

    messages = source_messages(tmp_path)
    problems = catalog_problems("ru", messages)

    assert messages == {
        Msg("A brand-new page", source="app/views.py"),
        Msg("Status change", source="templates/page.html"),
        Msg("Hello %(name)s", source="templates/page.html"),
    }
    assert problems == [
        "ru: 'A brand-new page' (app/views.py) is not in the catalog; "
        "run `make translations` and translate it",
        "ru: 'Hello %(name)s' (templates/page.html) is not in the catalog; "
        "run `make translations` and translate it",
    ]


# --- every admin page in every language --------------------------------------------------


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("boss", "boss@example.org", "x" * 16)


@pytest.fixture
def case_data(superuser):
    """One of everything our admin pages show: a group and a granted case with two members."""
    program = Program.objects.get(code="KZ-KANDAS")
    afghanistan = Country.objects.get(code="AF")
    group = Group.objects.create(
        program=program, name="Рейс 1", origin_country=afghanistan, planned_size=35
    )
    household = open_case(
        household=Household(
            program=program,
            group=group,
            origin_country=afghanistan,
            destination_region=Region.objects.get(code="KZ-55"),
            quota_year=2026,
        ),
        by=superuser,
        on=dt.date(2026, 1, 10),
    )
    Person.objects.create(
        household=household,
        relation="head",
        surname="Масадыков",
        given_name="Нурлан",
        sex="M",
        birth_date=dt.date(1980, 11, 30),
    )
    Person.objects.create(
        household=household, relation="spouse", surname="Масадыкова", given_name="Әлия", sex="F"
    )
    for step in (CaseStatus.APPLIED, CaseStatus.UNDER_REVIEW, CaseStatus.GRANTED):
        case_transition(household=household, to=step, by=superuser, on=dt.date(2026, 2, 1))
    household.refresh_from_db()
    return household


def our_admin_pages(household: Household) -> list[str]:
    """The admin index, and changelist, add and change page of every model of our app."""
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label != "resettlement":
            continue
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(_SuperuserRequest()):
            urls.append(reverse(f"{prefix}_add"))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            urls.append(reverse(f"{prefix}_change", args=[obj.pk]))
    urls += [
        reverse("admin:resettlement_household_transition", args=[household.pk]),
        reverse("admin:resettlement_household_extend", args=[household.pk]),
        reverse("admin:auth_user_change", args=[household.status_changes.first().changed_by_id]),
    ]
    return urls


class _SuperuserRequest:
    class user:  # noqa: N801  (stands in for request.user)
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(perm, obj=None):
            return True


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def english_leftovers(page: str, language: str) -> list[str]:
    """Our multi-word English strings that show on a page that should be in ``language``."""
    catalog = polib.pofile(str(catalog_path(language)))
    text = visible_text(page).casefold()
    return [
        entry.msgid
        for entry in catalog.translated_entries()
        if " " in entry.msgid
        and "%" not in entry.msgid
        and entry.msgid != entry.msgstr
        and entry.msgid.casefold() in text
    ]


@pytest.mark.parametrize("language", CATALOG_LANGUAGES)
def test_it_renders_every_admin_page_in_each_language(client, superuser, case_data, language):
    client.force_login(superuser)
    client.cookies[LANGUAGE_COOKIE] = language
    with translation.override(language):
        site_header = str(admin.site.site_header)

    problems = {}
    for url in our_admin_pages(case_data):
        # Some add pages lead to their own step (e.g. preparing a payment run): follow them.
        response = client.get(url, follow=True)
        page = response.content.decode()
        if response.status_code != 200:
            problems[url] = response.status_code
        elif f'<html lang="{language}"' not in page or site_header not in page:
            problems[url] = "not in the language"
        elif leftovers := english_leftovers(page, language):
            problems[url] = leftovers

    assert len(our_admin_pages(case_data)) >= 20
    assert problems == {}


def test_it_declares_kazakh_on_the_login_page_and_the_household_page(client, superuser, case_data):
    client.cookies[LANGUAGE_COOKIE] = "kk"

    login_page = client.get(reverse("admin:login")).content.decode()
    client.force_login(superuser)
    case_page = client.get(
        reverse("admin:resettlement_household_change", args=[case_data.pk])
    ).content.decode()

    assert '<html lang="kk"' in login_page
    assert '<html lang="kk"' in case_page
    assert "Мәртебені өзгерту" in case_page  # "Change status"
    assert "Мәртебе берілді" in case_page  # the status, "Status granted"


# --- the preferred language and the switcher ---------------------------------------------


def test_it_switches_to_the_preferred_language_at_login(client):
    user = get_user_model().objects.create_user(
        "aigerim", password="correct horse battery", is_staff=True
    )
    StaffProfile.objects.create(user=user, preferred_language="kk")
    client.cookies[LANGUAGE_COOKIE] = "ru"

    response = client.post(
        reverse("admin:login"),
        {"username": "aigerim", "password": "correct horse battery", "next": "/admin/"},
        follow=True,
    )

    assert response.redirect_chain == [("/admin/", 302)]
    assert '<html lang="kk"' in response.content.decode()
    assert client.cookies[LANGUAGE_COOKIE].value == "kk"


def test_it_keeps_the_browser_language_for_a_user_without_preference(client):
    user = get_user_model().objects.create_user("bolot", password="x" * 16, is_staff=True)
    client.cookies[LANGUAGE_COOKIE] = "ky"
    client.force_login(user)

    page = client.get(reverse("admin:index")).content.decode()

    assert '<html lang="ky"' in page
    assert not StaffProfile.objects.filter(user=user).exists()


def test_it_saves_the_language_chosen_with_the_switcher(client, superuser):
    client.force_login(superuser)

    response = client.post(
        reverse("set_language"), {"language": "ky", "next": reverse("admin:index")}
    )
    page = client.get(reverse("admin:index")).content.decode()

    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    assert client.cookies[LANGUAGE_COOKIE].value == "ky"
    assert StaffProfile.objects.get(user=superuser).preferred_language == "ky"
    assert '<html lang="ky"' in page


def test_it_prefers_the_saved_language_over_an_old_cookie(client, superuser):
    StaffProfile.objects.create(user=superuser, preferred_language="ru")
    client.force_login(superuser)
    client.cookies[LANGUAGE_COOKIE] = "en"

    response = client.get(reverse("admin:index"))

    assert '<html lang="ru"' in response.content.decode()
    assert response.cookies[LANGUAGE_COOKIE].value == "ru"


def test_it_switches_an_anonymous_visitor_by_cookie_only(client):
    response = client.post(
        reverse("set_language"), {"language": "kk", "next": reverse("admin:login")}
    )

    assert response.cookies[LANGUAGE_COOKIE].value == "kk"
    assert StaffProfile.objects.count() == 0


def test_it_shows_the_switcher_on_every_admin_page(client, superuser):
    client.cookies[LANGUAGE_COOKIE] = "ru"
    login_page = client.get(reverse("admin:login")).content.decode()
    client.force_login(superuser)
    index = client.get(reverse("admin:index")).content.decode()

    for page in (login_page, index):
        buttons = re.findall(r'<button type="submit" name="language" value="(\w+)"', page)
        assert buttons == ["en", "ru", "kk", "ky"]
        assert 'value="ru" lang="ru" title="Русский" aria-current="true" disabled' in page


def test_it_edits_the_preferred_language_on_the_user_page(client, superuser):
    clerk = get_user_model().objects.create_user("clerk", password="x" * 16, is_staff=True)
    client.force_login(superuser)
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    form = client.get(url).context["adminform"].form
    data = {
        "username": "clerk",
        "password": form.initial["password"],
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2026-11-30",
        "date_joined_1": "10:00",
        "staff_profile-TOTAL_FORMS": "1",
        "staff_profile-INITIAL_FORMS": "0",
        "staff_profile-MIN_NUM_FORMS": "0",
        "staff_profile-MAX_NUM_FORMS": "1",
        "staff_profile-0-preferred_language": "ky",
        "staff_profile-0-user": str(clerk.pk),
    }

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert StaffProfile.objects.get(user=clerk).preferred_language == "ky"


# --- reference data and enums in the active language -------------------------------------


@pytest.mark.parametrize(
    ("language", "country", "region", "status"),
    [
        ("en", "Afghanistan", "Pavlodar Region", "Status granted"),
        ("ru", "Афганистан", "Павлодарская область", "Статус присвоен"),
        ("kk", "Ауғанстан", "Павлодар облысы", "Мәртебе берілді"),
        ("ky", "Ооганстан", "Павлодар облусу", "Статус берилди"),
    ],
)
def test_it_names_reference_data_and_statuses_in_the_active_language(
    language, country, region, status
):
    with translation.override(language):
        names = (
            str(Country.objects.get(code="AF")),
            str(Region.objects.get(code="KZ-55")),
            str(CaseStatus.GRANTED.label),
        )

    assert names == (country, region, status)


def test_it_falls_back_to_the_english_name():
    Country.objects.create(code="ZZ", name_en="Zedland", name_ru="Зедландия")

    with translation.override("kk"):
        name = str(Country.objects.get(code="ZZ"))

    assert name == "Zedland"


def test_it_answers_autocomplete_in_the_active_language(client, superuser):
    client.force_login(superuser)
    client.cookies[LANGUAGE_COOKIE] = "kk"

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "resettlement",
            "model_name": "household",
            "field_name": "origin_country",
            "term": "афг",
        },
    )

    assert json.loads(response.content)["results"] == [{"id": "AF", "text": "Ауғанстан"}]


def test_it_lists_reference_data_in_the_active_language(client, superuser):
    client.force_login(superuser)
    client.cookies[LANGUAGE_COOKIE] = "ru"

    regions = client.get(reverse("admin:resettlement_region_changelist"), {"q": "павлодар"})
    countries = client.get(reverse("admin:resettlement_country_changelist"))
    add_household = client.get(reverse("admin:resettlement_household_add")).content.decode()

    assert [str(r) for r in regions.context["cl"].result_list] == ["Павлодарская область"]
    assert re.search(
        r'<th scope="col" class="column-name">.*?Название', regions.content.decode(), re.S
    )
    names = [c.name_ru for c in countries.context["cl"].result_list]
    assert names == sorted(names)  # sorted by the Russian names, not the English ones
    assert '<option value="AF">Афганистан</option>' in add_household  # a member's citizenship


# --- dates, numbers, money; CSV stays plain ----------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "1,376,200 ₸|12,500 сом|1,164,800|1,234.50 ₸|30.11.2026|2026"),
        ("ru", "1 376 200 ₸|12 500 сом|1 164 800|1 234,50 ₸|30.11.2026|2026"),
        ("kk", "1 376 200 ₸|12 500 сом|1 164 800|1 234,50 ₸|30.11.2026|2026"),
        ("ky", "1 376 200 ₸|12 500 сом|1 164 800|1 234,50 ₸|30.11.2026|2026"),
    ],
)
def test_it_formats_money_numbers_and_dates_by_language(language, expected):
    template = Template(
        "{% load money %}{{ kzt|money:'KZT' }}|{{ kgs|money:'KGS' }}|{{ people|number }}|"
        "{{ half|money:'KZT' }}|{{ day }}|{{ year }}"
    )
    context = Context(
        {
            "kzt": Decimal("1376200.00"),
            "kgs": 12500,
            "people": 1164800,
            "half": Decimal("1234.5"),
            "day": dt.date(2026, 11, 30),
            "year": 2026,
        }
    )

    with translation.override(language):
        rendered = template.render(context)

    assert rendered == expected.replace(" ", "\xa0")


def test_it_leaves_empty_amounts_empty():
    rendered = Template("{% load money %}[{{ none|money:'KZT' }}][{{ text|number }}]").render(
        Context({"none": None, "text": "—"})
    )

    assert rendered == "[][—]"


@pytest.mark.parametrize("language", ["en", *CATALOG_LANGUAGES])
def test_it_writes_csv_cells_as_iso_dates_and_plain_numbers_in_every_language(language):
    with translation.override(language):
        cells = [
            escape_cell(v) for v in (dt.date(2026, 11, 30), Decimal("1376200.00"), 12500, 2026)
        ]

    assert cells == ["2026-11-30", "1376200.00", "12500", "2026"]


def test_it_shows_a_birth_date_the_local_way(case_data):
    head = case_data.members.get(relation="head")

    with translation.override("kk"):
        shown = head.birth_display

    assert shown == "30.11.1980"


# --- names in both scripts; search in every language -------------------------------------


@pytest.mark.parametrize("language", ["en", *CATALOG_LANGUAGES])
@pytest.mark.parametrize("query", ["Масадыков", "masadykov", "МАСАДЫКОВА Әлия", "Masadykova Aliya"])
def test_it_finds_a_household_whatever_the_script_and_the_language(
    client, superuser, case_data, language, query
):
    client.force_login(superuser)
    client.cookies[LANGUAGE_COOKIE] = language

    response = client.get(reverse("admin:resettlement_household_changelist"), {"q": query})

    assert [h.reference for h in response.context["cl"].result_list] == [case_data.reference]


def test_it_shows_names_in_both_scripts(client, superuser, case_data):
    client.force_login(superuser)
    client.cookies[LANGUAGE_COOKIE] = "kk"

    households = client.get(reverse("admin:resettlement_household_changelist")).content.decode()
    people = client.get(reverse("admin:resettlement_person_changelist")).content.decode()

    assert "Масадыков Нурлан / Masadykov Nurlan" in households
    assert "Масадыкова Әлия" in people
    assert "Masadykova Aliya" in people


def test_it_fills_gaps_in_djangos_kazakh_admin(client, superuser):
    client.force_login(superuser)
    client.cookies[LANGUAGE_COOKIE] = "kk"

    response = client.post(reverse("admin:resettlement_household_add"), {})

    page = response.content.decode()
    assert "Төмендегі қателерді түзетіңіз." in page or "Төмендегі қатені түзетіңіз." in page
