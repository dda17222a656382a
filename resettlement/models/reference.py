"""Reference data: programs, countries, the region hierarchy and yearly regional quotas."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..enums import RegionLevel
from ..text import search_key
from .constraints import formula_safe


def name_search_key(obj: object) -> str:
    """The search key of a reference row (a model instance or a dict): code and every name."""
    fields = ("code", "name_en", "name_ru", "name_kk", "name_ky")
    if isinstance(obj, dict):
        return search_key(*(obj.get(f, "") for f in fields))
    return search_key(*(getattr(obj, f, "") for f in fields))


class TranslatedNameMixin(models.Model):
    """Names in the four interface languages; ``name`` picks the active one, else English."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=200, blank=True)
    name_ky = models.CharField(_("name (Kyrgyz)"), max_length=200, blank=True)
    search_key = models.CharField(max_length=900, editable=False, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.search_key = name_search_key(self)
        super().save(*args, **kwargs)

    def _name(self) -> str:
        return getattr(self, localized_name_field(), "") or self.name_en

    _name.short_description = _("name")  # the admin's column header for ``name``
    name = property(_name)


def localized_name_field() -> str:
    """``name_ru``, ``name_kk``... for the active language; ``name_en`` for any other."""
    language = (translation.get_language() or "en").split("-")[0]
    return f"name_{language}" if language in ("en", "ru", "kk", "ky") else "name_en"


class Program(TranslatedNameMixin):
    """A state return program: Kazakhstan's kandas (ex-Oralman) or Kyrgyzstan's kayrylman."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    country = models.CharField(_("host country"), max_length=2, help_text=_("ISO 3166 code"))
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code"))
    currency_symbol = models.CharField(_("currency symbol"), max_length=8)
    ethnic_group = models.CharField(_("ethnic group served"), max_length=100)
    reference_prefix = models.CharField(
        _("case reference prefix"), max_length=4, unique=True, help_text=_('e.g. "KZ"')
    )
    status_validity_months = models.PositiveSmallIntegerField(_("status valid for (months)"))
    max_extensions = models.PositiveSmallIntegerField(_("extensions allowed"), default=0)
    extension_max_months = models.PositiveSmallIntegerField(
        _("longest extension (months)"), default=0
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        constraints = [formula_safe("code", "program_code_plain")]


class Country(TranslatedNameMixin):
    """A country of origin, transit or citizenship (ISO 3166-1 alpha-2; XX = stateless/unknown)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [formula_safe("code", "country_code_plain")]


class Region(TranslatedNameMixin):
    """A place in the host countries: country, oblast or city, district."""

    code = models.CharField(_("official code"), max_length=20, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    is_designated = models.BooleanField(
        _("designated for resettlement"),
        default=False,
        help_text=_("Labour-short regions that receive returnees under the regional quota."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            formula_safe("code", "region_code_plain"),
            models.CheckConstraint(
                condition=Q(level=RegionLevel.COUNTRY, parent__isnull=True)
                | (~Q(level=RegionLevel.COUNTRY) & Q(parent__isnull=False)),
                name="region_parent_matches_level",
                violation_error_message=_("A country has no parent; every other region has one."),
            ),
        ]


class RegionQuota(models.Model):
    """Places for returnees in one region in one year, set by the ministry and revised in-year.

    ``places`` is always the current figure; every change is a ``QuotaRevision``.
    """

    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.PROTECT)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="quotas"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    places = models.PositiveIntegerField(_("places"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "region__code"]
        verbose_name = _("regional quota")
        verbose_name_plural = _("regional quotas")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "region", "year"],
                name="one_quota_per_program_region_year",
                violation_error_message=_("This region already has a quota for that year."),
            ),
            models.CheckConstraint(condition=Q(places__gte=0), name="quota_places_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}: {self.places}"


class QuotaRevision(models.Model):
    """One setting or revision of a regional quota: from how many places to how many, and why."""

    quota = models.ForeignKey(
        RegionQuota, verbose_name=_("quota"), on_delete=models.PROTECT, related_name="revisions"
    )
    places_before = models.PositiveIntegerField(_("places before"), null=True, blank=True)
    places_after = models.PositiveIntegerField(_("places after"))
    effective_on = models.DateField(_("effective from"))
    reason = models.CharField(_("reason / legal act"), max_length=300)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["quota", "effective_on", "id"]
        verbose_name = _("quota revision")
        verbose_name_plural = _("quota revisions")

    def __str__(self) -> str:
        return f"{self.quota}: {self.places_before} → {self.places_after} ({self.effective_on})"
