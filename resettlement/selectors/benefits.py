"""Benefits as a household sees them: what it could receive, and why each item is (not) paid."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..benefits import format_money
from ..models import (
    BatchExclusion,
    BenefitGrant,
    BenefitRule,
    Household,
    Payment,
    PaymentState,
)
from ..services.benefits import condition_problems


@dataclass(frozen=True)
class PaymentLine:
    """One payment and, in words, where it stands."""

    payment: Payment
    amount: str
    explanation: str


@dataclass
class BenefitStatus:
    """One benefit the household could receive: granted or not, and each payment's state."""

    rule: BenefitRule
    grant: BenefitGrant | None
    reasons: list[str] = field(default_factory=list)
    lines: list[PaymentLine] = field(default_factory=list)
    paid_total: str = ""
    planned_total: str = ""


def rules_in_force(household: Household, on: dt.date | None = None) -> QuerySet[BenefitRule]:
    """The program's rules in force on ``on`` (default today), plus any the household holds."""
    on = on or timezone.localdate()
    return (
        BenefitRule.objects.filter(program_id=household.program_id)
        .filter(
            Q(effective_from__lte=on, effective_to__isnull=True)
            | Q(effective_from__lte=on, effective_to__gte=on)
            | Q(grants__household=household)
        )
        .distinct()
        .order_by("code", "-effective_from")
    )


def _explain(payment: Payment, exclusions: list[BatchExclusion], today: dt.date) -> str:
    state = payment.state
    if state == PaymentState.PAID:
        return _("Paid on %(date)s, reference %(ref)s") % {
            "date": payment.paid_on,
            "ref": payment.payment_reference,
        }
    if state == PaymentState.REVERSED:
        reversal = getattr(payment, "reversal", None)
        why = reversal.decision_reason if reversal else ""
        return _("Paid on %(date)s, then reversed: %(why)s") % {
            "date": payment.paid_on,
            "why": why,
        }
    if state == PaymentState.REFUSED:
        return _("Refused: %(why)s") % {"why": payment.decision_reason}
    if state == PaymentState.MISSED:
        return _("Missed: %(why)s") % {"why": payment.decision_reason}
    if state == PaymentState.APPROVED:
        return _("Approved by %(user)s, awaiting payment") % {
            "user": payment.approved_by.get_username() if payment.approved_by else "—"
        }
    if payment.batch_id:
        return _("In payment run %(batch)s, awaiting approval") % {"batch": payment.batch}
    for exclusion in exclusions:
        if exclusion.batch.month >= payment.period:
            return _("Excluded from payment run %(batch)s: %(why)s") % {
                "batch": exclusion.batch,
                "why": exclusion.reason,
            }
    if payment.period > today.replace(day=1):
        return _("Planned for %(month)s") % {"month": f"{payment.period:%Y-%m}"}
    return _("Due; not yet in a payment run")


def why_not_paid(household: Household) -> list[BenefitStatus]:
    """Every benefit ``household`` could receive, with its state or the reason it is not paid."""
    symbol = household.program.currency_symbol
    today = timezone.localdate()
    grants = {
        g.rule_id: g
        for g in BenefitGrant.objects.filter(household=household).prefetch_related(
            Prefetch(
                "payments",
                queryset=Payment.objects.filter(reversal_of__isnull=True)
                .select_related("batch__program", "batch__region", "person", "approved_by")
                .select_related("reversal")
                .order_by("period", "person_id", "id"),
            )
        )
    }
    exclusions = list(
        BatchExclusion.objects.filter(household=household)
        .select_related("batch__program", "batch__region")
        .order_by("batch__month")
    )
    result = []
    for rule in rules_in_force(household):
        grant = grants.get(rule.pk)
        status = BenefitStatus(rule=rule, grant=grant)
        if grant is None:
            status.reasons = condition_problems(household, rule) or [
                _("Eligible, but not granted yet.")
            ]
        else:
            paid = planned = Decimal(0)
            for payment in grant.payments.all():
                status.lines.append(
                    PaymentLine(
                        payment=payment,
                        amount=format_money(payment.amount, symbol),
                        explanation=_explain(payment, exclusions, today),
                    )
                )
                if payment.state == PaymentState.PAID:
                    paid += payment.amount
                elif payment.state in (PaymentState.PLANNED, PaymentState.APPROVED):
                    planned += payment.amount
            status.paid_total = format_money(paid, symbol)
            status.planned_total = format_money(planned, symbol)
        result.append(status)
    return result
