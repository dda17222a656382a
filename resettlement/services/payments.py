"""The payment cycle: monthly runs prepared by one officer and approved by another, then paid.

    planned ──(run prepared)──▶ planned, in a run ──(approved)──▶ approved ──(paid)──▶ paid
        │                               │                            │                  │
        └──────────── refused (reason) / missed (reason) ◀───────────┘        reversal entry

Every write locks the rows it decides on (``select_for_update``): of two officers approving or
paying the same item at the same moment one succeeds and the other gets a clear
:class:`PaymentError`. The database refuses a second live payment for the same month of the same
benefit (see ``models.benefits``), and a form submitted twice with the same idempotency key
creates one entry.
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .. import benefits as arithmetic
from ..enums import RELEASED_STATUSES, CaseStatus
from ..models import (
    BatchExclusion,
    BatchState,
    BenefitGrant,
    BenefitUnit,
    Household,
    Payment,
    PaymentBatch,
    PaymentState,
    Person,
    Program,
    Region,
)
from .benefits import schedule_for
from .payment_summaries import refresh_for_payments


class PaymentError(ValidationError):
    """A payment step the rules do not allow; the message is meant for the user."""


def _who(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None else _("the system")


def due_payments(
    *, program: Program, month: dt.date, region: Region | None = None
) -> QuerySet[Payment]:
    """Planned payments of ``program`` due up to ``month`` that are in no run yet."""
    payments = Payment.objects.filter(
        grant__household__program=program,
        state=PaymentState.PLANNED,
        batch__isnull=True,
        reversal_of__isnull=True,
        period__lte=arithmetic.month_start(month),
    )
    if region is not None:
        payments = payments.filter(
            Q(grant__household__destination_region=region)
            | Q(grant__household__destination_region__parent=region)
        )
    return payments


@transaction.atomic
def prepare_batch(
    *,
    program: Program,
    month: dt.date,
    by: AbstractBaseUser,
    region: Region | None = None,
) -> PaymentBatch:
    """Prepare (or top up) the run for a program and month: every due payment not yet in a run.

    Running it again adds only payments that became due since; households excluded from the run
    stay out. Households whose case was withdrawn, refused or left are excluded with that reason.
    Refuses a run that is already approved.
    """
    month = arithmetic.month_start(month)
    lookup = {"program": program, "month": month, "region": region}
    batch = PaymentBatch.objects.select_for_update().filter(**lookup).order_by("pk").first()
    if batch is None:
        try:
            with transaction.atomic():
                batch = PaymentBatch.objects.create(
                    **lookup, prepared_by=by, prepared_at=timezone.now()
                )
        except IntegrityError:
            # Another officer created it a moment ago; top up theirs.
            batch = PaymentBatch.objects.select_for_update().get(**lookup)
    if batch.state != BatchState.PREPARED:
        raise PaymentError(
            _("The run %(batch)s is already %(state)s; nothing can be added to it.")
            % {"batch": batch, "state": batch.get_state_display().lower()},
            code="batch_closed",
        )
    due = due_payments(program=program, month=month, region=region).exclude(
        grant__household__in=batch.exclusions.values("household")
    )
    closed = (
        Household.objects.filter(grants__payments__in=due)
        .filter(Q(status__in=RELEASED_STATUSES) | Q(status=CaseStatus.CLOSED))
        .distinct()
    )
    for household in closed:
        BatchExclusion.objects.create(
            batch=batch,
            household=household,
            reason=_("The case is “%(status)s”.") % {"status": household.get_status_display()},
            excluded_by=by,
        )
    due = due.exclude(grant__household__in=closed)
    locked = (
        Payment.objects.select_for_update()
        .filter(pk__in=due.values("pk"), batch__isnull=True)
        .order_by("pk")
    )
    locked_ids = list(locked.values_list("pk", flat=True))
    Payment.objects.filter(pk__in=locked_ids).update(batch=batch)
    return batch


@transaction.atomic
def exclude_from_batch(
    *, batch: PaymentBatch, household: Household, reason: str, by: AbstractBaseUser
) -> BatchExclusion:
    """Take a household out of a prepared run; its payments stay planned, and the reason is kept."""
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    reason = reason.strip()
    if not reason:
        raise PaymentError(_("Give the reason for leaving the household out."), code="reason")
    if batch.state != BatchState.PREPARED:
        raise PaymentError(_("Only a run awaiting approval can change."), code="batch_closed")
    exclusion, _created = BatchExclusion.objects.get_or_create(
        batch=batch,
        household=household,
        defaults={"reason": reason[:300], "excluded_by": by},
    )
    Payment.objects.filter(batch=batch, grant__household=household).update(batch=None)
    return exclusion


@transaction.atomic
def approve_batch(*, batch: PaymentBatch, by: AbstractBaseUser) -> PaymentBatch:
    """Approve a prepared run: its planned payments become approved. The preparer cannot approve."""
    batch = (
        PaymentBatch.objects.select_for_update(of=("self",))
        .select_related("approved_by")
        .get(pk=batch.pk)
    )
    if batch.state != BatchState.PREPARED:
        raise PaymentError(
            _("%(batch)s was already approved by %(user)s at %(at)s.")
            % {
                "batch": batch,
                "user": _who(batch.approved_by),
                "at": timezone.localtime(batch.approved_at).strftime("%Y-%m-%d %H:%M"),
            },
            code="already_approved",
        )
    if batch.prepared_by_id == by.pk:
        raise PaymentError(
            _("You prepared this run; another officer must approve it."), code="maker_checker"
        )
    now = timezone.now()
    Payment.objects.filter(batch=batch, state=PaymentState.PLANNED).update(
        state=PaymentState.APPROVED, approved_by=by, approved_at=now
    )
    batch.state, batch.approved_by, batch.approved_at = BatchState.APPROVED, by, now
    batch.save(update_fields=["state", "approved_by", "approved_at"])
    return batch


@transaction.atomic
def pay_batch(
    *, batch: PaymentBatch, by: AbstractBaseUser, paid_on: dt.date, reference: str
) -> PaymentBatch:
    """Record an approved run as paid on ``paid_on`` under ``reference`` (e.g. the bank register)."""
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    reference = reference.strip()
    if not reference:
        raise PaymentError(_("Give the payment reference."), code="reference")
    if batch.state == BatchState.PAID:
        raise PaymentError(
            _("%(batch)s is already paid (%(reference)s).")
            % {"batch": batch, "reference": batch.payment_reference},
            code="already_paid",
        )
    if batch.state != BatchState.APPROVED:
        raise PaymentError(_("A run is paid only after it is approved."), code="not_approved")
    now = timezone.now()
    Payment.objects.filter(batch=batch, state=PaymentState.APPROVED).update(
        state=PaymentState.PAID,
        paid_by=by,
        paid_at=now,
        paid_on=paid_on,
        payment_reference=reference,
    )
    refresh_for_payments(batch.payments.all())
    batch.state, batch.paid_by, batch.paid_at = BatchState.PAID, by, now
    batch.paid_on, batch.payment_reference = paid_on, reference
    batch.save(update_fields=["state", "paid_by", "paid_at", "paid_on", "payment_reference"])
    return batch


def _locked(payment: Payment) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",)).select_related("batch").get(pk=payment.pk)
    )


def _state_error(payment: Payment, action: str) -> PaymentError:
    return PaymentError(
        _("This payment is already “%(state)s”; it cannot be %(action)s.")
        % {"state": payment.get_state_display(), "action": action},
        code=f"already_{payment.state}",
    )


@transaction.atomic
def approve_payment(*, payment: Payment, by: AbstractBaseUser) -> Payment:
    """Approve one planned payment outside a run; whoever created or prepared it cannot."""
    payment = _locked(payment)
    if payment.state != PaymentState.PLANNED:
        raise _state_error(payment, _("approved"))
    maker = payment.batch.prepared_by_id if payment.batch else payment.created_by_id
    if maker == by.pk:
        raise PaymentError(
            _("You prepared this payment; another officer must approve it."),
            code="maker_checker",
        )
    payment.state, payment.approved_by, payment.approved_at = (
        PaymentState.APPROVED,
        by,
        timezone.now(),
    )
    payment.save(update_fields=["state", "approved_by", "approved_at"])
    return payment


@transaction.atomic
def pay_payment(
    *, payment: Payment, by: AbstractBaseUser, paid_on: dt.date, reference: str
) -> Payment:
    """Record one approved payment as paid, with its date and reference."""
    payment = _locked(payment)
    reference = reference.strip()
    if not reference:
        raise PaymentError(_("Give the payment reference."), code="reference")
    if payment.state != PaymentState.APPROVED:
        raise _state_error(payment, pgettext("action", "paid"))
    payment.state, payment.paid_by, payment.paid_at = PaymentState.PAID, by, timezone.now()
    payment.paid_on, payment.payment_reference = paid_on, reference
    payment.save(update_fields=["state", "paid_by", "paid_at", "paid_on", "payment_reference"])
    return payment


@transaction.atomic
def refuse_payment(
    *, payment: Payment, by: AbstractBaseUser, reason: str, missed: bool = False
) -> Payment:
    """Refuse a planned or approved payment (or mark it missed), with the reason."""
    payment = _locked(payment)
    reason = reason.strip()
    if not reason:
        raise PaymentError(_("Give the reason."), code="reason")
    if payment.state not in (PaymentState.PLANNED, PaymentState.APPROVED):
        raise _state_error(payment, _("marked missed") if missed else _("refused"))
    payment.state = PaymentState.MISSED if missed else PaymentState.REFUSED
    payment.decision_reason, payment.decided_by, payment.decided_at = (
        reason[:300],
        by,
        timezone.now(),
    )
    payment.save(update_fields=["state", "decision_reason", "decided_by", "decided_at"])
    return payment


def _by_key(idempotency_key: str | None) -> Payment | None:
    if not idempotency_key:
        return None
    return Payment.objects.filter(idempotency_key=idempotency_key).first()


def reverse_payment(
    *,
    payment: Payment,
    by: AbstractBaseUser,
    reason: str,
    paid_on: dt.date,
    reference: str,
    idempotency_key: str | None = None,
) -> Payment:
    """Reverse a paid payment: a new negative entry that points at it; the original is untouched
    except that its state becomes "reversed". Submitting twice with one key gives one reversal.
    """
    existing = _by_key(idempotency_key)
    if existing is not None:
        return existing
    try:
        return _reverse(
            payment=payment,
            by=by,
            reason=reason,
            paid_on=paid_on,
            reference=reference,
            idempotency_key=idempotency_key,
        )
    except (IntegrityError, PaymentError):
        # The same form, submitted twice at once: the other submission won.
        existing = _by_key(idempotency_key)
        if existing is None:
            raise
        return existing


@transaction.atomic
def _reverse(
    *,
    payment: Payment,
    by: AbstractBaseUser,
    reason: str,
    paid_on: dt.date,
    reference: str,
    idempotency_key: str | None,
) -> Payment:
    original = _locked(payment)
    reason, reference = reason.strip(), reference.strip()
    if not reason or not reference:
        raise PaymentError(_("Give the reason and the reference of the reversal."), code="reason")
    if original.state != PaymentState.PAID or original.reversal_of_id:
        raise _state_error(original, _("reversed"))
    now = timezone.now()
    reversal = Payment.objects.create(
        grant_id=original.grant_id,
        person_id=original.person_id,
        period=original.period,
        amount=-original.amount,
        currency=original.currency,
        index_value=original.index_value,
        index_year=original.index_year,
        state=PaymentState.PAID,
        decision_reason=reason[:300],
        created_by=by,
        paid_by=by,
        paid_at=now,
        paid_on=paid_on,
        payment_reference=reference,
        reversal_of=original,
        idempotency_key=idempotency_key or None,
    )
    # The one change a paid line may undergo: it is marked reversed (not through save()).
    Payment.objects.filter(pk=original.pk).update(state=PaymentState.REVERSED)
    refresh_for_payments(Payment.objects.filter(pk=original.pk))
    return reversal


def add_payment(
    *,
    grant: BenefitGrant,
    period: dt.date,
    by: AbstractBaseUser,
    person: Person | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """Plan one payment of a grant by hand (e.g. re-issue after a refusal or a reversal).

    The amount comes from the rule. Refused when the month already has a live payment — the
    database holds that rule, so two clerks doing it at once get one payment and one message.
    """
    existing = _by_key(idempotency_key)
    if existing is not None:
        return existing
    if (person is None) != (grant.rule.unit == BenefitUnit.HOUSEHOLD):
        raise PaymentError(
            _("Name the person for a per-person benefit, and only then."), code="person"
        )
    line = _line_for(grant, arithmetic.month_start(period), person)
    try:
        with transaction.atomic():
            return Payment.objects.create(
                grant=grant,
                person=person,
                period=line.period,
                amount=line.amount,
                currency=grant.rule.program.currency,
                index_value=line.index_value,
                index_year=line.index_year,
                created_by=by,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError as error:
        existing = _by_key(idempotency_key)
        if existing is not None:
            return existing
        raise PaymentError(
            _("%(month)s of this benefit already has a live payment.")
            % {"month": f"{line.period:%Y-%m}"},
            code="duplicate",
        ) from error


def _line_for(
    grant: BenefitGrant, period: dt.date, person: Person | None
) -> arithmetic.ScheduleLine:
    person_id = person.pk if person else None
    for line in schedule_for(grant, [person_id]):
        if line.period == period:
            return line
    raise PaymentError(
        _("%(month)s is not a month of this benefit.") % {"month": f"{period:%Y-%m}"},
        code="not_in_schedule",
    )
