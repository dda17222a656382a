"""A small hand-built payment ledger for the stipends report and the payments export.

Autumn 2025, all written through the real services (runs prepared by one officer, approved by
another):

- rules: KZ ``stipend`` 10 MCI per person per month for 3 months (2025: 1 MCI = 3,932 ₸, so
  39,320 ₸); KZ ``housing`` 50,000 ₸ once per household; KG ``adaptation`` 5,000 som per person per
  month for 3 months;
- household A (KZ, Pavlodar KZ-55, 2 people): stipend Sep–Nov, housing in Sep;
- household B (KZ, Akmola KZ-11, 1 person): stipend Sep–Nov;
- household C (KG, Chong-Alai district of Osh oblast, 2 people): adaptation Sep–Nov;
- September runs paid (KZ on 25 Sep "KZ-2025-09", KG on 28 Sep "KG-2025-09"); B's September
  stipend refused before approval; A's second member's September stipend reversed on 5 Oct;
- October KZ run approved, not paid; C's second member's October payment marked missed;
- everything else planned.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from resettlement.models import BenefitGrant, BenefitRule, Household, Payment, Person
from resettlement.services.benefits import grant_benefit
from resettlement.services.payments import (
    approve_batch,
    pay_batch,
    prepare_batch,
    refuse_payment,
    reverse_payment,
)
from tests.reports_fixtures import household, kg, kz, member

D = dt.date
SEPTEMBER, OCTOBER = D(2025, 9, 1), D(2025, 10, 1)


@dataclass
class Ledger:
    a: Household
    b: Household
    c: Household
    a1: Person
    a2: Person
    b1: Person
    c1: Person
    c2: Person
    stipend: BenefitRule
    housing: BenefitRule
    adaptation: BenefitRule
    reversed: Payment
    reversal: Payment
    refused: Payment
    missed: Payment


def _rule(program, code: str, name: str, **fields) -> BenefitRule:
    return BenefitRule.objects.create(
        program=program,
        code=code,
        name=name,
        effective_from=D(2025, 1, 1),
        **fields,
    )


def _payment(grant: BenefitGrant, person: Person | None, month: dt.date) -> Payment:
    return Payment.objects.get(grant=grant, person=person, period=month, reversal_of__isnull=True)


def build_ledger(maker, checker) -> Ledger:
    stipend = _rule(
        kz(),
        "stipend",
        "Stipend (10 MCI)",
        frequency="monthly",
        unit="person",
        amount_kind="index",
        index_code="MCI",
        amount=Decimal(10),
        months=3,
    )
    housing = _rule(
        kz(),
        "housing",
        "Housing grant",
        frequency="once",
        unit="household",
        amount_kind="fixed",
        amount=Decimal(50000),
    )
    adaptation = _rule(
        kg(),
        "adaptation",
        "Adaptation allowance",
        frequency="monthly",
        unit="person",
        amount_kind="fixed",
        amount=Decimal(5000),
        months=3,
    )
    a = household(kz(), "KZ-55", status="settled", reference="KZ-2025-00101")
    a1 = member(a, "head", "M", "1975", surname="Ахметов")
    a2 = member(a, "spouse", "F", "1980-10-01", surname="Ахметова")
    b = household(kz(), "KZ-11", status="settled", reference="KZ-2025-00102")
    b1 = member(b, "head", "M", "1990", surname="Бекболатов")
    c = household(kg(), "KG-O-CHA", status="settled", reference="KG-2025-00103")
    c1 = member(c, "head", "M", "1970", surname="Памиров")
    c2 = member(c, "spouse", "F", "1972", surname="Памирова")

    grants = {}
    for h, rule in ((a, stipend), (a, housing), (b, stipend), (c, adaptation)):
        grants[h.pk, rule.code] = grant_benefit(
            household=h, rule=rule, by=maker, starts_on=SEPTEMBER
        )

    kz_september = prepare_batch(program=kz(), month=SEPTEMBER, by=maker)
    refused = refuse_payment(
        payment=_payment(grants[b.pk, "stipend"], b1, SEPTEMBER),
        by=checker,
        reason="Not at the registered address",
    )
    approve_batch(batch=kz_september, by=checker)
    pay_batch(batch=kz_september, by=checker, paid_on=D(2025, 9, 25), reference="KZ-2025-09")
    reversed_payment = _payment(grants[a.pk, "stipend"], a2, SEPTEMBER)
    reversal = reverse_payment(
        payment=reversed_payment,
        by=checker,
        reason="Paid twice",
        paid_on=D(2025, 10, 5),
        reference="REV-2025-1",
    )
    kg_september = prepare_batch(program=kg(), month=SEPTEMBER, by=maker)
    approve_batch(batch=kg_september, by=checker)
    pay_batch(batch=kg_september, by=checker, paid_on=D(2025, 9, 28), reference="KG-2025-09")

    missed = refuse_payment(
        payment=_payment(grants[c.pk, "adaptation"], c2, OCTOBER),
        by=checker,
        reason="Did not come to collect it",
        missed=True,
    )
    kz_october = prepare_batch(program=kz(), month=OCTOBER, by=maker)
    approve_batch(batch=kz_october, by=checker)

    reversed_payment.refresh_from_db()
    return Ledger(
        a,
        b,
        c,
        a1,
        a2,
        b1,
        c1,
        c2,
        stipend,
        housing,
        adaptation,
        reversed_payment,
        reversal,
        refused,
        missed,
    )


def more_stipends(households: int, rule: BenefitRule, by) -> None:
    """``households`` more KZ families of two with ``rule`` from September (6 payments each)."""
    for index in range(households):
        h = household(kz(), "KZ-55" if index % 2 else "KZ-11", status="settled")
        member(h, "head", "M", "1980")
        member(h, "spouse", "F", "1985-05-05")
        grant_benefit(household=h, rule=rule, by=by, starts_on=SEPTEMBER)
