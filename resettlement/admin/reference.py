"""Admin for reference data: programs, countries, regions and their quotas."""

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from ..models import Country, Program, QuotaRevision, Region, RegionQuota
from ..selectors.access import quotas_for, regions_for
from ..selectors.quotas import with_usage
from ..selectors.search import search_by_key
from ..services.quota_ledger import lock_quota, reserved_places
from ..services.quotas import revise_quota
from .access import ScopedAdminMixin
from .common import KeySearchMixin, ReadOnlyInline
from .languages import LocalizedNameOrderingMixin

NAME_FIELDS = ("name_en", "name_ru", "name_kk", "name_ky")


@admin.register(Program)
class ProgramAdmin(KeySearchMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "country",
        "currency",
        "status_validity_months",
        "max_extensions",
    )
    fieldsets = (
        (None, {"fields": ("code", *NAME_FIELDS, "country", "ethnic_group", "legal_basis")}),
        (_("Money"), {"fields": ("currency", "currency_symbol")}),
        (
            _("Status rules"),
            {
                "fields": (
                    "reference_prefix",
                    "status_validity_months",
                    "max_extensions",
                    "extension_max_months",
                )
            },
        ),
    )


@admin.register(Country)
class CountryAdmin(LocalizedNameOrderingMixin, KeySearchMixin, admin.ModelAdmin):
    list_display = ("code", "name", *NAME_FIELDS)


class QuotaSummaryInline(ReadOnlyInline):
    model = RegionQuota
    fields = ("program", "year", "places", "used", "remaining")
    readonly_fields = fields
    verbose_name_plural = _("quotas")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        quotas = super().get_queryset(request).filter(pk__in=quotas_for(request.user).values("pk"))
        return with_usage(quotas.select_related("program"))

    @admin.display(description=_("places used"))
    def used(self, obj: RegionQuota) -> int:
        return obj.places_used

    @admin.display(description=_("places remaining"))
    def remaining(self, obj: RegionQuota) -> int:
        return obj.places_remaining


@admin.register(Region)
class RegionAdmin(KeySearchMixin, admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_designated")
    list_filter = ("level", "is_designated", ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("parent",)
    fields = ("code", "level", "parent", *NAME_FIELDS, "is_designated")
    autocomplete_fields = ("parent",)
    inlines = [QuotaSummaryInline]

    #: Autocomplete boxes whose region choices follow the user's scope.
    SCOPED_AUTOCOMPLETE = {("household", "destination_region"), ("regionquota", "region")}

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        source = (request.GET.get("model_name"), request.GET.get("field_name"))
        if source in self.SCOPED_AUTOCOMPLETE:
            queryset = queryset.filter(pk__in=regions_for(request.user).values("pk"))
        return search_by_key(queryset, search_term), False


class QuotaRevisionInline(ReadOnlyInline):
    model = QuotaRevision
    fields = ("effective_on", "places_before", "places_after", "reason", "created_by", "created_at")
    readonly_fields = fields
    show_change_link = False
    ordering = ("-effective_on", "-id")


class RegionQuotaForm(forms.ModelForm):
    """Any change of places is a revision: it needs a date and a reason."""

    effective_on = forms.DateField(
        label=_("effective from"), initial=timezone.localdate, widget=admin.widgets.AdminDateWidget
    )
    revision_reason = forms.CharField(
        label=_("reason / legal act"),
        max_length=300,
        required=False,
        help_text=_("Required when the number of places is set or changed."),
    )
    below_reserved = forms.BooleanField(
        label=_("cut below the places already reserved"),
        required=False,
        help_text=_(
            "Tick to record a cut below the places families already hold: they keep their "
            "places and the quota shows as over."
        ),
    )

    class Meta:
        model = RegionQuota
        fields = ("program", "region", "year", "places")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("effective_on", "revision_reason", "below_reserved"):
            # As the admin shows the model's own fields ("Places"); the catalogs keep the
            # lower-case wording.
            self.fields[name].label = capfirst(self.fields[name].label)

    def clean(self) -> dict:
        cleaned = super().clean()
        if "places" in self.changed_data and not cleaned.get("revision_reason", "").strip():
            self.add_error("revision_reason", _("Give the reason or legal act for the change."))
        places = cleaned.get("places")
        if self.instance.pk and "places" in self.changed_data and places is not None:
            # A typo (100 for 1,000) must not silently put a quota under water. The quota's row
            # stays locked until the revision is saved (the admin saves in this transaction), so
            # no family can be placed in between (placing locks the same row).
            lock_quota(self.instance)
            reserved = reserved_places(self.instance)
            if places < reserved and not cleaned.get("below_reserved"):
                self.add_error(
                    "places",
                    _(
                        "Families already hold %(reserved)d place(s) in this quota; %(places)d "
                        "would leave it %(over)d over. If the cut is decided, tick “cut below "
                        "the places already reserved”."
                    )
                    % {"reserved": reserved, "places": places, "over": reserved - places},
                )
        return cleaned


@admin.register(RegionQuota)
class RegionQuotaAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    form = RegionQuotaForm
    list_display = ("region", "program", "year", "places", "used", "remaining")
    list_filter = (
        "year",
        ("program", admin.RelatedOnlyFieldListFilter),
        ("region", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("region", "program")
    autocomplete_fields = ("region",)
    inlines = [QuotaRevisionInline]
    readonly_fields = ("used", "remaining")

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(pk__in=quotas_for(request.user).values("pk"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return with_usage(super().get_queryset(request))

    def get_fields(self, request: HttpRequest, obj: RegionQuota | None = None) -> list[str]:
        fields = ["program", "region", "year", "places", "effective_on", "revision_reason"]
        return [*fields, "below_reserved", "used", "remaining"] if obj else fields

    def get_readonly_fields(self, request: HttpRequest, obj: RegionQuota | None = None) -> tuple:
        # Program, region and year identify a quota; a wrong one is a new quota, not an edit.
        return ("program", "region", "year", "used", "remaining") if obj else ()

    @admin.display(description=_("places used"))
    def used(self, obj: RegionQuota) -> int:
        return obj.places_used

    @admin.display(description=_("places remaining"))
    def remaining(self, obj: RegionQuota) -> int:
        return obj.places_remaining

    def save_model(
        self, request: HttpRequest, obj: RegionQuota, form: forms.Form, change: bool
    ) -> None:
        if "places" in form.changed_data or not change:
            revise_quota(
                quota=obj,
                places=form.cleaned_data["places"],
                effective_on=form.cleaned_data["effective_on"],
                reason=form.cleaned_data["revision_reason"] or str(_("Quota set")),
                by=request.user,
            )
        else:
            obj.save()

    def has_delete_permission(self, request: HttpRequest, obj: RegionQuota | None = None) -> bool:
        return False
