"""/exports/payments.csv and the payment list's export action: documented columns, reversals and
refusals as they are in the ledger, filters, formula escaping, the access log, refused users,
scope, query counts, and the same bytes from SQLite, PostgreSQL's COPY and the Python writer."""

import pytest
from django.db import connection
from django.urls import reverse

from resettlement.csv_format import EXCEL, PLAIN, unescape_cell
from resettlement.exports import PAYMENT_COLUMNS, payment_export_columns, queryset_lines
from resettlement.models import AccessLog, BenefitRule, Payment
from tests.reports_fixtures import kz, user_with
from tests.reports_helpers import csv_bytes, csv_rows
from tests.stipends_fixtures import build_ledger, more_stipends

from . import benefits_fixtures as fx

pytestmark = pytest.mark.django_db
officer, checker = fx.officer, fx.checker

PAYMENTS = reverse("reports:export_payments")
HYPERLINK = '=HYPERLINK("http://evil.example/?q=1","Click")'


@pytest.fixture
def ledger(officer, checker):
    return build_ledger(officer, checker)


@pytest.fixture
def exporter(django_user_model):
    return user_with(django_user_model, "analyst", "view_reports", "export_personal_data")


@pytest.fixture
def exporter_client(client, exporter):
    client.force_login(exporter)
    return client


def ids(ledger, *, program: str) -> list[Payment]:
    return list(Payment.objects.filter(grant__rule__program__code=program).order_by("pk"))


def kyrgyz_rows(ledger) -> list[list[str]]:
    """C's six payments: September paid in the run, October one planned and one missed."""
    batch = Payment.objects.get(person=ledger.c1, period="2025-09-01").batch_id
    rows = []
    for payment in ids(ledger, program="KG-KAYRYLMAN"):
        paid = payment.state == "paid"
        rows.append(
            [
                str(payment.pk),
                "KG-2025-00103",
                str(payment.person_id),
                "KG-KAYRYLMAN",
                "KG-O-CHA",
                "adaptation",
                "Adaptation allowance",
                payment.period.strftime("%Y-%m"),
                "5000.00",
                "KGS",
                "",
                "",
                "",
                payment.state,
                "Did not come to collect it" if payment.state == "missed" else "",
                str(batch) if paid else "",
                "2025-09-28" if paid else "",
                "KG-2025-09" if paid else "",
                "",
            ]
        )
    return rows


def test_it_exports_payments_in_the_documented_columns(exporter_client, ledger):
    response = exporter_client.get(PAYMENTS, {"program": "KG-KAYRYLMAN"})

    rows = csv_rows(response)
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="payments.csv"'
    assert rows[0] == list(PAYMENT_COLUMNS)
    assert rows[1:] == kyrgyz_rows(ledger)
    assert [row[13] for row in rows[1:]] == [
        "paid", "paid", "planned", "missed", "planned", "planned",
    ]  # fmt: skip


def test_it_exports_a_reversal_as_a_negative_line_pointing_at_the_original(exporter_client, ledger):
    rows = csv_rows(exporter_client.get(PAYMENTS))

    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    original, reversal = by_id[str(ledger.reversed.pk)], by_id[str(ledger.reversal.pk)]
    refused = by_id[str(ledger.refused.pk)]
    batch = str(ledger.reversed.batch_id)
    assert original == {
        "payment_id": str(ledger.reversed.pk),
        "household_reference": "KZ-2025-00101",
        "person_id": str(ledger.a2.pk),
        "program": "KZ-KANDAS",
        "destination_region": "KZ-55",
        "rule_code": "stipend",
        "rule": "Stipend (10 MCI)",
        "period": "2025-09",
        "amount": "39320.00",
        "currency": "KZT",
        "index_code": "MCI",
        "index_value": "3932.00",
        "index_year": "2025",
        "state": "reversed",
        "reason": "",
        "batch_id": batch,
        "paid_on": "2025-09-25",
        "payment_reference": "KZ-2025-09",
        "reversal_of": "",
    }
    assert reversal == {
        **original,
        "payment_id": str(ledger.reversal.pk),
        "amount": "-39320.00",  # a number, not escaped
        "state": "paid",
        "reason": "Paid twice",
        "batch_id": "",
        "paid_on": "2025-10-05",
        "payment_reference": "REV-2025-1",
        "reversal_of": str(ledger.reversed.pk),
    }
    assert (refused["state"], refused["reason"], refused["paid_on"]) == (
        "refused",
        "Not at the registered address",
        "",
    )
    assert len(rows) - 1 == Payment.objects.count() == 17


