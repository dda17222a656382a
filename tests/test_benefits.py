"""Benefit arithmetic, grants and schedules, and recalculation — with hand-computed figures."""

import datetime as dt
from decimal import Decimal

import pytest

from resettlement import benefits as arithmetic
from resettlement.models import BenefitGrant, IndexValue, Payment, Person, Recalculation
from resettlement.services.benefits import (
    BenefitError,
    change_tier,
    grant_benefit,
    recalculate_household,
    set_index_value,
)
from resettlement.services.cases import case_transition
from resettlement.services.payments import approve_payment, pay_payment
from resettlement.services.quota_ledger import place_in_quota

from . import benefits_fixtures as fx
from .benefits_fixtures import make_household, quota_family, rule, som_stipend

officer, checker = fx.officer, fx.checker

D = Decimal
MCI = {2025: D(3932), 2026: D(4325)}


# --- pure arithmetic ----------------------------------------------------------------------


def test_it_computes_the_relocation_subsidy_of_a_family_of_five_by_hand():
    lines = arithmetic.schedule(
        start=dt.date(2025, 3, 14),
        frequency="once",
        months=1,
        multiplier=D(70),
        index_values=MCI,
        person_ids=[1, 2, 3, 4, 5],
    )

    assert {line.amount for line in lines} == {D("275240.00")}  # 70 × 3,932
    assert arithmetic.total(lines) == D("1376200.00")  # 5 × 70 × 3,932
    assert {(line.period, line.index_year) for line in lines} == {(dt.date(2025, 3, 1), 2025)}


def test_it_uses_each_years_mci_across_the_year_boundary():
    lines = arithmetic.schedule(
        start=dt.date(2025, 10, 20),
        frequency="monthly",
        months=12,
        multiplier=D(20),
        index_values=MCI,
        person_ids=[None],
    )

    assert [(line.period.isoformat(), line.amount, line.index_year) for line in lines] == [
        ("2025-10-01", D("78640.00"), 2025),
        ("2025-11-01", D("78640.00"), 2025),
        ("2025-12-01", D("78640.00"), 2025),
        *[(f"2026-{m:02d}-01", D("86500.00"), 2026) for m in range(1, 10)],
    ]
    assert arithmetic.total(lines) == D("1014420.00")  # 3 × 78,640 + 9 × 86,500


def test_it_plans_an_unknown_year_with_the_last_known_value():
    assert arithmetic.index_for_year(MCI, 2027) == (2026, D(4325))
    with pytest.raises(arithmetic.MissingIndexValueError):
        arithmetic.index_for_year(MCI, 2024)


@pytest.mark.parametrize(
    ("low", "high", "tier", "expected"),
    [(15, 30, 15, D(15)), (15, 30, 30, D(30)), (15, 30, 22, D(22)), (70, None, None, D(70))],
)
def test_it_picks_the_tier_within_the_range(low, high, tier, expected):
    high = D(high) if high else None
    tier = D(tier) if tier else None
    assert arithmetic.chosen_multiplier(low=D(low), high=high, tier=tier) == expected


@pytest.mark.parametrize(("high", "tier"), [(30, 14), (30, 31), (30, None), (None, 20)])
def test_it_refuses_a_tier_outside_the_range(high, tier):
    with pytest.raises(arithmetic.TierOutOfRangeError):
        arithmetic.chosen_multiplier(
            low=D(15), high=D(high) if high else None, tier=D(tier) if tier else None
        )


@pytest.mark.parametrize(
    ("amount", "symbol", "text"),
    [
        (D("1376200"), "₸", "1,376,200 ₸"),
        (D("12500.5"), "сом", "12,500.50 сом"),
        (D("-275240"), "₸", "-275,240 ₸"),
        (None, "₸", "—"),
    ],
)
def test_it_formats_amounts_with_currency_and_thousands(amount, symbol, text):
    assert arithmetic.format_money(amount, symbol) == text


