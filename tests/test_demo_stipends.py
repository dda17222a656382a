"""Demo benefits: built on whatever demo households exist, and safe to run again."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from resettlement.demo_stipends import seed_stipends
from resettlement.models import (
    BenefitGrant,
    Country,
    Group,
    Payment,
    PaymentBatch,
    Program,
    QuotaPlacement,
)
from resettlement.services.cases import case_transition

from . import benefits_fixtures as fx
from .benefits_fixtures import TO_ARRIVAL, make_household

pytestmark = pytest.mark.django_db
officer = fx.officer

FLIGHT_DAY = dt.date(2021, 9, 9)


def snapshot() -> tuple:
    return (
        list(BenefitGrant.objects.order_by("pk").values_list("household", "rule__code", "tier")),
        list(
            Payment.objects.order_by("pk").values_list(
                "grant", "person", "period", "amount", "state", "batch"
            )
        ),
        list(QuotaPlacement.objects.order_by("pk").values_list("household", "quota", "places")),
        list(PaymentBatch.objects.order_by("pk").values_list("month", "state")),
    )


@pytest.fixture
def demo_households(officer):
    flight = Group.objects.create(
        program=Program.objects.get(code="KZ-KANDAS"),
        name="Evacuation flight Kabul–Almaty, 9 Sep 2021",
        origin_country=Country.objects.get(code="AF"),
    )
    evacuees = [
        make_household(
            by=officer, members=n, group=flight, path=("in_transit", "arrived"), on=FLIGHT_DAY
        )
        for n in (4, 3)
    ]
    arrived_2025 = make_household(
        by=officer, members=5, quota_year=2025, path=TO_ARRIVAL, on=dt.date(2025, 4, 1)
    )
    waiting_2026 = make_household(
        by=officer, members=2, quota_year=2026, path=("applied",), on=dt.date(2026, 2, 1)
    )
    withdrawn = make_household(
        by=officer, members=2, quota_year=2026, path=("applied",), on=dt.date(2026, 2, 1)
    )
    case_transition(household=withdrawn, to="withdrawn", by=officer, reason="Stayed abroad")
    return evacuees, arrived_2025, waiting_2026, withdrawn


def test_it_gives_the_2021_evacuees_their_stipend_with_some_months_paid(officer, demo_households):
    evacuees = demo_households[0]

    seed_stipends(officer)

    stipend = Payment.objects.filter(grant__rule__code="basic-needs-2021")
    assert stipend.count() == 7 * 6  # 7 people, 6 months
    assert set(stipend.values_list("index_year", "amount")) == {
        (2021, Decimal("29170.00")),  # 10 × 2,917
        (2022, Decimal("30630.00")),  # 10 × 3,063
    }
    states = {}
    for payment in stipend:
        states.setdefault(payment.period, set()).add(payment.state)
    assert states == {
        dt.date(2021, 9, 1): {"paid"},
        dt.date(2021, 10, 1): {"paid"},
        dt.date(2021, 11, 1): {"paid", "refused"},
        dt.date(2021, 12, 1): {"paid"},
        dt.date(2022, 1, 1): {"paid"},
        dt.date(2022, 2, 1): {"paid"},
    }
    assert {g.household_id for g in BenefitGrant.objects.filter(rule__code="basic-needs-2021")} == {
        h.pk for h in evacuees
    }
    assert {b.prepared_by_id != b.approved_by_id for b in PaymentBatch.objects.all()} == {True}


def test_it_places_open_quota_families_and_grants_subsidies_to_those_who_arrived(
    officer, demo_households
):
    _evacuees, arrived_2025, waiting_2026, _withdrawn = demo_households

    seed_stipends(officer)

    assert sorted(
        QuotaPlacement.objects.values_list("household", "quota__year", "places", "status")
    ) == [
        (arrived_2025.pk, 2025, 5, "reserved"),
        (waiting_2026.pk, 2026, 2, "reserved"),
    ]
    assert sorted(
        BenefitGrant.objects.exclude(rule__code="basic-needs-2021").values_list(
            "household", "rule__code", "tier"
        )
    ) == [(arrived_2025.pk, "relocation", None), (arrived_2025.pk, "rent", Decimal("20.00"))]
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    relocation = Payment.objects.filter(grant__rule__code="relocation")
    assert set(relocation.values_list("state", "amount")) == {("paid", Decimal("275240.00"))}
    assert PaymentBatch.objects.get(month=last_month).state == "paid"


def test_it_adds_nothing_when_run_again(officer, demo_households):
    seed_stipends(officer)
    before = snapshot()

    again = seed_stipends(officer)

    assert again == {"evacuee_grants": 0, "quota_placements": 0, "quota_grants": 0}
    assert snapshot() == before


def test_it_runs_on_an_empty_database(officer):
    assert seed_stipends(officer) == {
        "evacuee_grants": 0,
        "quota_placements": 0,
        "quota_grants": 0,
    }
