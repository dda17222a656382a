"""Granting benefits to households and keeping their schedules right.

:func:`grant_benefit` checks a rule's conditions and writes the grant with its whole schedule of
planned payments. :func:`recalculate_grant` brings the *planned* payments of a grant in line with
the household and the index values of today — paid, approved, refused and missed payments are
never touched — and records every change in a ``Recalculation`` row.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import benefits as arithmetic
from ..enums import RELEASED_STATUSES, CaseStatus
from ..models import (
    AmountKind,
    BenefitGrant,
    BenefitRule,
    BenefitUnit,
    Household,
    IndexValue,
    Payment,
    PaymentState,
    PlacementStatus,
    Recalculation,
    StatusChange,
)
from ..selectors.quotas import GONE
from .payment_summaries import refresh_payment_months


class BenefitError(ValidationError):
    """A grant or recalculation the rules do not allow; the message is meant for the user."""


def index_values_for(rule: BenefitRule) -> dict[int, Decimal] | None:
    """The rule's index value per year (``None`` for a fixed-amount rule)."""
    if rule.amount_kind != AmountKind.INDEX:
        return None
    rows = IndexValue.objects.filter(
        country=rule.program.country, code=rule.index_code
    ).values_list("year", "value")
    return dict(rows)


def status_reached_on(household: Household, status: str) -> dt.date | None:
    """When the case first reached ``status`` (``None`` if it never did)."""
    change = (
        StatusChange.objects.filter(household=household, to_status=status)
        .order_by("effective_on", "id")
        .first()
    )
    return change.effective_on if change else None


def in_quota(household: Household) -> bool:
    return household.quota_placements.filter(status=PlacementStatus.RESERVED).exists()