# --- seeded data --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_has_the_mci_values_and_the_kazakh_quota_rules_seeded():
    values = dict(IndexValue.objects.filter(country="KZ", code="MCI").values_list("year", "value"))
    rules = {
        r.code: (r.frequency, r.unit, r.amount, r.amount_max, r.months, r.quota_participants_only)
        for r in rule("relocation").program.benefitrule_set.all()
    }

    assert values == {
        2021: D(2917),
        2022: D(3063),
        2023: D(3450),
        2024: D(3692),
        2025: D(3932),
        2026: D(4325),
    }
    assert rules == {
        "relocation": ("once", "person", D(70), None, 1, True),
        "rent": ("monthly", "household", D(15), D(30), 12, True),
        "employer": ("once", "household", D(400), None, 1, True),
    }


# --- grants and schedules -----------------------------------------------------------------


def payment_rows(grant: BenefitGrant) -> list[tuple]:
    return [
        (p.period, p.person_id, p.amount, p.currency, p.index_value, p.index_year, p.state)
        for p in grant.payments.order_by("period", "person_id")
    ]


@pytest.mark.django_db
def test_it_grants_the_relocation_subsidy_to_a_family_of_five_in_the_2025_pavlodar_quota(officer):
    family = quota_family(by=officer, members=5, year=2025)

    grant = grant_benefit(household=family, rule=rule("relocation"), by=officer)

    people = list(family.members.order_by("pk").values_list("pk", flat=True))
    assert payment_rows(grant) == [
        (dt.date(2025, 3, 1), pk, D("275240.00"), "KZT", D("3932.00"), 2025, "planned")
        for pk in people
    ]
    assert sum(p.amount for p in grant.payments.all()) == D("1376200.00")


@pytest.mark.django_db
def test_it_schedules_rent_across_the_year_boundary_with_the_chosen_tier(officer):
    family = make_household(by=officer, quota_year=2025, path=(), on=dt.date(2025, 1, 5))
    for step in ("applied", "under_review", "granted", "in_transit"):
        case_transition(household=family, to=step, by=officer, on=dt.date(2025, 2, 1))
    case_transition(household=family, to="arrived", by=officer, on=dt.date(2025, 10, 20))
    place_in_quota(household=family, by=officer)

    grant = grant_benefit(
        household=family,
        rule=rule("rent"),
        by=officer,
        tier=D(20),
        tier_reason="Family of five, rented flat",
    )

    assert grant.starts_on == dt.date(2025, 10, 20)
    assert payment_rows(grant) == [
        (dt.date(2025, m, 1), None, D("78640.00"), "KZT", D("3932.00"), 2025, "planned")
        for m in (10, 11, 12)
    ] + [
        (dt.date(2026, m, 1), None, D("86500.00"), "KZT", D("4325.00"), 2026, "planned")
        for m in range(1, 10)
    ]


@pytest.mark.django_db
def test_it_pays_a_kyrgyz_fixed_stipend_in_som(officer):
    family = make_household(by=officer, members=2, program="KG-KAYRYLMAN", region="KG-O-CHA")

    grant = grant_benefit(
        household=family, rule=som_stipend(), by=officer, starts_on=dt.date(2026, 1, 1)
    )

    assert {(p.amount, p.currency, p.index_value, p.index_year) for p in grant.payments.all()} == {
        (D("5000.00"), "KGS", None, None)
    }
    assert grant.payments.count() == 6  # 2 people × 3 months


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("not_in_quota", "Not in the regional quota."),
        ("not_arrived", "The case has not reached “Arrived”."),
    ],
)
def test_it_refuses_a_quota_benefit_whose_conditions_are_not_met(officer, setup, message):
    if setup == "not_in_quota":
        family = make_household(by=officer, path=("in_transit", "arrived"))
    else:
        family = make_household(by=officer, quota_year=2025, path=("applied",))
        place_in_quota(household=family, by=officer)

    with pytest.raises(BenefitError) as error:
        grant_benefit(household=family, rule=rule("relocation"), by=officer)

    assert message in error.value.messages
    assert BenefitGrant.objects.count() == 0
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_rent_grant_without_a_tier_in_range_or_twice(officer):
    family = quota_family(by=officer)

    with pytest.raises(BenefitError, match="between 15 and 30"):
        grant_benefit(household=family, rule=rule("rent"), by=officer, tier=D(31), tier_reason="x")
    grant_benefit(household=family, rule=rule("rent"), by=officer, tier=D(30), tier_reason="x")
    with pytest.raises(BenefitError, match="already has"):
        grant_benefit(household=family, rule=rule("rent"), by=officer, tier=D(30), tier_reason="x")

    assert Payment.objects.count() == 12


