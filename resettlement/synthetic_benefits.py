"""Benefits in the synthetic register: quota placements, grants, payment runs and the ledger.

A step of ``synthetic.generate`` (registered in ``synthetic.EXTRA_STEPS``, tables in
``synthetic.TABLES``). For each batch of planned households it writes what the benefit services
would have written over the years, consistent with the database's rules:

- a **quota placement** (reserved, as many places as members) for every household the generator
  put in a regional quota — the generator only does so while the quota has room;
- an **adaptation stipend** for every household whose case reached "arrived": per person, monthly,
  for ``ADAPTATION_MONTHS`` months from the month of arrival. It is a synthetic rule with two
  versions: a fixed amount until 2020, then a multiple of the MCI from the seeded index table
  (Kyrgyzstan's: a fixed amount in som). This gives about three payments per person;
- for quota families that arrived, the seeded quota rules: the **relocation subsidy** (70 MCI per
  person, once), **rent** (15–30 MCI per family for 12 months, the tier by family size, with the
  reason) and, for some, the **employer subsidy** (400 MCI, once);
- one **payment run** per program and month: runs before last month paid (prepared by one
  officer, approved and paid by another), last month's approved, this month's prepared; later
  months' payments are planned and in no run — ``bench/run.py`` times next month's run;
- payment states: paid with date and reference; about 0.5 % refused (with the reason), about
  0.4 % paid then reversed (the original marked "reversed", plus its negative reversal entry);
  last month's approved; this month's and later planned. At most one live payment per grant ×
  person × month, as the unique constraints demand.

Amounts come from ``benefits.schedule`` arithmetic (``index_for_year``, ``unit_amount``), so they
are what a real grant would plan.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import models

from . import benefits as arithmetic
from .enums import RELEASED_STATUSES, CaseStatus
from .models import (
    AmountKind,
    BatchState,
    BenefitGrant,
    BenefitRule,
    BenefitUnit,
    Frequency,
    IndexValue,
    Payment,
    PaymentBatch,
    PaymentState,
    PlacementStatus,
    QuotaPlacement,
)

if TYPE_CHECKING:
    from .synthetic import Generator, Plan

ADAPTATION_CODE = "synthetic-adaptation"
ADAPTATION_MONTHS = 3
#: Fixed amounts per person and month before the MCI-based version (KZ) and in Kyrgyzstan.
ADAPTATION_FIXED = {"KZ-KANDAS": Decimal(8000), "KG-KAYRYLMAN": Decimal(1500)}
ADAPTATION_MCI = Decimal(3)
ADAPTATION_INDEX_FROM = dt.date(2021, 1, 1)

REFUSED_SHARE = 0.005
REVERSED_SHARE = 0.004
EMPLOYER_SHARE = 0.3

REFUSAL = "Not at the registered address when the stipend was paid out"
REVERSAL = "Paid to a closed account; returned by the bank"
NOTE = "Synthetic data (generate_synthetic)."
ENDED = RELEASED_STATUSES | {CaseStatus.CLOSED}
#: The state of a payment in a run of each state.
RUN_PAYMENT_STATE = {
    BatchState.PREPARED: PaymentState.PLANNED,
    BatchState.APPROVED: PaymentState.APPROVED,
    BatchState.PAID: PaymentState.PAID,
}

# Columns of the household rows planned by ``synthetic.Generator.household``.
H_ID, H_PROGRAM, H_STATUS, H_APPLIED, H_DECIDED, H_ARRIVED = 0, 1, 9, 10, 11, 12
H_QUOTA_YEAR = 7
# Columns of the person rows.
P_ID, P_HOUSEHOLD = 0, 1

TABLES: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "quotaplacement": (
        QuotaPlacement,
        (
            "id", "household_id", "quota_id", "places", "status", "over_quota",
            "override_reason", "placed_by_id", "placed_at", "released_by_id", "released_at",
            "release_reason",
        ),
    ),
    "benefitgrant": (
        BenefitGrant,
        ("id", "household_id", "rule_id", "tier", "tier_reason", "starts_on", "granted_by_id",
         "granted_at"),
    ),
    "paymentbatch": (
        PaymentBatch,
        (
            "id", "program_id", "month", "region_id", "state", "prepared_by_id", "prepared_at",
            "approved_by_id", "approved_at", "paid_by_id", "paid_at", "paid_on",
            "payment_reference",
        ),
    ),
    "payment": (
        Payment,
        (
            "id", "grant_id", "person_id", "period", "amount", "currency", "index_value",
            "index_year", "state", "decision_reason", "batch_id", "created_by_id", "created_at",
            "approved_by_id", "approved_at", "decided_by_id", "decided_at", "paid_by_id",
            "paid_at", "paid_on", "payment_reference", "reversal_of_id", "idempotency_key",
        ),
    ),
}  # fmt: skip


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


class _Rule:
    """What the step needs of one benefit rule version, computed once."""

    def __init__(self, rule: BenefitRule, index_values: dict[int, Decimal] | None) -> None:
        self.pk = rule.pk
        self.rule = rule
        self.per_person = rule.unit == BenefitUnit.PERSON
        self.frequency = rule.frequency
        self.months = rule.months
        self.index_values = index_values if rule.amount_kind == AmountKind.INDEX else None
        self.currency = rule.program.currency
        self._amounts: dict[tuple[int, Decimal], tuple[Decimal, Decimal | None, int | None]] = {}

    def periods(self, start: dt.date) -> list[dt.date]:
        return arithmetic.periods(start=start, frequency=self.frequency, months=self.months)

    def amount(self, year: int, multiplier: Decimal) -> tuple[Decimal, Decimal | None, int | None]:
        key = (year, multiplier)
        found = self._amounts.get(key)
        if found is None:
            index_year, value = (None, None)
            if self.index_values is not None:
                index_year, value = arithmetic.index_for_year(self.index_values, year)
            found = (arithmetic.unit_amount(multiplier=multiplier, index_value=value), value,
                     index_year)  # fmt: skip
            self._amounts[key] = found
        return found


class BenefitPlanner:
    """State kept across batches: rules, officers, runs created so far, its own random stream."""

    def __init__(self, generator: Generator, seed: int) -> None:
        self.generator = generator
        self.rng = random.Random(seed * 104_729 + 17)
        self.as_of = generator.as_of
        self.this_month = arithmetic.month_start(generator.as_of)
        self.last_month = arithmetic.add_months(self.this_month, -1)
        users = get_user_model()
        self.maker = self._officer(users, "synthetic_finance_maker")
        self.checker = self._officer(users, "synthetic_finance_checker")
        self.programs = generator.programs
        self.program_by_id = {p.pk: p for p in self.programs.values()}
        mci = {
            (country, code): dict(
                IndexValue.objects.filter(country=country, code=code).values_list("year", "value")
            )
            for country, code in {(p.country, "MCI") for p in self.programs.values()}
        }
        self.adaptation: dict[int, list[tuple[dt.date, dt.date | None, _Rule]]] = {}
        for _code, program in self.programs.items():
            versions = []
            for rule in self._adaptation_rules(
                program, has_mci=bool(mci[(program.country, "MCI")])
            ):
                versions.append(
                    (rule.effective_from, rule.effective_to,
                     _Rule(rule, mci.get((program.country, rule.index_code))))
                )  # fmt: skip
            self.adaptation[program.pk] = versions
        kandas = self.programs.get("KZ-KANDAS")
        self.quota_rules: dict[str, _Rule] = {}
        if kandas is not None:
            for rule in BenefitRule.objects.filter(
                program=kandas, code__in=("relocation", "rent", "employer")
            ).select_related("program"):
                self.quota_rules[rule.code] = _Rule(rule, mci.get(("KZ", rule.index_code)))
        # Runs already in the database (an earlier load, the demo) are joined, not duplicated.
        self.batches: dict[tuple[int, dt.date], tuple] = {
            (batch.program_id, batch.month): (
                batch.pk, RUN_PAYMENT_STATE[batch.state], batch.approved_at, batch.paid_at,
                batch.paid_on, batch.payment_reference,
            )
            for batch in PaymentBatch.objects.filter(region__isnull=True)
        }  # fmt: skip
        self.open_case = True

    @staticmethod
    def _officer(users: Any, username: str) -> Any:
        user, created = users.objects.get_or_create(
            username=username, defaults={"is_staff": False, "is_active": False}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user.pk

    @staticmethod
    def _adaptation_rules(program: Any, *, has_mci: bool) -> list[BenefitRule]:
        """The synthetic stipend's versions for a program (created once, then reused)."""
        fixed = ADAPTATION_FIXED.get(program.code, Decimal(1000))
        common = {
            "frequency": Frequency.MONTHLY,
            "unit": BenefitUnit.PERSON,
            "months": ADAPTATION_MONTHS,
            "quota_participants_only": False,
            "from_status": CaseStatus.ARRIVED,
            "legal_basis": NOTE,
        }
        if has_mci:
            specs = [
                (dt.date(1991, 1, 1), ADAPTATION_INDEX_FROM - dt.timedelta(days=1),
                 {"amount_kind": AmountKind.FIXED, "index_code": "", "amount": fixed,
                  "name": f"Adaptation stipend (synthetic, {fixed} {program.currency} per person "
                          f"per month, {ADAPTATION_MONTHS} months)"}),
                (ADAPTATION_INDEX_FROM, None,
                 {"amount_kind": AmountKind.INDEX, "index_code": "MCI", "amount": ADAPTATION_MCI,
                  "name": f"Adaptation stipend (synthetic, {ADAPTATION_MCI} MCI per person per "
                          f"month, {ADAPTATION_MONTHS} months)"}),
            ]  # fmt: skip
        else:
            specs = [
                (dt.date(1991, 1, 1), None,
                 {"amount_kind": AmountKind.FIXED, "index_code": "", "amount": fixed,
                  "name": f"Adaptation stipend (synthetic, {fixed} {program.currency} per person "
                          f"per month, {ADAPTATION_MONTHS} months)"}),
            ]  # fmt: skip
        rules = []
        for start, end, fields in specs:
            rule, _created = BenefitRule.objects.get_or_create(
                program=program,
                code=ADAPTATION_CODE,
                effective_from=start,
                defaults={**common, **fields, "effective_to": end, "description": NOTE},
            )
            rule.program = program
            rules.append(rule)
        return rules

    # -- runs ------------------------------------------------------------------------------

    def batch(self, plan: Plan, program_id: int, month: dt.date) -> tuple | None:
        """(batch id, state, approved_at, paid_at, paid_on, reference) of the month's run."""
        if month > self.this_month:
            return None
        key = (program_id, month)
        found = self.batches.get(key)
        if found is not None:
            return found
        program = self.program_by_id[program_id]
        batch_id = self.generator._id(PaymentBatch)
        maker, checker = self.maker, self.checker
        if month == self.this_month:
            prepared_at = _at(self.as_of, 9)
            row = (batch_id, program_id, month, None, BatchState.PREPARED, maker, prepared_at,
                   None, None, None, None, None, "")  # fmt: skip
            found = (batch_id, PaymentState.PLANNED, None, None, None, "")
        else:
            prepared_at = _at(month.replace(day=20), 9)
            approved_at = _at(month.replace(day=22), 11)
            if month == self.last_month:
                row = (batch_id, program_id, month, None, BatchState.APPROVED, maker, prepared_at,
                       checker, approved_at, None, None, None, "")  # fmt: skip
                found = (batch_id, PaymentState.APPROVED, approved_at, None, None, "")
            else:
                paid_on = month.replace(day=25)
                paid_at = _at(paid_on, 15)
                reference = f"SYN-{program.reference_prefix}-{month:%Y%m}"
                row = (batch_id, program_id, month, None, BatchState.PAID, maker, prepared_at,
                       checker, approved_at, checker, paid_at, paid_on, reference)  # fmt: skip
                found = (batch_id, PaymentState.PAID, approved_at, paid_at, paid_on, reference)
        plan.rows["paymentbatch"].append(row)
        self.batches[key] = found
        return found

    # -- one batch of households -------------------------------------------------------------

    def adaptation_rule(self, program_id: int, start: dt.date) -> _Rule | None:
        for effective_from, effective_to, rule in self.adaptation.get(program_id, []):
            if effective_from <= start and (effective_to is None or start <= effective_to):
                return rule
        return None

    def step(self, generator: Generator, plan: Plan) -> None:
        members: dict[int, list[int]] = {}
        for person in plan.rows["person"]:
            members.setdefault(person[P_HOUSEHOLD], []).append(person[P_ID])
        quotas = generator.quota_of_household
        for household in plan.rows["household"]:
            household_id = household[H_ID]
            people = members.get(household_id, [])
            quota_id = quotas.pop(household_id, None)
            if quota_id is not None:
                placed_on = household[H_DECIDED] or household[H_APPLIED] or self.as_of
                plan.rows["quotaplacement"].append(
                    (generator._id(QuotaPlacement), household_id, quota_id, len(people),
                     PlacementStatus.RESERVED, False, "", self.maker, _at(placed_on, 12), None,
                     None, "")
                )  # fmt: skip
            arrived = household[H_ARRIVED]
            if arrived is None:
                continue
            program_id = household[H_PROGRAM]
            rule = self.adaptation_rule(program_id, arrived)
            # A case withdrawn or closed since: its open months are in no run (the next run
            # leaves the household out, with the reason, as ``prepare_batch`` does).
            self.open_case = household[H_STATUS] not in ENDED
            if rule is not None:
                self.grant(plan, household_id, program_id, rule, arrived, people, rule.rule.amount)
            if quota_id is not None and self.open_case:
                self.quota_benefits(plan, household_id, program_id, arrived, people)

    def quota_benefits(
        self, plan: Plan, household_id: int, program_id: int, arrived: dt.date, people: list[int]
    ) -> None:
        rules = self.quota_rules
        if "relocation" in rules:
            rule = rules["relocation"]
            self.grant(plan, household_id, program_id, rule, arrived, people, rule.rule.amount)
        if "rent" in rules:
            rule = rules["rent"]
            size = len(people)
            tier = Decimal(30 if size >= 6 else 20 if size >= 3 else 15)
            self.grant(plan, household_id, program_id, rule, arrived, people, tier,
                       tier_reason="Synthetic: tier by family size")  # fmt: skip
        if "employer" in rules and self.rng.random() < EMPLOYER_SHARE:
            rule = rules["employer"]
            self.grant(plan, household_id, program_id, rule, arrived, people, rule.rule.amount)

    def grant(
        self,
        plan: Plan,
        household_id: int,
        program_id: int,
        rule: _Rule,
        starts_on: dt.date,
        people: list[int],
        multiplier: Decimal,
        tier_reason: str = "",
    ) -> None:
        generator = self.generator
        grant_id = generator._id(BenefitGrant)
        granted_at = _at(starts_on, 10)
        plan.rows["benefitgrant"].append(
            (grant_id, household_id, rule.pk, multiplier if tier_reason else None, tier_reason,
             starts_on, self.maker, granted_at)
        )  # fmt: skip
        beneficiaries: list[int | None] = people if rule.per_person else [None]
        payments = plan.rows["payment"]
        rng = self.rng.random
        maker, checker = self.maker, self.checker
        currency = rule.currency
        next_id = generator._id
        for period in rule.periods(starts_on):
            amount, index_value, index_year = rule.amount(period.year, multiplier)
            run = self.batch(plan, program_id, period)
            if run is not None and run[1] != PaymentState.PAID and not self.open_case:
                run = None
            for person_id in beneficiaries:
                payment_id = next_id(Payment)
                if run is None:  # a later month: planned, in no run yet
                    payments.append(
                        (payment_id, grant_id, person_id, period, amount, currency, index_value,
                         index_year, PaymentState.PLANNED, "", None, maker, granted_at, None,
                         None, None, None, None, None, None, "", None, None)
                    )  # fmt: skip
                    continue
                batch_id, state, approved_at, paid_at, paid_on, reference = run
                if state != PaymentState.PAID:
                    payments.append(
                        (payment_id, grant_id, person_id, period, amount, currency, index_value,
                         index_year, state, "", batch_id, maker, granted_at,
                         checker if approved_at else None, approved_at, None, None, None, None,
                         None, "", None, None)
                    )  # fmt: skip
                    continue
                draw = rng()
                if draw < REFUSED_SHARE:
                    payments.append(
                        (payment_id, grant_id, person_id, period, amount, currency, index_value,
                         index_year, PaymentState.REFUSED, REFUSAL, batch_id, maker, granted_at,
                         None, None, checker, approved_at, None, None, None, "", None, None)
                    )  # fmt: skip
                    continue
                reversed_ = draw < REFUSED_SHARE + REVERSED_SHARE
                payments.append(
                    (payment_id, grant_id, person_id, period, amount, currency, index_value,
                     index_year, PaymentState.REVERSED if reversed_ else PaymentState.PAID, "",
                     batch_id, maker, granted_at, checker, approved_at, None, None, checker,
                     paid_at, paid_on, reference, None, None)
                )  # fmt: skip
                if reversed_:
                    returned_on = min(paid_on + dt.timedelta(days=30), self.as_of)
                    payments.append(
                        (next_id(Payment), grant_id, person_id, period, -amount, currency,
                         index_value, index_year, PaymentState.PAID, REVERSAL, None, checker,
                         _at(returned_on, 10), None, None, None, None, checker,
                         _at(returned_on, 10), returned_on, f"SYN-REV-{payment_id}",
                         payment_id, None)
                    )  # fmt: skip


def plan_benefits(generator: Generator, plan: Plan) -> None:
    """The ``EXTRA_STEPS`` entry: placements, grants, runs and payments of a batch."""
    planner = generator.state.get("benefits")
    if planner is None:
        planner = generator.state["benefits"] = BenefitPlanner(generator, generator.seed)
    planner.step(generator, plan)
