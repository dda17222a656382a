"""Settings that reports read: where the age bands of the demographic report begin."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..enums import Sex
from .reference import Program

#: Used when a program has no row for a sex (documented in the README).
DEFAULT_ADULT_FROM = 18
DEFAULT_PENSION_FROM = 63


class AgeBandLimits(models.Model):
    """Ages at which a returnee counts as working age and as pension age, per program and sex.

    The retirement ages differ by country and sex and change by law, so they are data.
    """

    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.CASCADE)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    adult_from = models.PositiveSmallIntegerField(
        _("working age from"), default=DEFAULT_ADULT_FROM, help_text=_("Younger people are minors.")
    )
    pension_from = models.PositiveSmallIntegerField(
        _("pension age from"), default=DEFAULT_PENSION_FROM
    )

    class Meta:
        ordering = ["program", "sex"]
        verbose_name = _("age band limits")
        verbose_name_plural = _("age band limits")
        constraints = [
            models.UniqueConstraint(fields=["program", "sex"], name="one_age_band_per_program_sex"),
            models.CheckConstraint(
                condition=Q(pension_from__gt=models.F("adult_from")),
                name="pension_age_after_working_age",
                violation_error_message=_("The pension age must be above the working age."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.code} {self.sex}: {self.adult_from}–{self.pension_from}"