def beneficiaries(household: Household, rule: BenefitRule) -> list[int | None]:
    """Who a rule pays: each member still in the household, or the household (``None``)."""
    if rule.unit == BenefitUnit.HOUSEHOLD:
        return [None]
    return list(
        household.members.exclude(member_status__in=GONE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def condition_problems(household: Household, rule: BenefitRule) -> list[str]:
    """Why ``household`` cannot (yet) receive ``rule`` — empty when it can."""
    problems = []
    if rule.program_id != household.program_id:
        problems.append(_("The rule belongs to another program."))
    if household.status in RELEASED_STATUSES or household.status == CaseStatus.CLOSED:
        problems.append(_("The case is “%(status)s”.") % {"status": household.get_status_display()})
    if rule.quota_participants_only and not in_quota(household):
        problems.append(_("Not in the regional quota."))
    if rule.from_status and status_reached_on(household, rule.from_status) is None:
        problems.append(
            _("The case has not reached “%(status)s”.")
            % {"status": CaseStatus(rule.from_status).label}
        )
    return problems


def plain(number: Decimal) -> str:
    """``30`` for 30.00, ``22.5`` for 22.50."""
    return format(number.normalize(), "f")


def grant_multiplier(rule: BenefitRule, tier: Decimal | None) -> Decimal:
    try:
        return arithmetic.chosen_multiplier(low=rule.amount, high=rule.amount_max, tier=tier)
    except arithmetic.TierOutOfRangeError as error:
        if rule.is_range:
            raise BenefitError(
                _("Choose a tier between %(low)s and %(high)s.")
                % {"low": plain(rule.amount), "high": plain(rule.amount_max)},
                code="tier",
            ) from error
        raise BenefitError(_("This rule has no tiers."), code="tier") from error


def schedule_for(
    grant: BenefitGrant, person_ids: list[int | None] | None = None
) -> list[arithmetic.ScheduleLine]:
    """The payments a grant should have now, for the given (default: current) beneficiaries."""
    rule = grant.rule
    try:
        return arithmetic.schedule(
            start=grant.starts_on,
            frequency=rule.frequency,
            months=rule.months,
            multiplier=grant_multiplier(rule, grant.tier),
            index_values=index_values_for(rule),
            person_ids=beneficiaries(grant.household, rule) if person_ids is None else person_ids,
        )
    except arithmetic.MissingIndexValueError as error:
        raise _missing_index(rule, error) from error


def _missing_index(rule: BenefitRule, error: arithmetic.MissingIndexValueError) -> BenefitError:
    return BenefitError(
        _("No %(index)s value is recorded for %(year)s or earlier.")
        % {"index": rule.index_code, "year": error.args[0]},
        code="index_missing",
    )


@transaction.atomic
def grant_benefit(
    *,
    household: Household,
    rule: BenefitRule,
    by: AbstractBaseUser | None,
    starts_on: dt.date | None = None,
    tier: Decimal | None = None,
    tier_reason: str = "",
) -> BenefitGrant:
    """Grant ``rule`` to ``household`` and plan its payments (one per month, per person if so).

    ``starts_on`` defaults to the day the case reached the rule's status (else today). Raises
    :class:`BenefitError` and writes nothing when a condition is not met, the tier is outside
    the rule's range, the rule is not in force on ``starts_on``, or the grant exists already.
    """
    locked = Household.objects.select_for_update().select_related("program").get(pk=household.pk)
    problems = condition_problems(locked, rule)
    if problems:
        raise BenefitError(problems, code="conditions")
    if starts_on is None:
        reached = status_reached_on(locked, rule.from_status) if rule.from_status else None
        starts_on = reached or timezone.localdate()
    if starts_on < rule.effective_from or (rule.effective_to and starts_on > rule.effective_to):
        raise BenefitError(
            _("“%(rule)s” is not in force on %(date)s.") % {"rule": rule, "date": starts_on},
            code="not_in_force",
        )
    if rule.is_range and not tier_reason.strip():
        raise BenefitError(_("Say why this tier was chosen."), code="tier_reason")
    grant_multiplier(rule, tier)
    grant = BenefitGrant(
        household=locked,
        rule=rule,
        tier=tier,
        tier_reason=tier_reason.strip(),
        starts_on=starts_on,
        granted_by=by,
    )
    try:
        with transaction.atomic():
            grant.save()
    except IntegrityError as error:
        raise BenefitError(
            _("%(ref)s already has “%(rule)s”.") % {"ref": locked.reference, "rule": rule},
            code="duplicate",
        ) from error
    Payment.objects.bulk_create(
        _payment(grant, line, by) for line in schedule_for(grant, beneficiaries(locked, rule))
    )
    refresh_payment_months([locked.pk])
    return grant


def _payment(
    grant: BenefitGrant, line: arithmetic.ScheduleLine, by: AbstractBaseUser | None
) -> Payment:
    return Payment(
        grant=grant,
        person_id=line.person_id,
        period=line.period,
        amount=line.amount,
        currency=grant.rule.program.currency,
        index_value=line.index_value,
        index_year=line.index_year,
        created_by=by,
    )


def _change(
    period: dt.date,
    person_id: int | None,
    before: Payment | None,
    after: arithmetic.ScheduleLine | None,
) -> dict:
    return {
        "period": period.isoformat(),
        "person": person_id,
        "amount_before": str(before.amount) if before else None,
        "amount_after": str(after.amount) if after else None,
        "index_before": str(before.index_value) if before and before.index_value else None,
        "index_after": str(after.index_value) if after and after.index_value else None,
        "index_year_before": before.index_year if before else None,
        "index_year_after": after.index_year if after else None,
    }


@transaction.atomic
def recalculate_grant(
    *, grant: BenefitGrant, by: AbstractBaseUser | None, cause: str
) -> Recalculation | None:
    """Recompute a grant's planned payments; paid and decided ones never change.

    - a planned payment whose amount or index differs from the rule's today is updated;
    - a member who left or died loses their planned payments (they are deleted: nothing was
      decided on them yet);
    - a member who joined gets planned payments from the current month on.

    Writes one ``Recalculation`` with every change and the ``cause``; returns ``None`` (and
    writes nothing) when nothing changed.
    """
    grant = (
        BenefitGrant.objects.select_for_update()
        .select_related("rule__program", "household")
        .get(pk=grant.pk)
    )
    current = beneficiaries(grant.household, grant.rule)
    values = index_values_for(grant.rule)
    ever = set(grant.payments.filter(reversal_of__isnull=True).values_list("person_id", flat=True))
    changes = []
    planned = (
        grant.payments.select_for_update()
        .filter(state=PaymentState.PLANNED, reversal_of__isnull=True)
        .order_by("period", "person_id", "pk")
    )
    for payment in planned:
        if payment.person_id not in current:
            changes.append(_change(payment.period, payment.person_id, payment, None))
            payment.delete()
            continue
        line = _line(grant, payment.period, payment.person_id, values)
        if (line.amount, line.index_value, line.index_year) != (
            payment.amount,
            payment.index_value,
            payment.index_year,
        ):
            changes.append(_change(payment.period, payment.person_id, payment, line))
            payment.amount, payment.index_value = line.amount, line.index_value
            payment.index_year = line.index_year
            payment.save(update_fields=["amount", "index_value", "index_year"])
    newcomers = [p for p in current if p not in ever]
    if newcomers:
        # A member who joins is paid from now on: a one-off this month, the months still to come.
        this_month = arithmetic.month_start(timezone.localdate())
        periods = [
            period
            for period in arithmetic.periods(
                start=grant.starts_on, frequency=grant.rule.frequency, months=grant.rule.months
            )
            if period >= this_month
        ] or ([this_month] if grant.rule.frequency == arithmetic.ONCE else [])
        lines = [_line(grant, period, person, values) for person in newcomers for period in periods]
        for line in lines:
            changes.append(_change(line.period, line.person_id, None, line))
        Payment.objects.bulk_create(_payment(grant, line, by) for line in lines)
        refresh_payment_months([grant.household_id])
    if not changes:
        return None
    return Recalculation.objects.create(
        grant=grant, cause=cause, changes=changes, recalculated_by=by
    )


def _line(
    grant: BenefitGrant, period: dt.date, person_id: int | None, values: dict | None
) -> arithmetic.ScheduleLine:
    """The payment a grant owes ``person_id`` for ``period`` under today's rule and index."""
    try:
        return arithmetic.schedule(
            start=period,
            frequency=arithmetic.ONCE,
            months=1,
            multiplier=grant_multiplier(grant.rule, grant.tier),
            index_values=values,
            person_ids=[person_id],
        )[0]
    except arithmetic.MissingIndexValueError as error:
        raise _missing_index(grant.rule, error) from error


def recalculate_household(
    *, household: Household, by: AbstractBaseUser | None, cause: str
) -> list[Recalculation]:
    """Recompute every grant of a household (after a member joined, left or died)."""
    results = []
    for grant in BenefitGrant.objects.filter(household=household):
        recalculation = recalculate_grant(grant=grant, by=by, cause=cause)
        if recalculation is not None:
            results.append(recalculation)
    return results


@transaction.atomic
def set_index_value(
    *,
    country: str,
    code: str,
    year: int,
    value: Decimal,
    by: AbstractBaseUser | None,
    reason: str,
) -> list[Recalculation]:
    """Enter or correct an index value, then recompute the planned payments that use the index."""
    reason = reason.strip()
    if not reason:
        raise BenefitError(_("Give the reason or legal act for the index value."))
    index, created = IndexValue.objects.select_for_update().get_or_create(
        country=country, code=code, year=year, defaults={"value": value, "legal_basis": reason}
    )
    if not created:
        if index.value == value:
            return []
        index.value = value
        index.legal_basis = reason[:300]
        index.save()
    cause = _("%(code)s %(year)s set to %(value)s: %(reason)s") % {
        "code": code,
        "year": year,
        "value": value,
        "reason": reason,
    }
    grants = BenefitGrant.objects.filter(
        rule__amount_kind=AmountKind.INDEX,
        rule__index_code=code,
        rule__program__country=country,
        payments__state=PaymentState.PLANNED,
    ).distinct()
    results = []
    for grant in grants:
        recalculation = recalculate_grant(grant=grant, by=by, cause=cause)
        if recalculation is not None:
            results.append(recalculation)
    return results


@transaction.atomic
def change_tier(
    *, grant: BenefitGrant, tier: Decimal, reason: str, by: AbstractBaseUser | None
) -> Recalculation | None:
    """Choose another tier for a range rule; planned payments follow, paid ones stay."""
    grant = (
        BenefitGrant.objects.select_for_update(of=("self",)).select_related("rule").get(pk=grant.pk)
    )
    if not reason.strip():
        raise BenefitError(_("Say why this tier was chosen."), code="tier_reason")
    grant_multiplier(grant.rule, tier)
    before = grant.tier
    grant.tier, grant.tier_reason = tier, reason.strip()[:300]
    grant.save(update_fields=["tier", "tier_reason"])
    return recalculate_grant(
        grant=grant,
        by=by,
        cause=_("Tier %(before)s → %(after)s: %(reason)s")
        % {"before": before, "after": tier, "reason": reason.strip()},
    )
