"""The log of retention runs: each anonymisation of closed cases, with what it changed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionRun(models.Model):
    """Append-only: one row per run of ``anonymise_closed_cases`` (also runs that changed nothing)."""

    at = models.DateTimeField(_("at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    older_than_days = models.PositiveIntegerField(_("closed more than (days)"))
    closed_before = models.DateField(_("closed before"))
    households = models.PositiveIntegerField(_("households anonymised"))
    persons = models.PositiveIntegerField(_("people anonymised"))
    history_rows = models.PositiveIntegerField(_("history rows anonymised"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}: {self.households} / {self.persons}"
