"""Staff users' settings: preferred language and their scope (programs and regions)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffProfile(models.Model):
    """One per staff user; created on first use (see ``profile_for``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_profile",
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    programs = models.ManyToManyField(
        "resettlement.Program",
        verbose_name=_("programs"),
        blank=True,
        related_name="staff_profiles",
        help_text=_("The user sees the cases of these programs only; none means no cases at all."),
    )
    regions = models.ManyToManyField(
        "resettlement.Region",
        verbose_name=_("regions"),
        blank=True,
        related_name="staff_profiles",
        help_text=_(
            "Optional: only cases placed in these regions (and their districts). "
            "Empty means every region of the programs."
        ),
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)


def profile_for(user: models.Model) -> StaffProfile:
    profile, _created = StaffProfile.objects.get_or_create(user=user)
    return profile
