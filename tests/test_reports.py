"""Report pages: exact figures on the hand-built 2021 world, CSV equal to the page, filters,
refused users, and query counts that do not grow with the data."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from resettlement.models import AgeBandLimits, Group, Household, Person
from tests.reports_fixtures import build_world, household, kz, member, user_with
from tests.reports_helpers import comparable, csv_bytes, csv_rows, page_tables

pytestmark = pytest.mark.django_db

REPORT_NAMES = ["overview", "status-grants", "arrivals", "quota", "demographics", "groups"]


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def manager(django_user_model):
    return user_with(django_user_model, "manager", "view_reports")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def url(name: str) -> str:
    return reverse("reports:report", args=[name])


def tables_of(response) -> dict:
    return {item["table"].code: item["table"] for item in response.context["tables"]}


# --- figures --------------------------------------------------------------------------------


def test_it_counts_the_35_people_of_september_2021_in_five_regions(manager_client, world):
    response = manager_client.get(
        url("arrivals"), {"date_from": "2021-09-01", "date_to": "2021-09-30"}
    )

    tables = tables_of(response)
    assert tables["by_region"].rows == [
        ("KZ-11", "Akmola Region", 7, 7),
        ("KZ-39", "Kostanay Region", 6, 6),
        ("KZ-55", "Pavlodar Region", 8, 8),
        ("KZ-59", "North Kazakhstan Region", 6, 6),
        ("KZ-63", "East Kazakhstan Region", 8, 8),
    ]
    assert [c.code for c in tables["by_region"].columns] == [
        "region_code",
        "region",
        "2021",
        "total",
    ]
    assert tables["by_region"].totals == ("Total", "", 35, 35)
    assert tables["by_country"].rows == [("AF", "Afghanistan", 9, 35)]


def test_it_shows_arrivals_by_region_and_year_with_districts_rolled_up(manager_client, world):
    response = manager_client.get(url("arrivals"))

    tables = tables_of(response)
    assert tables["by_region"].rows == [
        ("KG-O", "Osh Region", 6, 0, 0, 6),  # Chong-Alai district counts for Osh oblast
        ("KZ-11", "Akmola Region", 0, 7, 2, 9),
        ("KZ-39", "Kostanay Region", 0, 6, 0, 6),
        ("KZ-55", "Pavlodar Region", 0, 8, 5, 13),
        ("KZ-59", "North Kazakhstan Region", 0, 6, 0, 6),
        ("KZ-63", "East Kazakhstan Region", 0, 8, 0, 8),
    ]
    assert tables["by_region"].totals == ("Total", "", 6, 35, 7, 48)
    assert tables["by_country"].rows == [
        ("AF", "Afghanistan", 10, 41),
        ("CN", "China", 2, 7),
    ]


def test_it_shows_a_kazakhstan_scoped_user_no_kyrgyz_arrivals(client, django_user_model, world):
    user = user_with(django_user_model, "kz-analyst", "view_reports", programs=[kz()])
    client.force_login(user)

    tables = tables_of(client.get(url("arrivals")))
    download = csv_rows(client.get(url("arrivals"), {"format": "csv", "table": "by_region"}))

    assert [row[0] for row in tables["by_region"].rows] == [
        "KZ-11",
        "KZ-39",
        "KZ-55",
        "KZ-59",
        "KZ-63",
    ]
    assert tables["by_region"].totals == ("Total", "", 35, 7, 42)
    assert [row[0] for row in download[1:]] == ["KZ-11", "KZ-39", "KZ-55", "KZ-59", "KZ-63"]


def test_it_shows_the_345_who_returned_and_where_each_group_was_placed(manager_client, world):
    response = manager_client.get(url("groups"))

    tables = tables_of(response)
    assert tables["groups"].rows == [
        (
            world.convoy.pk,
            "Badakhshan convoy, July 2021",
            "KG-KAYRYLMAN",
            "Afghanistan",
            "Returned to origin",
            345,  # planned
            69,
            345,
            0,  # in process
            0,  # in transit
            0,  # arrived
            0,  # refused or withdrawn
            345,  # returned abroad
            0,  # closed
        ),
        (
            world.flight.pk,
            "Kabul evacuation flight, 9 Sep 2021",
            "KZ-KANDAS",
            "Afghanistan",
            "Arrived",
            35,
            9,
            35,
            0,
            0,
            35,
            0,
            0,
            0,
        ),
    ]
    assert tables["placements"].rows == [
        ("Badakhshan convoy, July 2021", "", "not placed yet", 69, 345),
        ("Kabul evacuation flight, 9 Sep 2021", "KZ-11", "Akmola Region", 2, 7),
        ("Kabul evacuation flight, 9 Sep 2021", "KZ-39", "Kostanay Region", 2, 6),
        ("Kabul evacuation flight, 9 Sep 2021", "KZ-55", "Pavlodar Region", 2, 8),
        ("Kabul evacuation flight, 9 Sep 2021", "KZ-59", "North Kazakhstan Region", 1, 6),
        ("Kabul evacuation flight, 9 Sep 2021", "KZ-63", "East Kazakhstan Region", 2, 8),
    ]


def test_it_counts_status_grants_by_month_with_the_running_total(manager_client, world):
    response = manager_client.get(
        url("status-grants"), {"date_from": "2021-09-01", "date_to": "2021-12-31"}
    )

    table = tables_of(response)["by_month"]
    # The Chong-Alai family (6 people, granted May 2020) is in the running total from the start.
    assert table.rows == [
        ("2021-09", 0, 0, 1, 6),
        ("2021-10", 5, 21, 6, 27),
        ("2021-11", 4, 14, 10, 41),
        ("2021-12", 0, 0, 10, 41),
    ]
    assert table.totals == ("Total", 9, 35, 10, 41)


def test_it_counts_status_grants_of_one_program(manager_client, world):
    response = manager_client.get(
        url("status-grants"),
        {"program": "KZ-KANDAS", "date_from": "2025-01-01", "date_to": "2025-03-31"},
    )

    assert tables_of(response)["by_month"].rows == [
        ("2025-01", 0, 0, 9, 35),
        ("2025-02", 1, 5, 10, 40),
        ("2025-03", 2, 5, 12, 45),  # Akmola (2 people) and Pavlodar not yet arrived (3)
    ]


def test_it_shows_quota_reserved_arrived_remaining_and_percent(manager_client, world):
    response = manager_client.get(
        url("quota"), {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    )

    table = tables_of(response)["by_region"]
    rows = {row[2]: row for row in table.rows}
    # Pavlodar: arrived family of 5 with one member who left (4), granted family of 3 not yet
    # arrived (reserved), withdrawn family of 4 (no place).
    assert rows["KZ-55"] == (
        2025,
        "KZ-KANDAS",
        "KZ-55",
        "Pavlodar Region",
        1056,
        3,
        4,
        1049,
        Decimal("0.4"),
    )
    assert rows["KZ-11"][4:8] == (285, 0, 2, 283)
    assert rows["KZ-10"][4:8] == (244, 0, 0, 244)
    assert len(table.rows) == 8
    assert table.totals[4:8] == (2309, 3, 6, 2300)


def test_it_shows_a_quota_overrun_as_a_negative_remainder(manager_client, world):
    response = manager_client.get(url("quota"), {"program": "KG-KAYRYLMAN"})

    table = tables_of(response)["by_region"]
    assert [row[:8] for row in table.rows] == [
        (2020, "KG-KAYRYLMAN", "KG-O", "Osh Region", 5, 0, 6, -1)
    ]
    assert str(table.rows[0][8]) == "120.0"


def test_it_shows_the_overview_per_program_as_of_a_date(manager_client, world):
    response = manager_client.get(url("overview"), {"date_to": "2025-12-31"})

    tables = tables_of(response)
    assert [row[:6] for row in tables["summary"].rows] == [
        ("KG-KAYRYLMAN", "Kayrylman program, Kyrgyzstan", 0, 6, 0, 0),
        ("KZ-KANDAS", "Kandas program (formerly Oralman), Kazakhstan", 7, 42, 2309, 6),
    ]
    assert [str(row[6]) for row in tables["summary"].rows] == ["None", "0.3"]
    assert [(r[0], r[2], r[4], r[5]) for r in tables["open_cases"].rows] == [
        ("KG-KAYRYLMAN", "settled", 1, 6),
        ("KZ-KANDAS", "granted", 1, 3),
        ("KZ-KANDAS", "arrived", 1, 5),
        ("KZ-KANDAS", "settled", 10, 37),
    ]
    assert tables["open_cases"].totals[4:] == (13, 51)


def test_it_shows_age_bands_by_sex_with_limits_per_program_and_sex(manager_client, world):
    response = manager_client.get(
        url("demographics"), {"date_from": "2021-09-01", "date_to": "2021-09-30"}
    )

    tables = tables_of(response)
    # Grandmother born 9 Sep 1958: 63 on arrival (9 Sep 2021), pension age for women (61).
    # Grandfather born 1 Jan 1959: 62, still working age for men (63).
    # Children born 10 Sep 2010: 10, their birthday is the day after arrival.
    assert tables["age"].rows == [
        ("minor", "Minors", 9, 5, 14),
        ("working", "Working age", 9, 10, 19),
        ("pension", "Pension age", 1, 0, 1),
        ("unknown", "Age not known", 0, 1, 1),
    ]
    assert tables["age"].totals == ("", "Total", 19, 16, 35)
    assert tables["education"].rows == [
        ("none", "No formal education", 1, 1, 2),
        ("primary", "Primary", 9, 5, 14),
        ("basic", "Basic secondary", 9, 0, 9),
        ("secondary", "General secondary", 0, 9, 9),
        ("unknown", "Unknown", 0, 1, 1),
    ]


def test_it_uses_the_configured_pension_age(manager_client, world):
    limits = AgeBandLimits.objects.get(program=kz(), sex="M")
    limits.pension_from = 62
    limits.save()  # as the admin does; the report reads summaries that this save refreshes

    response = manager_client.get(
        url("demographics"), {"date_from": "2021-09-01", "date_to": "2021-09-30"}
    )

    rows = tables_of(response)["age"].rows
    assert rows[1] == ("working", "Working age", 9, 9, 18)
    assert rows[2] == ("pension", "Pension age", 1, 1, 2)


# --- filters --------------------------------------------------------------------------------


def test_it_filters_by_region_including_its_districts(manager_client, world):
    response = manager_client.get(url("arrivals"), {"region": "KG-O"})

    assert tables_of(response)["by_region"].rows == [("KG-O", "Osh Region", 6, 6)]


def test_it_filters_by_group_origin_and_status(manager_client, world):
    by_group = manager_client.get(url("arrivals"), {"group": world.flight.pk})
    by_origin = manager_client.get(url("arrivals"), {"origin": "CN"})
    by_status = manager_client.get(url("arrivals"), {"status": ["arrived", "granted"]})

    assert tables_of(by_group)["by_region"].totals == ("Total", "", 35, 35)
    assert tables_of(by_origin)["by_country"].rows == [("CN", "China", 2, 7)]
    assert tables_of(by_status)["by_region"].rows == [("KZ-55", "Pavlodar Region", 5, 5)]


def test_it_keeps_the_filters_in_the_csv_links(manager_client, world):
    response = manager_client.get(url("arrivals"), {"program": "KZ-KANDAS", "origin": "AF"})

    links = [item["csv"] for item in response.context["tables"]]
    assert links == [
        "program=KZ-KANDAS&origin=AF&format=csv&table=by_region",
        "program=KZ-KANDAS&origin=AF&format=csv&table=by_country",
    ]


def test_it_refuses_an_unknown_filter_value(manager_client, world):
    page = manager_client.get(url("arrivals"), {"program": "NOPE"})
    download = manager_client.get(url("arrivals"), {"program": "NOPE", "format": "csv"})

    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()
    assert download.status_code == 400


def test_it_answers_404_for_an_unknown_report(manager_client):
    assert manager_client.get(url("stipends-of-mars")).status_code == 404


# --- CSV equals the page --------------------------------------------------------------------


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_it_downloads_the_same_rows_as_the_page(manager_client, world, name):
    params = {"date_to": "2025-12-31"}
    page = manager_client.get(url(name), params)

    for table in tables_of(page).values():
        download = manager_client.get(url(name), {**params, "format": "csv", "table": table.code})
        rows = csv_rows(download)
        shown = [i for i, c in enumerate(table.columns) if c.on_page]
        html = page_tables(page)[table.code]

        assert download["Content-Type"] == "text/csv; charset=utf-8"
        assert rows[0] == [c.code for c in table.columns]
        csv_shown = [comparable(table, [row[i] for i in shown]) for row in rows[1:]]
        assert csv_shown == [comparable(table, row) for row in html["body"]], table.code
        assert len(rows) - 1 == len(table.rows) > 0


def test_it_writes_the_excel_dialect_with_bom_and_semicolons(manager_client, world):
    response = manager_client.get(
        url("arrivals"), {"format": "csv", "table": "by_country", "dialect": "excel"}
    )

    assert (
        csv_bytes(response)
        == (
            "\ufeffcountry_code;country;households;people\r\nAF;Afghanistan;10;41\r\nCN;China;2;7\r\n"
        ).encode()
    )


def test_it_neutralises_formulas_in_report_csv_but_not_negative_numbers(manager_client, world):
    world.convoy.name = '=HYPERLINK("http://x","y")'
    world.convoy.save()

    groups = manager_client.get(url("groups"), {"format": "csv"})
    quota = manager_client.get(url("quota"), {"program": "KG-KAYRYLMAN", "format": "csv"})

    assert csv_rows(groups)[1][1] == '\'=HYPERLINK("http://x","y")'
    assert csv_rows(quota)[1] == [
        "2020",
        "KG-KAYRYLMAN",
        "KG-O",
        "Osh Region",
        "5",
        "0",
        "6",
        "-1",
        "120.0",
    ]


# --- who may see them -----------------------------------------------------------------------


@pytest.mark.parametrize("name", [None, *REPORT_NAMES])
def test_it_sends_anonymous_users_to_sign_in(client, name):
    address = url(name) if name else reverse("reports:index")

    response = client.get(address, {"format": "csv"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", [None, *REPORT_NAMES])
def test_it_refuses_staff_without_the_report_permission(client, django_user_model, name):
    clerk = user_with(django_user_model, "clerk", "view_household", "change_household")
    client.force_login(clerk)
    address = url(name) if name else reverse("reports:index")

    page = client.get(address)
    download = client.get(address, {"format": "csv"})

    assert (page.status_code, download.status_code) == (403, 403)


def test_it_lists_every_report_on_the_index(manager_client):
    response = manager_client.get(reverse("reports:index"))

    content = response.content.decode()
    for name in REPORT_NAMES:
        assert f'href="{url(name)}"' in content
    assert "persons.csv" not in content  # only for users who may export personal data


# --- queries do not grow with the data ------------------------------------------------------

#: Queries per request before a report's own: session, user, the user's permissions (2), the
#: user's scope (one query).
AUTH = 5
PAGE_QUERIES = {
    "overview": AUTH + 4,  # programs, cases and people by status, quota places, stipends paid
    "status-grants": AUTH + 1 + 1,  # months, and the running total before the period
    "arrivals": AUTH + 3,  # region × year × country, region names, country names
    "quota": AUTH + 1,
    "demographics": AUTH + 1,  # age bands and education, from the household summaries
    "groups": AUTH + 4,  # groups, their households' counts, placements, region names
}
#: The filter form's choices: programs, regions, groups and countries.
FORM_QUERIES = 4


def make_households(count: int) -> None:
    """``count`` settled families of two, in groups of three families."""
    for index in range(count):
        group = Group.objects.get_or_create(
            program=kz(),
            name=f"Cohort {index // 3}",
            defaults={"origin_country_id": "AF", "planned_on": dt.date(2025, 1, 1)},
        )[0]
        h = household(
            kz(),
            "KZ-55" if index % 2 else "KZ-11",
            group=group,
            status="settled",
            quota_year=2025,
            arrived_on=dt.date(2025, 1 + index % 12, 1),
            status_granted_on=dt.date(2024, 1 + index % 12, 1),
        )
        member(h, "head", "M", "1980", education="higher")
        member(h, "spouse", "F", "1985-05-05")


@pytest.mark.parametrize("name", REPORT_NAMES)
@pytest.mark.parametrize("households", [3, 30])
def test_it_runs_the_same_number_of_queries_for_3_or_30_households(
    manager_client, django_assert_num_queries, name, households
):
    make_households(households)
    params = {"date_from": "2024-01-01", "date_to": "2025-12-31"}

    with django_assert_num_queries(PAGE_QUERIES[name]):
        manager_client.get(url(name), {**params, "format": "csv"})
    with django_assert_num_queries(PAGE_QUERIES[name] + FORM_QUERIES):
        page = manager_client.get(url(name), params)

    assert page.status_code == 200
    assert Household.objects.count() == households
    assert Person.objects.count() == 2 * households


def test_it_renders_the_site_layout_with_language_and_a_working_switcher(manager_client):
    page = manager_client.get(reverse("reports:index"))
    switched = manager_client.post(
        reverse("set_language"), {"language": "ru", "next": reverse("reports:index")}
    )

    content = page.content.decode()
    assert '<html lang="en">' in content
    assert f'action="{reverse("set_language")}"' in content
    assert f'href="{reverse("admin:index")}"' in content  # staff see the link to case work
    assert switched.status_code == 302
    assert switched.cookies["django_language"].value == "ru"


def test_it_lists_the_seeded_age_band_limits_in_the_admin(admin_client):
    response = admin_client.get(reverse("admin:resettlement_agebandlimits_changelist"))

    rows = [
        (limits.program.code, limits.sex, limits.adult_from, limits.pension_from)
        for limits in response.context["cl"].result_list
    ]
    assert sorted(rows) == [
        ("KG-KAYRYLMAN", "F", 18, 58),
        ("KG-KAYRYLMAN", "M", 18, 63),
        ("KZ-KANDAS", "F", 18, 61),
        ("KZ-KANDAS", "M", 18, 63),
    ]
