"""Demo benefits: the 2021 evacuees' basic-needs stipend, and quota places and subsidies 2025–2026.

Called by ``seed_demo`` after the demo households exist; works with whatever households are
there and can run any number of times (each step is skipped when it was done before). All writes
go through the services, so the demo ledger obeys the same rules as real data: every run is
prepared by one officer and approved by another (in ``seed_demo``: the demo finance officer
``finance.kz`` prepares, the demo approver ``approver.kz`` approves and records the payment).

The runs are those of the months up to ``as_of`` (``seed_demo`` passes its fixed demo date), so a
re-run on a later day adds nothing.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from .benefits import add_months, month_start
from .enums import RELEASED_STATUSES, CaseStatus
from .models import (
    BatchState,
    BenefitRule,
    Household,
    PaymentBatch,
    PaymentState,
    PlacementStatus,
    Program,
)
from .services.benefits import condition_problems, grant_benefit, status_reached_on
from .services.payments import approve_batch, pay_batch, prepare_batch, refuse_payment
from .services.quota_ledger import place_in_quota

EVACUATION_GROUP = "Evacuation flight"
FLIGHT_DAY = dt.date(2021, 9, 9)
STIPEND_CODE = "basic-needs-2021"
CHECKER_USERNAME = "finance_checker"


def basic_needs_rule(program: Program) -> BenefitRule:
    """The stipend for basic needs given to the people flown out of Kabul on 9 September 2021."""
    rule, _created = BenefitRule.objects.get_or_create(
        program=program,
        code=STIPEND_CODE,
        effective_from=dt.date(2021, 9, 1),
        defaults={
            "name": "Basic needs stipend, 2021 evacuees (10 MCI per person per month, 6 months)",
            "frequency": "monthly",
            "unit": "person",
            "amount_kind": "index",
            "index_code": "MCI",
            "amount": Decimal(10),
            "months": 6,
            "quota_participants_only": False,
            "from_status": CaseStatus.ARRIVED,
            "effective_to": dt.date(2022, 12, 31),
            "description": "Demo rule: the stipends for basic needs given after the 2021 evacuation.",
        },
    )
    return rule


def demo_checker() -> AbstractBaseUser:
    """A second officer, so that demo runs are approved by someone other than their preparer."""
    user, created = get_user_model().objects.get_or_create(
        username=CHECKER_USERNAME, defaults={"is_staff": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _grant(household: Household, rule: BenefitRule, by, **kwargs) -> bool:
    if household.grants.filter(rule=rule).exists() or condition_problems(household, rule):
        return False
    try:
        grant_benefit(household=household, rule=rule, by=by, **kwargs)
    except ValidationError:
        return False
    return True


def _run(
    *,
    program: Program,
    month: dt.date,
    maker,
    checker,
    until: str,
    paid_on: dt.date | None = None,
) -> PaymentBatch | None:
    """Take the program's run for ``month`` as far as ``until`` (prepared / approved / paid)."""
    batch = PaymentBatch.objects.filter(program=program, month=month, region=None).first()
    if batch is None or batch.state == BatchState.PREPARED:
        batch = prepare_batch(program=program, month=month, by=maker)
    if until == BatchState.PREPARED:
        return batch
    if batch.state == BatchState.PREPARED:
        batch = approve_batch(batch=batch, by=checker)
    if until == BatchState.PAID and batch.state == BatchState.APPROVED:
        paid_on = paid_on or month.replace(day=25)
        batch = pay_batch(
            batch=batch, by=checker, paid_on=paid_on, reference=f"DEMO-{month:%Y%m}-REG"
        )
    return batch


def seed_evacuee_stipends(user: AbstractBaseUser, checker: AbstractBaseUser) -> dict[str, int]:
    program = Program.objects.get(code="KZ-KANDAS")
    rule = basic_needs_rule(program)
    evacuees = Household.objects.filter(
        program=program, group__name__contains=EVACUATION_GROUP
    ).order_by("pk")
    granted = sum(
        _grant(household, rule, user, starts_on=status_reached_on(household, CaseStatus.ARRIVED))
        for household in evacuees
    )
    first = month_start(FLIGHT_DAY)
    # Sep 2021–Feb 2022, all paid long ago; one November payment refused before approval.
    # (Runs awaiting approval are this month's quota runs, see seed_quota_benefits.)
    for offset in range(6):
        month = add_months(first, offset)
        if offset == 2:
            prepared = _run(
                program=program, month=month, maker=user, checker=checker, until="prepared"
            )
            refusable = prepared.payments.filter(state=PaymentState.PLANNED).first()
            already = prepared.payments.filter(state=PaymentState.REFUSED).exists()
            if refusable is not None and not already:
                refuse_payment(
                    payment=refusable,
                    by=checker,
                    reason="Not at the registered address when the stipend was paid out",
                )
        _run(program=program, month=month, maker=user, checker=checker, until="paid")
    return {"evacuee_grants": granted}


def seed_quota_benefits(
    user: AbstractBaseUser, checker: AbstractBaseUser, as_of: dt.date
) -> dict[str, int]:
    program = Program.objects.get(code="KZ-KANDAS")
    families = (
        Household.objects.filter(program=program, quota_year__in=[2025, 2026])
        .exclude(Q(status__in=RELEASED_STATUSES) | Q(status=CaseStatus.CLOSED))
        .select_related("destination_region", "program")
        .order_by("pk")
    )
    placed = granted = 0
    relocation = BenefitRule.objects.filter(program=program, code="relocation").first()
    rent = BenefitRule.objects.filter(program=program, code="rent").first()
    for household in families:
        if not household.quota_placements.filter(status=PlacementStatus.RESERVED).exists():
            try:
                place_in_quota(household=household, by=user)
                placed += 1
            except ValidationError:
                continue  # no quota for its region, or the quota is full: left unplaced
        if relocation is not None:
            granted += _grant(household, relocation, user)
        if rent is not None:
            size = household.members.count()
            tier = Decimal(30 if size >= 6 else 20 if size >= 3 else 15)
            granted += _grant(
                household, rent, user, tier=tier, tier_reason="Demo: tier by family size"
            )
    # Last month's run paid, this month's prepared and awaiting approval.
    this_month = month_start(as_of)
    _run(
        program=program,
        month=add_months(this_month, -1),
        maker=user,
        checker=checker,
        until="paid",
    )
    _run(program=program, month=this_month, maker=user, checker=checker, until="prepared")
    return {"quota_placements": placed, "quota_grants": granted}


def seed_stipends(
    user: AbstractBaseUser,
    checker: AbstractBaseUser | None = None,
    *,
    as_of: dt.date | None = None,
) -> dict[str, int]:
    """Grant and pay the demo benefits; returns how many placements and grants were added.

    ``user`` prepares the runs and grants, ``checker`` (another officer) approves and pays them;
    ``as_of`` (default today) is the month of the last, still unapproved, quota run.
    """
    checker = checker or demo_checker()
    as_of = as_of or timezone.localdate()
    return {**seed_evacuee_stipends(user, checker), **seed_quota_benefits(user, checker, as_of)}
