"""Per-household counts of members, kept beside the household so reports need not read people.

The report pages aggregate a million people; joining them to their households for every page
costs seconds. :class:`HouseholdSummary` holds, per household, what the reports count of its
members — how many there are, how many still take a place, the head's names (for the household
list), and the members by age band on arrival × sex and by education × sex — so a report sums
270,000 household rows instead. The counts are derived data: ``services.summaries`` recomputes a
household's row after every write that can change it (a member saved, moved or deleted, the
household's arrival date or program changed, age band limits changed, imports, anonymisation),
with the same SQL the reports used to run over people. A household without members has no row.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..enums import Education, Sex
from .benefits import PaymentState
from .cases import Household

AGE_BAND_CODES = ("minor", "working", "pension", "unknown")
SEXES = tuple(sex.value for sex in Sex)


def age_field(band: str, sex: str) -> str:
    return f"{band}_{sex.lower()}"


def education_field(education: str, sex: str) -> str:
    return f"edu_{education}_{sex.lower()}"


#: The counter columns, in a fixed order.
COUNTERS: tuple[str, ...] = (
    "people",
    "people_present",
    *(age_field(band, sex) for band in AGE_BAND_CODES for sex in SEXES),
    *(education_field(education.value, sex) for education in Education for sex in SEXES),
)
HEAD_NAMES = ("head_surname", "head_given_name", "head_surname_latin", "head_given_name_latin")


class HouseholdSummary(models.Model):
    household = models.OneToOneField(
        Household, on_delete=models.CASCADE, primary_key=True, related_name="summary"
    )
    head_surname = models.CharField(max_length=100, blank=True)
    head_given_name = models.CharField(max_length=100, blank=True)
    head_surname_latin = models.CharField(max_length=100, blank=True)
    head_given_name_latin = models.CharField(max_length=100, blank=True)
    locals().update({name: models.PositiveIntegerField(default=0) for name in COUNTERS})

    class Meta:
        verbose_name = _("household summary")
        verbose_name_plural = _("household summaries")

    def __str__(self) -> str:
        return f"{self.household_id}: {self.people}"


#: Due and not yet paid: planned, or approved and awaiting payment.
PLANNED_STATES = (PaymentState.PLANNED, PaymentState.APPROVED)
#: Money that went out: paid entries (reversal entries are paid negative ones) and paid entries
#: that were reversed later — so a reversal and its original add up to nothing.
PAID_STATES = (PaymentState.PAID, PaymentState.REVERSED)
#: A recipient has a payment planned, approved or paid, and not reversed.
RECEIVING = models.Q(state__in=(*PLANNED_STATES, PaymentState.PAID), reversal_of__isnull=True)


class PaymentMonth(models.Model):
    """A household's payments of one benefit rule for one month, in one currency, summed.

    What the stipends report adds up, kept so that it reads a few thousand of these rows instead
    of joining every payment to its grant and household (3.4 million payments at 1.2 million
    people). Counted as in the report (``selectors.reports.stipends``): refused and missed
    payments nowhere; *planned* = planned and approved; *paid* = paid and reversed entries, net
    (a reversal is a paid negative entry); *people* = members with a payment planned, approved
    or paid and not reversed, each once; *household* = 1 when the household has such a payment
    of a benefit paid per household. ``services.payment_summaries`` recomputes a household's
    rows after every write of its payments.
    """

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="payment_months"
    )
    period = models.DateField()
    rule = models.ForeignKey("resettlement.BenefitRule", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    planned = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    paid = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    people = models.PositiveIntegerField(default=0)
    household_paid = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("monthly payment summary")
        verbose_name_plural = _("monthly payment summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["household", "period", "rule", "currency"], name="one_payment_month"
            )
        ]
        indexes = [models.Index(fields=["period"], name="payment_month_period")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.period:%Y-%m} {self.rule_id}: {self.paid}"
