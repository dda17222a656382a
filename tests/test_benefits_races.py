"""Races on PostgreSQL: two real connections doing the same thing at the same moment.

SQLite serialises every writer on the whole database (``transaction_mode=IMMEDIATE``), so
there is no race to test there; these tests need row locks and are skipped on SQLite.
"""

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from resettlement.admin.reference import RegionQuotaForm
from resettlement.models import (
    HouseholdSummary,
    Payment,
    PaymentBatch,
    PaymentMonth,
    Program,
    QuotaPlacement,
    RegionQuota,
)
from resettlement.selectors.quotas import with_usage
from resettlement.services.benefits import grant_benefit
from resettlement.services.payment_summaries import COLUMNS, month_sums, refresh_payment_months
from resettlement.services.payments import (
    add_payment,
    approve_batch,
    approve_payment,
    pay_payment,
    prepare_batch,
    refuse_payment,
    reverse_payment,
)
from resettlement.services.quota_ledger import QuotaError, place_in_quota
from resettlement.services.quotas import revise_quota
from resettlement.services.summaries import refresh_household_summaries

from . import benefits_fixtures as fx
from .benefits_fixtures import make_household, quota_family, rule

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need PostgreSQL row locks; SQLite serialises all writers",
    ),
    # Real commits from several connections; the seeded reference data is restored afterwards.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
officer, checker = fx.officer, fx.checker
MARCH = dt.date(2025, 3, 1)


@pytest.fixture
def second_checker(django_user_model):
    return django_user_model.objects.create_user("checker2", password="x", is_staff=True)


