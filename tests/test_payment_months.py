"""The monthly payment summaries the stipends report reads (``PaymentMonth``) stay equal to a
recomputation from the payments after every kind of write, and the report is right straight
after a write: a run paid, a payment refused, planned by hand, paid or removed, a grant
recalculated when a member dies, everything recomputed by the command. (Reversals are in the
ledger of ``stipends_fixtures``: its September stipend row below.)"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from resettlement.models import Household, Payment, PaymentMonth, Person
from resettlement.services.benefits import grant_benefit, recalculate_household
from resettlement.services.payment_summaries import COLUMNS, month_sums
from resettlement.services.payments import (
    add_payment,
    approve_payment,
    pay_batch,
    pay_payment,
    refuse_payment,
)
from tests.reports_fixtures import user_with
from tests.stipends_fixtures import OCTOBER, build_ledger

from . import benefits_fixtures as fx
from .benefits_fixtures import quota_family, rule

pytestmark = pytest.mark.django_db
officer, checker = fx.officer, fx.checker

D = Decimal
STIPENDS = reverse("reports:report", args=["stipends"])
EVERY = {"date_from": "", "date_to": ""}
MCI10 = D("39320.00")


def normal(row: tuple) -> tuple:
    """A row with its amounts as cents (SQLite may hand back sums as floats)."""
    return tuple(D(str(v)).quantize(D("0.01")) if i in (4, 5) else v for i, v in enumerate(row))


def stored() -> list[tuple]:
    return sorted(normal(r) for r in PaymentMonth.objects.values_list(*COLUMNS))


def recomputed() -> list[tuple]:
    return sorted(normal(r) for r in month_sums(Payment.objects.all()))


def month_of(household: Household, period: dt.date) -> list[tuple]:
    rows = PaymentMonth.objects.filter(household=household, period=period).order_by("rule__code")
    return [
        (r.rule.code, normal((0, 0, 0, 0, r.planned, r.paid))[4:], r.people, r.household_paid)
        for r in rows
    ]


@pytest.fixture
def ledger(officer, checker):
    return build_ledger(officer, checker)


@pytest.fixture
def manager_client(client, django_user_model):
    client.force_login(user_with(django_user_model, "manager", "view_reports"))
    return client


def by_month(client) -> list[tuple]:
    response = client.get(STIPENDS, {**EVERY, "program": "KZ-KANDAS"})
    (table,) = [t["table"] for t in response.context["tables"] if t["table"].code == "by_month"]
    return table.rows


def test_it_sums_a_households_month_as_the_report_counts_it(ledger):
    september = dt.date(2025, 9, 1)

    assert stored() == recomputed()
    # Household A in September: the housing grant paid once; the stipend paid to both members,
    # one of them reversed (39,320 + 39,320 − 39,320), so one member still counts as paid.
    assert month_of(ledger.a, september) == [
        ("housing", (D("0.00"), D("50000.00")), 0, 1),
        ("stipend", (D("0.00"), MCI10), 1, 0),
    ]
    # Household B: its only September payment was refused, so it has no row for that month.
    assert month_of(ledger.b, september) == []
    assert month_of(ledger.b, OCTOBER) == [("stipend", (MCI10, D("0.00")), 1, 0)]


def test_it_shows_a_run_as_paid_right_after_it_is_paid(ledger, checker, manager_client):
    before = [row for row in by_month(manager_client) if row[0] == "2025-10"]
    october_run = (
        ledger.a.grants.get(rule=ledger.stipend)
        .payments.get(period=OCTOBER, person=ledger.a1)
        .batch
    )

    pay_batch(batch=october_run, by=checker, paid_on=dt.date(2025, 10, 25), reference="KZ-10")

    after = [row for row in by_month(manager_client) if row[0] == "2025-10"]
    assert [row[7:] for row in before] == [(MCI10, D("0.00"), 1), (2 * MCI10, D("0.00"), 2)]
    assert [row[7:] for row in after] == [(D("0.00"), MCI10, 1), (D("0.00"), 2 * MCI10, 2)]
    assert stored() == recomputed()


def test_it_follows_a_refusal_a_payment_planned_by_hand_and_its_payment(
    ledger, officer, checker, manager_client
):
    november = dt.date(2025, 11, 1)
    planned = ledger.b.grants.get(rule=ledger.stipend).payments.get(period=november)

    refuse_payment(payment=planned, by=checker, reason="Moved away")
    refused = month_of(ledger.b, november)
    again = add_payment(grant=planned.grant, person=ledger.b1, period=november, by=officer)
    replanned = month_of(ledger.b, november)
    approve_payment(payment=again, by=checker)
    pay_payment(payment=again, by=checker, paid_on=dt.date(2025, 11, 20), reference="PP-1")

    assert (refused, replanned, month_of(ledger.b, november)) == (
        [],
        [("stipend", (MCI10, D("0.00")), 1, 0)],
        [("stipend", (D("0.00"), MCI10), 1, 0)],
    )
    assert stored() == recomputed()


def test_it_drops_the_planned_months_of_a_member_who_died(officer, checker):
    family = quota_family(by=officer, members=3, year=2025)
    grant = grant_benefit(household=family, rule=rule("relocation"), by=officer)
    head, _child, leaving = family.members.order_by("pk")
    first = grant.payments.get(person=head)
    approve_payment(payment=first, by=checker)
    pay_payment(payment=first, by=checker, paid_on=dt.date(2026, 1, 25), reference="PP-2")
    before = month_of(family, first.period)

    Person.objects.filter(pk=leaving.pk).update(member_status="deceased")
    recalculate_household(household=family, by=officer, cause="Member died")

    (_code, (planned, paid), people, _household) = month_of(family, first.period)[0]
    assert (before[0][2], people) == (3, 2)
    assert (planned, paid) == (first.amount, first.amount)  # the child's, and the head's
    assert stored() == recomputed()


def test_it_follows_a_planned_payment_removed_by_hand(ledger):
    november = dt.date(2025, 11, 1)
    planned = ledger.c.grants.get().payments.get(period=november, person=ledger.c2)

    planned.delete()

    assert month_of(ledger.c, november) == [("adaptation", (D("5000.00"), D("0.00")), 1, 0)]
    assert stored() == recomputed()


def test_it_recomputes_everything_on_demand(ledger):
    kept = stored()
    PaymentMonth.objects.all().delete()

    out = io.StringIO()
    call_command("refresh_report_summaries", stdout=out)

    assert stored() == kept == recomputed()
    assert f"{len(kept)} monthly payment summaries" in out.getvalue()
