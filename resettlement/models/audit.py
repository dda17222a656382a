"""The log of who looked at or exported personal data."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessKind(models.TextChoices):
    VIEW = "view", _("Viewed a record")
    EXPORT = "export", _("Exported data")
    IMPORT = "import", _("Imported data")


class AccessLog(models.Model):
    """Append-only: one row per view of a person's page and per export of personal data."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=AccessKind.choices)
    what = models.CharField(
        _("what"), max_length=100, help_text=_('e.g. "persons.csv" or "person"')
    )
    object_id = models.CharField(_("record"), max_length=40, blank=True)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    path = models.CharField(_("address"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.kind} {self.what}"