def test_it_neutralises_formulas_in_text_cells_only(exporter_client, ledger):
    BenefitRule.objects.filter(pk=ledger.housing.pk).update(name="+77015551234", code="-5")
    Payment.objects.filter(pk=ledger.refused.pk).update(decision_reason="@SUM(A1)")
    Payment.objects.filter(pk=ledger.missed.pk).update(decision_reason=HYPERLINK)

    rows = csv_rows(exporter_client.get(PAYMENTS))

    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    housing = next(row for row in by_id.values() if row["rule"].endswith("1234"))
    assert (housing["rule_code"], housing["rule"]) == ("'-5", "'+77015551234")
    assert by_id[str(ledger.refused.pk)]["reason"] == "'@SUM(A1)"
    assert by_id[str(ledger.missed.pk)]["reason"] == "'" + HYPERLINK
    assert unescape_cell(by_id[str(ledger.missed.pk)]["reason"]) == HYPERLINK
    assert by_id[str(ledger.reversal.pk)]["amount"] == "-39320.00"


def test_it_filters_payments_by_month_payment_date_region_and_household_dates(
    exporter_client, ledger
):
    september = csv_rows(exporter_client.get(PAYMENTS, {"date_from": "2025-09-15"}))
    to_september = csv_rows(exporter_client.get(PAYMENTS, {"date_to": "2025-09-30"}))
    paid_in_october = csv_rows(
        exporter_client.get(
            PAYMENTS,
            {"date_field": "paid_on", "date_from": "2025-10-01", "date_to": "2025-10-31"},
        )
    )
    osh = csv_rows(exporter_client.get(PAYMENTS, {"region": "KG-O"}))
    arrived = csv_rows(
        exporter_client.get(PAYMENTS, {"date_field": "arrived_on", "date_from": "2025-01-01"})
    )

    # date_from selects whole months: 15 Sep keeps September's payments.
    assert len(september) - 1 == 17
    assert {row[7] for row in to_september[1:]} == {"2025-09"}
    assert len(to_september) - 1 == 3 + 1 + 1 + 2  # A ×2 and the reversal, housing, B, C ×2
    assert [row[0] for row in paid_in_october[1:]] == [str(ledger.reversal.pk)]
    assert {row[1] for row in osh[1:]} == {"KG-2025-00103"}
    assert arrived[1:] == []  # the ledger's households have no arrival date


