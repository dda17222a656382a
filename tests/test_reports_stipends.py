"""The stipends report and the overview's stipends: exact figures on a hand-built ledger (with a
reversal, a refusal, a missed payment and two currencies), CSV equal to the page, scope, refused
users, and query counts that do not grow with the number of payments."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from resettlement.models import Payment
from resettlement.services.benefits import grant_benefit
from tests.reports_fixtures import household, kz, member, user_with
from tests.reports_helpers import comparable, csv_rows, page_tables
from tests.stipends_fixtures import build_ledger, more_stipends

from . import benefits_fixtures as fx

pytestmark = pytest.mark.django_db
officer, checker = fx.officer, fx.checker

D = Decimal
STIPENDS = reverse("reports:report", args=["stipends"])
OVERVIEW = reverse("reports:report", args=["overview"])
#: Both ends of the period sent empty: every month (the report opens on this year's).
EVERY = {"date_from": "", "date_to": ""}


@pytest.fixture
def ledger(officer, checker):
    return build_ledger(officer, checker)


@pytest.fixture
def manager(django_user_model):
    return user_with(django_user_model, "manager", "view_reports")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def tables_of(response) -> dict:
    return {item["table"].code: item["table"] for item in response.context["tables"]}


# --- figures --------------------------------------------------------------------------------

#: 10 MCI of 2025 (3,932 ₸).
MCI10 = D("39320.00")


def test_it_shows_planned_and_paid_by_month_region_and_rule(manager_client, ledger):
    response = manager_client.get(STIPENDS, EVERY)

    tables = tables_of(response)
    assert tables["by_month"].rows == [
        # KG, September: both members paid.
        ("2025-09", "KG-KAYRYLMAN", "KG-O", "Osh Region", "adaptation", "Adaptation allowance",
         "KGS", D("0.00"), D("10000.00"), 2),
        # Akmola, September: B's only payment was refused — no row at all.
        ("2025-09", "KZ-KANDAS", "KZ-55", "Pavlodar Region", "housing", "Housing grant",
         "KZT", D("0.00"), D("50000.00"), 1),
        # Two paid, one of them reversed: 39,320 + 39,320 − 39,320; one recipient left.
        ("2025-09", "KZ-KANDAS", "KZ-55", "Pavlodar Region", "stipend", "Stipend (10 MCI)",
         "KZT", D("0.00"), MCI10, 1),
        # KG, October: one planned, one missed (not counted).
        ("2025-10", "KG-KAYRYLMAN", "KG-O", "Osh Region", "adaptation", "Adaptation allowance",
         "KGS", D("5000.00"), D("0.00"), 1),
        # October KZ run approved, not yet paid: planned.
        ("2025-10", "KZ-KANDAS", "KZ-11", "Akmola Region", "stipend", "Stipend (10 MCI)",
         "KZT", MCI10, D("0.00"), 1),
        ("2025-10", "KZ-KANDAS", "KZ-55", "Pavlodar Region", "stipend", "Stipend (10 MCI)",
         "KZT", 2 * MCI10, D("0.00"), 2),
        ("2025-11", "KG-KAYRYLMAN", "KG-O", "Osh Region", "adaptation", "Adaptation allowance",
         "KGS", D("10000.00"), D("0.00"), 2),
        ("2025-11", "KZ-KANDAS", "KZ-11", "Akmola Region", "stipend", "Stipend (10 MCI)",
         "KZT", MCI10, D("0.00"), 1),
        ("2025-11", "KZ-KANDAS", "KZ-55", "Pavlodar Region", "stipend", "Stipend (10 MCI)",
         "KZT", 2 * MCI10, D("0.00"), 2),
    ]  # fmt: skip
    assert tables["by_month"].totals is None  # tenge and som are never added together
    assert tables["by_currency"].rows == [
        ("KGS", D("15000.00"), D("10000.00"), 2),
        # Planned 39,320 × (1 + 2 + 1 + 2); paid 50,000 + 39,320; recipients: 3 people and
        # household A (housing).
        ("KZT", 6 * MCI10, D("89320.00"), 4),
    ]


def test_it_totals_the_table_when_one_currency_is_shown(manager_client, ledger):
    response = manager_client.get(STIPENDS, {**EVERY, "program": "KZ-KANDAS"})

    tables = tables_of(response)
    assert tables["by_month"].totals == (
        "Total", "", "", "", "", "", "KZT", 6 * MCI10, D("89320.00"), 4,
    )  # fmt: skip
    assert tables["by_currency"].rows == [("KZT", 6 * MCI10, D("89320.00"), 4)]
    footer = page_tables(response)["by_month"]["foot"]
    assert footer == [["Total", "", "", "", "235,920\xa0₸", "89,320\xa0₸", "4"]]


def test_it_shows_amounts_in_the_languages_format_with_the_currency_sign(manager_client, ledger):
    response = manager_client.get(STIPENDS, EVERY)

    html = page_tables(response)
    assert html["by_month"]["head"] == [
        ["Month", "Code", "Destination region", "Benefit", "Planned, not yet paid", "Paid",
         "Recipients"],
    ]  # fmt: skip
    assert html["by_month"]["body"][0] == [
        "2025-09", "KG-O", "Osh Region", "Adaptation allowance", "0\xa0сом", "10,000\xa0сом", "2",
    ]  # fmt: skip
    assert html["by_currency"]["body"] == [
        ["KGS", "15,000\xa0сом", "10,000\xa0сом", "2"],
        ["KZT", "235,920\xa0₸", "89,320\xa0₸", "4"],
    ]


def test_it_filters_by_month_region_and_status(manager_client, ledger):
    october = manager_client.get(STIPENDS, {"date_from": "2025-10-20", "date_to": "2025-10-31"})
    pavlodar = manager_client.get(STIPENDS, {**EVERY, "region": "KZ-55"})
    osh = manager_client.get(STIPENDS, {**EVERY, "region": "KG-O"})
    arrived = manager_client.get(STIPENDS, {**EVERY, "status": ["arrived"]})

    assert [row[0] for row in tables_of(october)["by_month"].rows] == ["2025-10"] * 3
    assert {row[2] for row in tables_of(pavlodar)["by_month"].rows} == {"KZ-55"}
    assert tables_of(osh)["by_currency"].rows == [("KGS", D("15000.00"), D("10000.00"), 2)]
    assert tables_of(arrived)["by_month"].rows == []


def test_it_draws_one_chart_per_currency(manager_client, ledger):
    response = manager_client.get(STIPENDS, EVERY)

    charts = [str(chart) for chart in response.context["charts"]]
    assert len(charts) == 2
    assert "Planned and paid by month, KGS" in charts[0]
    assert "Planned and paid by month, KZT" in charts[1]
    assert "2025-09" in charts[1]
    assert "<rect" in charts[1]


def test_it_shows_stipends_paid_this_month_and_year_to_date_in_the_overview(manager_client, ledger):
    september = tables_of(manager_client.get(OVERVIEW, {"date_to": "2025-09-30"}))["stipends"]
    october = manager_client.get(OVERVIEW, {"date_to": "2025-10-15"})

    assert september.rows == [
        ("KG-KAYRYLMAN", "Kayrylman program, Kyrgyzstan", "KGS", D("10000.00"), D("10000.00")),
        (
            "KZ-KANDAS",
            "Kandas program (formerly Oralman), Kazakhstan",
            "KZT",
            D("89320.00"),  # 50,000 + 39,320 (the reversed payment and its reversal cancel)
            D("89320.00"),
        ),
    ]
    assert [row[2:] for row in tables_of(october)["stipends"].rows] == [
        ("KGS", D("0.00"), D("10000.00")),
        ("KZT", D("0.00"), D("89320.00")),  # October is approved, not yet paid
    ]
    assert [c.code for c in tables_of(october)["stipends"].columns] == [
        "program",
        "program_name",
        "currency",
        "paid_this_month",
        "paid_year_to_date",
    ]
    assert page_tables(october)["stipends"]["body"] == [
        ["Kayrylman program, Kyrgyzstan", "0\xa0сом", "10,000\xa0сом"],
        ["Kandas program (formerly Oralman), Kazakhstan", "0\xa0₸", "89,320\xa0₸"],
    ]


def test_it_shows_zero_stipends_for_a_program_with_no_payments(manager_client):
    response = manager_client.get(OVERVIEW, {"date_to": "2025-10-15"})

    assert tables_of(response)["stipends"].rows == [
        ("KG-KAYRYLMAN", "Kayrylman program, Kyrgyzstan", "KGS", D("0.00"), D("0.00")),
        ("KZ-KANDAS", "Kandas program (formerly Oralman), Kazakhstan", "KZT", D("0.00"),
         D("0.00")),
    ]  # fmt: skip


def test_it_opens_on_this_years_months_with_every_month_a_click_away(
    manager_client, ledger, officer
):
    this_month = timezone.localdate().replace(day=1)
    settled = household(kz(), "KZ-11", status="settled")
    member(settled, "head", "M", "1980")
    grant_benefit(household=settled, rule=ledger.housing, by=officer, starts_on=this_month)

    opened = manager_client.get(STIPENDS)
    every = manager_client.get(STIPENDS, EVERY)
    download = manager_client.get(f"{STIPENDS}?{opened.context['tables'][0]['csv']}")

    assert [row[:3] for row in tables_of(opened)["by_month"].rows] == [
        (f"{this_month:%Y-%m}", "KZ-KANDAS", "KZ-11")
    ]
    assert opened.context["filter"].form["date_from"].value() == f"{this_month.year}-01-01"
    assert 'href="?date_from=&amp;date_to="' in opened.content.decode()
    assert [row[0] for row in csv_rows(download)[1:]] == [f"{this_month:%Y-%m}"]
    assert sorted({row[0] for row in tables_of(every)["by_month"].rows}) == [
        "2025-09", "2025-10", "2025-11", f"{this_month:%Y-%m}",
    ]  # fmt: skip


def test_it_keeps_a_period_with_one_end_as_it_was_chosen(manager_client, ledger):
    to_september = manager_client.get(STIPENDS, {"date_to": "2025-09-30"})

    assert {row[0] for row in tables_of(to_september)["by_month"].rows} == {"2025-09"}
    assert to_september.context["filter"].form["date_from"].value() in (None, "")


# --- CSV equals the page --------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["", "excel"])
def test_it_downloads_the_same_rows_as_the_page(manager_client, ledger, dialect):
    page = manager_client.get(STIPENDS, EVERY)

    for table in tables_of(page).values():
        download = manager_client.get(
            STIPENDS, {**EVERY, "format": "csv", "table": table.code, "dialect": dialect}
        )
        rows = csv_rows(download, delimiter=";" if dialect else ",")
        if dialect:
            rows[0][0] = rows[0][0].removeprefix("\ufeff")
        shown = [i for i, c in enumerate(table.columns) if c.on_page]
        html = page_tables(page)[table.code]

        assert rows[0] == [c.code for c in table.columns]
        assert [comparable(table, [row[i] for i in shown]) for row in rows[1:]] == [
            comparable(table, row) for row in html["body"]
        ]
        assert rows[1:] == [[str(v) for v in row] for row in table.rows]
    by_month = csv_rows(manager_client.get(STIPENDS, {**EVERY, "format": "csv"}))
    assert by_month[0] == [
        "month", "program", "region_code", "region", "rule_code", "rule", "currency", "planned",
        "paid", "recipients",
    ]  # fmt: skip
    assert by_month[3] == [
        "2025-09", "KZ-KANDAS", "KZ-55", "Pavlodar Region", "stipend", "Stipend (10 MCI)", "KZT",
        "0.00", "39320.00", "1",
    ]  # fmt: skip


# --- scope and refused users ----------------------------------------------------------------


def test_it_shows_a_kazakhstan_scoped_user_no_kyrgyz_payments(client, django_user_model, ledger):
    user = user_with(django_user_model, "kz-manager", "view_reports", programs=[kz()])
    client.force_login(user)

    tables = tables_of(client.get(STIPENDS, EVERY))
    download = csv_rows(client.get(STIPENDS, {**EVERY, "format": "csv", "table": "by_currency"}))
    overview = tables_of(client.get(OVERVIEW, {"date_to": "2025-09-30"}))

    assert {row[1] for row in tables["by_month"].rows} == {"KZ-KANDAS"}
    assert tables["by_currency"].rows == [("KZT", 6 * MCI10, D("89320.00"), 4)]
    assert download[1:] == [["KZT", "235920.00", "89320.00", "4"]]
    # The overview lists every program (as its other tables do), but no Kyrgyz money.
    assert [row[2:] for row in overview["stipends"].rows] == [
        ("KGS", D("0.00"), D("0.00")),
        ("KZT", D("89320.00"), D("89320.00")),
    ]


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(STIPENDS, {"format": "csv"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_refuses_staff_without_the_report_permission(client, django_user_model):
    clerk = user_with(django_user_model, "clerk", "view_payment", "export_personal_data")
    client.force_login(clerk)

    assert (
        client.get(STIPENDS).status_code,
        client.get(STIPENDS, {"format": "csv"}).status_code,
    ) == (
        403,
        403,
    )


def test_it_lists_the_stipends_report_on_the_index(manager_client):
    response = manager_client.get(reverse("reports:index"))

    assert f'href="{STIPENDS}"' in response.content.decode()


# --- queries do not grow with the payments --------------------------------------------------

#: session, user, permissions (2), scope; then the monthly sums by month × region × rule, region
#: names, the sums per currency, and the people paid per currency.
CSV_QUERIES = 5 + 4
#: The filter form's choices: programs, regions, groups and countries.
FORM_QUERIES = 4


@pytest.mark.parametrize("households", [2, 20])
def test_it_runs_the_same_number_of_queries_for_few_or_many_payments(
    manager_client, django_assert_num_queries, officer, checker, households
):
    more_stipends(households, build_ledger(officer, checker).stipend, officer)
    params = {"date_from": "2025-01-01", "date_to": "2025-12-31"}

    with django_assert_num_queries(CSV_QUERIES):
        manager_client.get(STIPENDS, {**params, "format": "csv"})
    with django_assert_num_queries(CSV_QUERIES + FORM_QUERIES):
        page = manager_client.get(STIPENDS, params)

    assert page.status_code == 200
    assert Payment.objects.count() == 17 + 6 * households
    assert tables_of(page)["by_currency"].rows[1][3] == 4 + 2 * households
