"""Benefits: index values, benefit rules, grants to households, the payment ledger and payment runs.

The ledger rules that the database itself holds (so no code path can break them):

- at most one *live* payment per grant × period (× person for per-person rules); refused and
  reversed payments, and reversal entries, do not count — see ``LIVE_STATES``;
- a paid payment has a payment date and a reference; a refused one has a reason;
- a reversal is a new, negative entry pointing at the payment it reverses, at most one per payment;
- one payment run per program × month (× region), and an idempotency key is used once.

NULLs are distinct in unique indexes (on PostgreSQL and SQLite alike), so the per-household and
per-person slots are two partial unique constraints rather than one over a nullable person.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..enums import CaseStatus
from ..templatetags.money import money
from .cases import Household, Person
from .constraints import one_of
from .reference import Program, Region


class Frequency(models.TextChoices):
    ONCE = "once", _("One-off")
    MONTHLY = "monthly", _("Monthly")


class BenefitUnit(models.TextChoices):
    PERSON = "person", _("Per person")
    HOUSEHOLD = "household", _("Per household")


class AmountKind(models.TextChoices):
    INDEX = "index", _("Multiple of an index (e.g. MCI)")
    FIXED = "fixed", _("Fixed amount in the program's currency")


class PaymentState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    REFUSED = "refused", _("Refused")
    MISSED = "missed", _("Missed")
    REVERSED = "reversed", _("Reversed")


#: States in which a payment holds its slot (grant × period × person).
LIVE_STATES = (
    PaymentState.PLANNED,
    PaymentState.APPROVED,
    PaymentState.PAID,
    PaymentState.MISSED,
)


class BatchState(models.TextChoices):
    PREPARED = "prepared", _("Prepared, awaiting approval")
    APPROVED = "approved", _("Approved, awaiting payment")
    PAID = "paid", _("Paid")


class IndexValue(models.Model):
    """The value of a benefit index (Kazakhstan's MCI) for one country and year, in its currency."""

    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code"))
    code = models.CharField(_("index"), max_length=10, default="MCI", help_text=_('e.g. "MCI"'))
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["country", "code", "-year"]
        verbose_name = _("index value")
        verbose_name_plural = _("index values")
        constraints = [
            models.UniqueConstraint(
                fields=["country", "code", "year"],
                name="one_index_value_per_year",
                violation_error_message=_("This index already has a value for that year."),
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="index_value_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.country} {self.year}: {self.value}"


class BenefitRule(models.Model):
    """What a program pays, to whom, how often, how much and on which conditions; effective-dated."""

    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.PROTECT)
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices)
    unit = models.CharField(_("paid per"), max_length=10, choices=BenefitUnit.choices)
    amount_kind = models.CharField(_("amount is"), max_length=6, choices=AmountKind.choices)
    index_code = models.CharField(
        _("index"), max_length=10, blank=True, help_text=_('For index multiples, e.g. "MCI"')
    )
    amount = models.DecimalField(
        _("amount or multiple"),
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "The index multiple (70 for 70 MCI) or the fixed amount; the lowest of a range"
        ),
    )
    amount_max = models.DecimalField(
        _("range up to"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Set for a range (15–30 MCI): the tier is chosen per household"),
    )
    months = models.PositiveSmallIntegerField(
        _("months"), default=1, help_text=_("How many monthly payments (1 for a one-off)")
    )
    quota_participants_only = models.BooleanField(_("only quota participants"), default=False)
    from_status = models.CharField(
        _("from case status"),
        max_length=12,
        choices=CaseStatus.choices,
        blank=True,
        help_text=_("The case must have reached this status"),
    )
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["program", "code", "-effective_from"]
        verbose_name = _("benefit rule")
        verbose_name_plural = _("benefit rules")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "code", "effective_from"],
                name="benefit_rule_unique_version",
                violation_error_message=_("This rule already has a version from that date."),
            ),
            models.CheckConstraint(
                condition=Q(amount_kind=AmountKind.FIXED, index_code="")
                | (Q(amount_kind=AmountKind.INDEX) & ~Q(index_code="")),
                name="benefit_rule_index_matches_kind",
                violation_error_message=_("Name the index for an index multiple, and only then."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & (Q(amount_max__isnull=True) | Q(amount_max__gt=models.F("amount"))),
                name="benefit_rule_amount_range",
                violation_error_message=_("The amount is positive and a range goes upwards."),
            ),
            models.CheckConstraint(
                condition=Q(months__gte=1), name="benefit_rule_at_least_one_month"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="benefit_rule_dates_in_order",
                violation_error_message=_("A rule cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.frequency == Frequency.ONCE and self.months != 1:
            raise ValidationError({"months": _("A one-off benefit is paid in one month.")})

    @property
    def is_range(self) -> bool:
        return self.amount_max is not None


class BenefitGrant(models.Model):
    """A rule granted to a household, with the tier chosen for it; its payments are the schedule."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="grants"
    )
    rule = models.ForeignKey(
        BenefitRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="grants"
    )
    tier = models.DecimalField(
        _("chosen tier"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For a range rule: the multiple or amount chosen for this household"),
    )
    tier_reason = models.CharField(_("why this tier"), max_length=300, blank=True)
    starts_on = models.DateField(_("first month"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["household", "rule__code"]
        verbose_name = _("benefit grant")
        verbose_name_plural = _("benefit grants")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "rule"],
                name="one_grant_per_household_rule",
                violation_error_message=_("This household already has this benefit."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.rule}"


class PaymentBatch(models.Model):
    """A monthly payment run: prepared by one officer, approved by another, then paid."""

    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.PROTECT)
    month = models.DateField(_("month"), help_text=_("The first day of the month paid"))
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, null=True, blank=True
    )
    state = models.CharField(
        _("state"), max_length=10, choices=BatchState.choices, default=BatchState.PREPARED
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    prepared_at = models.DateTimeField(_("prepared at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("paid by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    paid_at = models.DateTimeField(_("payment recorded at"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)

    class Meta:
        ordering = ["-month", "program", "region"]
        verbose_name = _("payment run")
        verbose_name_plural = _("payment runs")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "month"],
                condition=Q(region__isnull=True),
                name="one_batch_per_program_month",
            ),
            models.UniqueConstraint(
                fields=["program", "month", "region"],
                condition=Q(region__isnull=False),
                name="one_batch_per_program_month_region",
            ),
            models.CheckConstraint(
                condition=~Q(state=BatchState.APPROVED) & ~Q(state=BatchState.PAID)
                | Q(approved_by__isnull=False),
                name="approved_batch_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(approved_by=models.F("prepared_by")),
                name="batch_maker_is_not_checker",
                violation_error_message=_("The officer who prepared a run cannot approve it."),
            ),
        ]

    def __str__(self) -> str:
        where = f" · {self.region}" if self.region_id else ""
        return f"{self.program.code} {self.month:%Y-%m}{where}"


class BatchExclusion(models.Model):
    """A household left out of a payment run, and why."""

    batch = models.ForeignKey(
        PaymentBatch, verbose_name=_("run"), on_delete=models.CASCADE, related_name="exclusions"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300)
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("excluded by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    excluded_at = models.DateTimeField(_("excluded at"), auto_now_add=True)

    class Meta:
        ordering = ["batch", "household"]
        verbose_name = _("exclusion from a run")
        verbose_name_plural = _("exclusions from the run")
        constraints = [
            models.UniqueConstraint(fields=["batch", "household"], name="exclude_household_once"),
            models.CheckConstraint(condition=~Q(reason=""), name="exclusion_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.household}: {self.reason}"


class Payment(models.Model):
    """One line of the ledger: an amount due to a household (or one member) for one month.

    Paid lines are never edited: a reversal is a new negative line pointing at the original,
    whose state becomes "reversed" (its amount, date and reference stay as they were).
    """

    grant = models.ForeignKey(
        BenefitGrant, verbose_name=_("benefit"), on_delete=models.PROTECT, related_name="payments"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month it is due for"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    index_value = models.DecimalField(
        _("index value used"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    index_year = models.PositiveSmallIntegerField(_("index year used"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=PaymentState.choices, default=PaymentState.PLANNED
    )
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)
    batch = models.ForeignKey(
        PaymentBatch,
        verbose_name=_("run"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("refused or marked missed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("refused or marked missed at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("payment recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    paid_at = models.DateTimeField(_("payment recorded at"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    reversal_of = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
    )
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["grant", "period", "person", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        # Maker-checker: preparing a run is "add payment run"; these are the checker's steps.
        permissions = [
            ("approve_payments", _("Can approve payment runs, refuse or mark payments missed")),
            ("record_payments", _("Can record payments as paid and reverse paid payments")),
        ]
        constraints = [
            one_of("state", PaymentState, "payment_state_valid"),
            models.UniqueConstraint(
                fields=["grant", "period"],
                condition=Q(person__isnull=True, reversal_of__isnull=True, state__in=LIVE_STATES),
                name="one_live_payment_per_household_month",
                violation_error_message=_("This month of this benefit already has a payment."),
            ),
            models.UniqueConstraint(
                fields=["grant", "person", "period"],
                condition=Q(person__isnull=False, reversal_of__isnull=True, state__in=LIVE_STATES),
                name="one_live_payment_per_person_month",
                violation_error_message=_(
                    "This month of this benefit already has a payment for this person."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[PaymentState.PAID, PaymentState.REVERSED])
                | (Q(paid_on__isnull=False) & ~Q(payment_reference="")),
                name="paid_payment_has_date_and_reference",
                violation_error_message=_("A paid payment needs its date and reference."),
            ),
            models.CheckConstraint(
                condition=~Q(state__in=[PaymentState.REFUSED, PaymentState.MISSED])
                | ~Q(decision_reason=""),
                name="refused_payment_has_reason",
                violation_error_message=_("Give the reason."),
            ),
            models.CheckConstraint(
                condition=Q(reversal_of__isnull=True, amount__gte=0)
                | Q(reversal_of__isnull=False, amount__lt=0, state=PaymentState.PAID),
                name="payment_amount_sign",
                violation_error_message=_(
                    "Payments are positive; a reversal is a paid negative entry."
                ),
            ),
        ]
        indexes = [models.Index(fields=["state", "period"], name="payment_state_period")]

    def __str__(self) -> str:
        # As the pages show amounts: grouped the local way, with the currency's sign.
        return f"{self.grant} {self.period:%Y-%m}: {money(self.amount, self.currency)}"

    def save(self, *args, **kwargs) -> None:
        settled = (PaymentState.PAID, PaymentState.REVERSED)
        if self.pk and Payment.objects.filter(pk=self.pk, state__in=settled).exists():
            raise ValidationError(
                _("A paid payment is never edited; record a reversal instead."), code="paid"
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.state != PaymentState.PLANNED:
            raise ValidationError(_("Only a planned payment can be removed."), code="not_planned")
        return super().delete(*args, **kwargs)


class Recalculation(models.Model):
    """What one recomputation of a grant's planned payments changed, and why."""

    grant = models.ForeignKey(
        BenefitGrant,
        verbose_name=_("benefit"),
        on_delete=models.PROTECT,
        related_name="recalculations",
    )
    cause = models.CharField(_("why"), max_length=300)
    changes = models.JSONField(
        _("changes"),
        default=list,
        help_text=_("One entry per payment: month, person, amount and index before and after"),
    )
    recalculated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recalculated_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-recalculated_at", "-id"]
        verbose_name = _("recalculation")
        verbose_name_plural = _("recalculations")

    def __str__(self) -> str:
        return f"{self.grant}: {self.cause}"