def test_it_records_the_export_in_the_access_log(exporter_client, exporter, ledger):
    exporter_client.get(PAYMENTS, {"program": "KZ-KANDAS", "dialect": "excel"})

    log = AccessLog.objects.get()
    assert (log.user, log.kind, log.what, log.filters, log.row_count) == (
        exporter,
        "export",
        "payments.csv",
        {"program": "KZ-KANDAS", "dialect": "excel"},
        11,  # A: 6 stipend payments, housing, the reversal; B: 3 (one refused)
    )


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(PAYMENTS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert AccessLog.objects.count() == 0


def test_it_refuses_a_report_reader_without_the_export_permission(client, django_user_model):
    client.force_login(user_with(django_user_model, "reader", "view_reports", "view_payment"))

    response = client.get(PAYMENTS)

    assert response.status_code == 403
    assert AccessLog.objects.count() == 0


def test_it_refuses_bad_filters(exporter_client):
    response = exporter_client.get(PAYMENTS, {"date_field": "created_at"})

    assert response.status_code == 400
    assert AccessLog.objects.count() == 0


def test_it_leaves_kyrgyz_payments_out_of_a_kazakhstan_scoped_export(
    client, django_user_model, ledger
):
    user = user_with(django_user_model, "kz-exporter", "export_personal_data", programs=[kz()])
    client.force_login(user)

    rows = csv_rows(client.get(PAYMENTS))

    assert {row[3] for row in rows[1:]} == {"KZ-KANDAS"}
    assert {row[1] for row in rows[1:]} == {"KZ-2025-00101", "KZ-2025-00102"}
    assert AccessLog.objects.get().row_count == len(rows) - 1 == 11


@pytest.mark.parametrize("extra", [0, 10])
def test_it_runs_the_same_number_of_queries_for_few_or_many_payments(
    exporter_client, django_assert_num_queries, officer, checker, extra
):
    ledger = build_ledger(officer, checker)
    more_stipends(extra, ledger.stipend, officer)
    # session, user, permissions (2), scope, COUNT, access log insert, then the rows: one query
    # (PostgreSQL's COPY runs outside Django's log).
    expected = 7 + (0 if connection.vendor == "postgresql" else 1)

    with django_assert_num_queries(expected):
        rows = csv_rows(exporter_client.get(PAYMENTS))

    assert len(rows) - 1 == 17 + 6 * extra


def test_it_writes_the_same_bytes_on_every_database(exporter_client, ledger):
    """The PostgreSQL COPY path and the Python path (SQLite) must give this exact file."""
    body = csv_bytes(exporter_client.get(PAYMENTS, {"program": "KG-KAYRYLMAN", "dialect": "excel"}))

    lines = [";".join(PAYMENT_COLUMNS)] + [";".join(row) for row in kyrgyz_rows(ledger)]
    assert body.decode("utf-8") == "\ufeff" + "\r\n".join(lines) + "\r\n"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_it_gives_the_same_file_through_copy_as_through_python(ledger):
    BenefitRule.objects.filter(pk=ledger.housing.pk).update(name='Housing; "grant",\nonce')
    Payment.objects.filter(pk=ledger.refused.pk).update(decision_reason="@SUM(A1)")
    Payment.objects.filter(pk=ledger.missed.pk).update(decision_reason="\tTab")
    payments = Payment.objects.order_by("pk")

    for dialect in (PLAIN, EXCEL):
        copied = b"".join(
            line if isinstance(line, bytes) else line.encode()
            for line in queryset_lines(payments, payment_export_columns(), dialect, use_copy=True)
        )
        written = "".join(
            queryset_lines(payments, payment_export_columns(), dialect, use_copy=False)
        ).encode()

        assert copied == written
        assert copied.count(b"\r\n") >= Payment.objects.count() + 1


# --- admin action ---------------------------------------------------------------------------


def test_it_exports_the_selected_payments_from_the_admin(admin_client, admin_user, ledger):
    response = admin_client.post(
        reverse("admin:resettlement_payment_changelist"),
        {
            "action": "export_payments_csv",
            "_selected_action": [str(ledger.reversed.pk), str(ledger.reversal.pk)],
        },
    )

    rows = csv_rows(response)
    assert rows[0] == list(PAYMENT_COLUMNS)
    assert [(row[0], row[8], row[13]) for row in rows[1:]] == [
        (str(ledger.reversed.pk), "39320.00", "reversed"),
        (str(ledger.reversal.pk), "-39320.00", "paid"),
    ]
    log = AccessLog.objects.get()
    assert (log.user, log.what, log.row_count, log.filters) == (
        admin_user,
        "payments.csv",
        2,
        {"admin_action": "export_selected"},
    )


def test_it_offers_the_payment_export_only_with_the_permission(client, django_user_model, ledger):
    clerk = user_with(django_user_model, "clerk", "view_payment")
    client.force_login(clerk)

    page = client.get(reverse("admin:resettlement_payment_changelist"))
    attempt = client.post(
        reverse("admin:resettlement_payment_changelist"),
        {"action": "export_payments_csv", "_selected_action": [str(ledger.reversal.pk)]},
    )

    assert page.status_code == 200
    assert "export_payments_csv" not in page.content.decode()
    assert not attempt.streaming
    assert AccessLog.objects.count() == 0
