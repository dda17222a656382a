"""Keeping ``PaymentMonth`` rows right: recomputed from the payments by every write of them.

:func:`refresh_payment_months` recomputes the rows of some households (or all) in the
database, in two statements per 2,000 households, counting as the stipends report counts. It is
called

- by signals, after any ``save()`` or ``delete()`` of a payment (its household's rows): paying,
  refusing or approving one payment, a reversal entry, a payment planned by hand, a planned
  payment removed or changed by a recalculation;
- explicitly by the writers that bypass signals (``bulk_create``, ``QuerySet.update()``):
  granting a benefit and recalculating it (new planned payments), paying a run, marking the
  reversed payment, the synthetic register. Preparing and approving a run change no figure
  (approved counts as planned, and the run is not a figure), so they do not refresh. A new bulk
  writer of payments must call it too (``tests/test_payment_months.py`` checks the known ones
  against a fresh recomputation).

``manage.py refresh_report_summaries`` recomputes everything (after a restore or a raw SQL fix).
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, IntegerField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ..models import BenefitGrant, Household, Payment, PaymentMonth
from ..models.summaries import PAID_STATES, PLANNED_STATES, RECEIVING
from .bulk import insert_select
from .locks import PAYMENT_MONTHS, recompute_in_turn

COLUMNS = (
    "household_id",
    "period",
    "rule_id",
    "currency",
    "planned",
    "paid",
    "people",
    "household_paid",
)


def month_sums(payments: QuerySet[Payment]) -> QuerySet:
    """``payments`` summed per household, month, rule and currency, in ``COLUMNS`` order."""
    money = DecimalField(max_digits=16, decimal_places=2)
    zero = Value(Decimal(0), output_field=money)
    return (
        payments.filter(state__in=(*PLANNED_STATES, *PAID_STATES))
        .order_by()
        .values("grant__household_id", "period", "grant__rule_id", "currency")
        .annotate(
            planned=Coalesce(Sum("amount", filter=Q(state__in=PLANNED_STATES)), zero),
            paid=Coalesce(Sum("amount", filter=Q(state__in=PAID_STATES)), zero),
            people=Count("person", distinct=True, filter=RECEIVING & Q(person__isnull=False)),
            household_paid=Coalesce(
                Max(
                    Value(1, output_field=IntegerField()),
                    filter=RECEIVING & Q(person__isnull=True),
                ),
                Value(0),
            ),
        )
        .values_list(
            "grant__household_id",
            "period",
            "grant__rule_id",
            "currency",
            "planned",
            "paid",
            "people",
            "household_paid",
        )
    )


def _refresh(household_ids: list[int] | None) -> None:
    rows = PaymentMonth.objects.all()
    payments = Payment.objects.all()
    if household_ids is not None:
        rows = rows.filter(household_id__in=household_ids)
        payments = payments.filter(grant__household_id__in=household_ids)
    rows._raw_delete(rows.db)
    insert_select(PaymentMonth, COLUMNS, month_sums(payments))


@transaction.atomic
def refresh_payment_months(household_ids: Iterable[int | None] | None = None) -> None:
    """Recompute the monthly payment summaries of ``household_ids`` (``None``: every household)."""
    recompute_in_turn(PAYMENT_MONTHS, _refresh, household_ids)


def refresh_for_payments(payments: QuerySet[Payment]) -> None:
    """Recompute the summaries of the households ``payments`` belong to."""
    refresh_payment_months(
        payments.order_by().values_list("grant__household_id", flat=True).distinct()
    )


# --- signals --------------------------------------------------------------------------------


def _household_of(payment: Payment) -> int | None:
    return (
        BenefitGrant.objects.filter(pk=payment.grant_id)
        .values_list("household_id", flat=True)
        .first()
    )


@receiver(post_save, sender=Payment, dispatch_uid="payment_month_saved")
def _payment_saved(sender, instance: Payment, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    refresh_payment_months([_household_of(instance)])


@receiver(post_delete, sender=Payment, dispatch_uid="payment_month_deleted")
def _payment_deleted(sender, instance: Payment, origin=None, **kwargs) -> None:
    model = getattr(origin, "model", type(origin))
    if model is Household:
        return  # the household goes too, and its summaries with it
    refresh_payment_months([_household_of(instance)])