def run_together(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Run each call in its own thread and database connection, released at the same instant."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object]] = [("not run", None)] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Exception as error:
            results[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def outcomes(results: list[tuple[str, object]]) -> list[str]:
    return sorted(kind if kind == "ok" else type(value).__name__ for kind, value in results)


def test_it_lets_one_of_two_checkers_approve_a_run(officer, checker, second_checker):
    quota_family_ = quota_family(by=officer, members=3)
    grant_benefit(household=quota_family_, rule=rule("relocation"), by=officer)
    batch = prepare_batch(program=Program.objects.get(code="KZ-KANDAS"), month=MARCH, by=officer)

    results = run_together(
        lambda: approve_batch(batch=batch, by=checker),
        lambda: approve_batch(batch=batch, by=second_checker),
    )

    assert outcomes(results) == ["PaymentError", "ok"]
    (error,) = [value for kind, value in results if kind == "error"]
    assert "was already approved by" in error.messages[0]
    batch = PaymentBatch.objects.get()
    assert batch.state == "approved"
    assert set(batch.payments.values_list("state", "approved_by")) == {
        ("approved", batch.approved_by_id)
    }


def test_it_lets_one_of_two_officers_pay_the_same_payment(officer, checker, second_checker):
    household = quota_family(by=officer, members=1)
    grant_benefit(household=household, rule=rule("relocation"), by=officer)
    payment = approve_payment(payment=Payment.objects.get(), by=checker)

    results = run_together(
        lambda: pay_payment(payment=payment, by=checker, paid_on=MARCH, reference="A-1"),
        lambda: pay_payment(payment=payment, by=second_checker, paid_on=MARCH, reference="B-1"),
    )

    assert outcomes(results) == ["PaymentError", "ok"]
    paid = Payment.objects.get()
    assert paid.state == "paid"
    assert paid.payment_reference in {"A-1", "B-1"}


def test_it_creates_one_payment_when_two_clerks_reissue_the_same_month(officer, checker):
    household = quota_family(by=officer)
    rent = grant_benefit(
        household=household, rule=rule("rent"), by=officer, tier=Decimal(15), tier_reason="Flat"
    )
    refuse_payment(payment=rent.payments.get(period=MARCH), by=checker, reason="Abroad")

    results = run_together(
        lambda: add_payment(grant=rent, period=MARCH, by=officer, idempotency_key="clerk-a"),
        lambda: add_payment(grant=rent, period=MARCH, by=checker, idempotency_key="clerk-b"),
    )

    assert outcomes(results) == ["PaymentError", "ok"]
    assert list(rent.payments.filter(period=MARCH).order_by("pk").values_list("state")) == [
        ("refused",),
        ("planned",),
    ]


def test_it_records_one_reversal_for_a_form_submitted_twice_at_once(officer, checker):
    household = quota_family(by=officer, members=1)
    grant_benefit(household=household, rule=rule("relocation"), by=officer)
    payment = approve_payment(payment=Payment.objects.get(), by=checker)
    pay_payment(payment=payment, by=checker, paid_on=MARCH, reference="R-1")

    def submit():
        return reverse_payment(
            payment=payment,
            by=checker,
            reason="Wrong account",
            paid_on=MARCH,
            reference="RET-1",
            idempotency_key="reverse-form-xyz",
        )

    results = run_together(submit, submit)

    assert outcomes(results) == ["ok", "ok"]
    assert results[0][1].pk == results[1][1].pk
    assert Payment.objects.filter(reversal_of=payment).count() == 1


def test_it_never_overfills_a_quota_under_concurrent_placements(officer):
    families = [
        make_household(by=officer, members=6, region="KZ-27", quota_year=2025) for _ in range(6)
    ]  # 36 people for 30 places

    results = run_together(*[lambda h=h: place_in_quota(household=h, by=officer) for h in families])

    assert outcomes(results) == ["QuotaError"] + ["ok"] * 5
    quota = with_usage(RegionQuota.objects.filter(region__code="KZ-27", year=2025)).get()
    assert (quota.places, quota.places_used, quota.places_remaining) == (30, 30, 0)
    assert QuotaPlacement.objects.filter(over_quota=True).count() == 0
    assert all(isinstance(value, QuotaError) for kind, value in results if kind == "error")


def test_a_quota_cut_checked_on_the_form_holds_off_placements_until_it_is_saved(officer):
    quota = RegionQuota.objects.get(program__code="KZ-KANDAS", region__code="KZ-27", year=2025)
    place_in_quota(household=quota_family_in(officer, "KZ-27", 20), by=officer)
    late = quota_family_in(officer, "KZ-27", 5)
    placing: list[object] = []

    def place_late_family() -> None:
        try:
            placing.append(place_in_quota(household=late, by=officer))
        except QuotaError as error:
            placing.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():  # as the admin's change view
        form = RegionQuotaForm(
            data={
                "program": quota.program_id,
                "region": quota.region_id,
                "year": quota.year,
                "places": 20,  # down to exactly what is reserved: no tick needed
                "effective_on": "2025-06-01",
                "revision_reason": "Order No. 41",
            },
            instance=quota,
        )
        assert form.is_valid(), form.errors
        thread = threading.Thread(target=place_late_family)
        thread.start()
        time.sleep(0.5)
        waited = thread.is_alive() and not placing  # the placement waits on the quota's row
        revise_quota(quota=quota, places=20, effective_on=MARCH, reason="Order No. 41", by=officer)
    thread.join(timeout=10)

    assert waited
    assert isinstance(placing[0], QuotaError)  # it then sees the cut quota, full
    used = with_usage(RegionQuota.objects.filter(pk=quota.pk)).get()
    assert (used.places, used.places_used, used.places_remaining) == (20, 20, 0)


def quota_family_in(officer, region: str, members: int):
    return make_household(by=officer, members=members, region=region, quota_year=2025)


#: Ids of households that do not exist, to make a recomputation one of many households.
OTHERS = list(range(10**8, 10**8 + 30_000))


@pytest.mark.parametrize(
    ("refresh", "model"),
    [(refresh_payment_months, PaymentMonth), (refresh_household_summaries, HouseholdSummary)],
    ids=["payment months", "household summary"],
)
@pytest.mark.parametrize(
    ("first_others", "second_others"),
    [([], []), (OTHERS, []), ([], OTHERS)],
    ids=["few and few", "many then few", "few then many"],
)
def test_it_recomputes_a_households_summaries_once_at_a_time(
    officer, refresh, model, first_others, second_others
):
    """Two transactions recompute one household's rows at once (two of its payments paid, two
    members saved, an import or a payment run and a clerk at the same moment): the second
    waits, then replaces what the first wrote. 30,000 households take one lock, not 30,000
    (PostgreSQL's lock table would overflow)."""
    family = quota_family(by=officer, members=2, year=2025)
    grant_benefit(household=family, rule=rule("relocation"), by=officer)
    first_done = threading.Event()

    def first() -> int:
        with transaction.atomic():
            refresh([family.pk, *first_others])
            first_done.set()
            time.sleep(0.5)  # holds its rows while the second starts
        return model.objects.filter(household=family).count()

    def second() -> int:
        first_done.wait(timeout=10)
        with transaction.atomic():
            refresh([family.pk, *second_others])
        return model.objects.filter(household=family).count()

    results = run_together(first, second)

    assert outcomes(results) == ["ok", "ok"]
    assert results[0][1] == results[1][1] > 0
    assert sorted(PaymentMonth.objects.values_list(*COLUMNS)) == sorted(
        month_sums(Payment.objects.all())
    )
    assert HouseholdSummary.objects.get(household=family).people == 2
