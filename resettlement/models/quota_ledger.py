"""The quota ledger: which households hold how many places of which regional quota.

A placement reserves as many places as the household has members arriving. Released
placements stay on record (who, when, why); a household holds at most one reserved placement.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .cases import Household
from .reference import RegionQuota


class PlacementStatus(models.TextChoices):
    RESERVED = "reserved", _("Places reserved")
    RELEASED = "released", _("Places released")


class QuotaPlacement(models.Model):
    """A household placed in a regional quota for a year, holding ``places`` places."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="quota_placements",
    )
    quota = models.ForeignKey(
        RegionQuota, verbose_name=_("quota"), on_delete=models.PROTECT, related_name="placements"
    )
    places = models.PositiveIntegerField(_("places"))
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=PlacementStatus.choices,
        default=PlacementStatus.RESERVED,
    )
    over_quota = models.BooleanField(_("over the quota"), default=False)
    override_reason = models.CharField(_("reason for the override"), max_length=300, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    placed_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.CharField(_("reason for the release"), max_length=300, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name = _("quota placement")
        verbose_name_plural = _("quota placements")
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status=PlacementStatus.RESERVED),
                name="one_reserved_placement_per_household",
                violation_error_message=_("This household already holds quota places."),
            ),
            models.CheckConstraint(condition=Q(places__gt=0), name="placement_places_positive"),
            models.CheckConstraint(
                condition=Q(over_quota=False) | ~Q(override_reason=""),
                name="over_quota_placement_has_reason",
                violation_error_message=_("An over-quota placement needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(status=PlacementStatus.RESERVED, released_at__isnull=True)
                | Q(status=PlacementStatus.RELEASED, released_at__isnull=False),
                name="released_placement_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.quota} · {self.places}"