# --- recalculation ------------------------------------------------------------------------


def pay(payment: Payment, *, by, checker, on=dt.date(2026, 1, 25)) -> None:
    approve_payment(payment=payment, by=checker)
    pay_payment(payment=payment, by=checker, paid_on=on, reference=f"PP-{payment.pk}")


@pytest.mark.django_db
def test_it_recomputes_only_planned_items_when_the_mci_is_corrected(officer, checker):
    family = quota_family(by=officer, year=2025)
    grant = grant_benefit(
        household=family,
        rule=rule("rent"),
        by=officer,
        tier=D(20),
        tier_reason="Flat",
        starts_on=dt.date(2025, 10, 1),
    )
    first_four = list(grant.payments.order_by("period")[:4])  # Oct 2025 – Jan 2026
    for payment in first_four:
        pay(payment, by=officer, checker=checker)
    paid_before = [
        (p.pk, p.amount, p.index_value, p.state)
        for p in Payment.objects.filter(pk__in=[p.pk for p in first_four]).order_by("period")
    ]

    recalculations = set_index_value(
        country="KZ", code="MCI", year=2026, value=D(4400), by=officer, reason="Corrected budget"
    )

    paid_after = [
        (p.pk, p.amount, p.index_value, p.state)
        for p in Payment.objects.filter(pk__in=[p.pk for p in first_four]).order_by("period")
    ]
    assert paid_after == paid_before
    assert {
        (p.amount, p.index_value) for p in grant.payments.filter(period__gte=dt.date(2026, 2, 1))
    } == {(D("88000.00"), D("4400.00"))}
    (recalculation,) = recalculations
    assert recalculation.cause.startswith("MCI 2026 set to 4400")
    assert recalculation.recalculated_by == officer
    assert [
        (c["period"], c["amount_before"], c["amount_after"]) for c in recalculation.changes
    ] == [(f"2026-{m:02d}-01", "86500.00", "88000.00") for m in range(2, 10)]


@pytest.mark.django_db
def test_it_recomputes_per_person_items_when_members_leave_or_join(officer, checker):
    family = quota_family(by=officer, members=3, year=2025)
    grant = grant_benefit(household=family, rule=rule("relocation"), by=officer)
    head, child, leaving = family.members.order_by("pk")
    pay(grant.payments.get(person=head), by=officer, checker=checker)
    Person.objects.filter(pk=leaving.pk).update(member_status="deceased")
    newborn = Person.objects.create(
        household=family, relation="child", surname="Масадыкова", sex="F", member_status="arrived"
    )

    (recalculation,) = recalculate_household(household=family, by=officer, cause="Member died")

    this_month = dt.date.today().replace(day=1)
    assert payment_rows(grant) == [
        (dt.date(2025, 3, 1), head.pk, D("275240.00"), "KZT", D("3932.00"), 2025, "paid"),
        (dt.date(2025, 3, 1), child.pk, D("275240.00"), "KZT", D("3932.00"), 2025, "planned"),
        (this_month, newborn.pk, D("302750.00"), "KZT", D("4325.00"), 2026, "planned"),
    ]
    assert [
        (c["person"], c["amount_before"], c["amount_after"]) for c in recalculation.changes
    ] == [
        (leaving.pk, "275240.00", None),
        (newborn.pk, None, "302750.00"),
    ]
    assert recalculate_household(household=family, by=officer, cause="again") == []
    assert Recalculation.objects.count() == 1


@pytest.mark.django_db
def test_it_changes_the_tier_for_planned_months_only(officer, checker):
    family = quota_family(by=officer, year=2025)
    grant = grant_benefit(
        household=family,
        rule=rule("rent"),
        by=officer,
        tier=D(15),
        tier_reason="Shared flat",
        starts_on=dt.date(2025, 12, 1),
    )
    pay(grant.payments.get(period=dt.date(2025, 12, 1)), by=officer, checker=checker)

    change_tier(grant=grant, tier=D(30), reason="Own flat from January", by=officer)

    amounts = list(grant.payments.order_by("period").values_list("amount", flat=True))
    assert amounts == [D("58980.00")] + [D("129750.00")] * 11  # 15 × 3,932; 30 × 4,325
