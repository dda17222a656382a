"""Filters for report pages and CSV exports; every value lives in the URL so a link can be shared.

Programs, regions and countries are chosen by their codes (``?program=KZ-KANDAS&region=KZ-55``),
groups by id. The period (``date_from``/``date_to``) is not applied here: each report knows which
date it is about (arrival, status grant, ...) and applies it itself (``selectors.reports.Period``).
"""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .enums import CaseStatus, RegionLevel
from .models import Country, Group, Household, Program, Region
from .selectors.access import groups_for
from .selectors.reports import Period
from .widgets import FastSelect, FastSelectMultiple


def _groups(request: HttpRequest | None) -> QuerySet:
    if request is None:
        return Group.objects.none()
    return groups_for(request.user).select_related("program")


def in_region(region: Region, prefix: str = "destination_region") -> Q:
    """Households placed in ``region`` or any region inside it (oblast → district)."""
    return (
        Q(**{prefix: region})
        | Q(**{f"{prefix}__parent": region})
        | Q(**{f"{prefix}__parent__parent": region})
    )


class DateInput(forms.DateInput):
    input_type = "date"


class HouseholdFilter(django_filters.FilterSet):
    """Program, destination region, group, country of origin, case status and a period."""

    program = django_filters.ModelChoiceFilter(
        label=_("Program"),
        queryset=Program.objects.all(),
        to_field_name="code",
        widget=FastSelect,
    )
    region = django_filters.ModelChoiceFilter(
        label=_("Destination region"),
        queryset=Region.objects.exclude(level=RegionLevel.COUNTRY),
        to_field_name="code",
        method="filter_region",
        widget=FastSelect,
    )
    group = django_filters.ModelChoiceFilter(label=_("Group"), queryset=_groups, widget=FastSelect)
    origin = django_filters.ModelChoiceFilter(
        label=_("Country of origin"),
        field_name="origin_country",
        queryset=Country.objects.all(),
        widget=FastSelect,
    )
    status = django_filters.MultipleChoiceFilter(
        label=_("Case status"), choices=CaseStatus.choices, widget=FastSelectMultiple
    )
    date_from = django_filters.DateFilter(
        label=_("From"), method="keep", widget=DateInput(format="%Y-%m-%d")
    )
    date_to = django_filters.DateFilter(
        label=_("To"), method="keep", widget=DateInput(format="%Y-%m-%d")
    )

    class Meta:
        model = Household
        fields: tuple[str, ...] = ()

    def filter_region(self, queryset: QuerySet, name: str, value: Region) -> QuerySet:
        return queryset.filter(in_region(value))

    def keep(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        return queryset  # the period is applied by each report to its own date

    def clean_period(self) -> Period:
        data = self.form.cleaned_data
        return Period(start=data.get("date_from"), end=data.get("date_to"))

    @property
    def chosen(self) -> dict:
        """The valid chosen values, by filter name (empty ones left out)."""
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "", [])}


class ExportFilter(HouseholdFilter):
    """The report filters, plus which of a case's dates the period applies to."""

    DATE_FIELDS = (
        ("arrived_on", _("Arrival")),
        ("applied_on", _("Application")),
        ("status_granted_on", _("Status granted")),
        ("decided_on", _("Decision")),
    )
    date_field = django_filters.ChoiceFilter(
        label=_("Period applies to"),
        choices=DATE_FIELDS,
        method="keep",
        empty_label=None,
        widget=FastSelect,
    )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        field = self.form.cleaned_data.get("date_field") or "arrived_on"
        return self.clean_period().apply(queryset, field)


class PaymentExportFilter(ExportFilter):
    """The export filters for payments: the period applies to the payment's month by default.

    ``date_field=period`` (default) selects the months payments are for, ``paid_on`` the day they
    were paid; a household date (``arrived_on`` …) selects households as in the other exports.
    """

    PAYMENT_DATE_FIELDS = (
        ("period", _("Month the payment is for")),
        ("paid_on", _("Payment date")),
    )
    date_field = django_filters.ChoiceFilter(
        label=_("Period applies to"),
        choices=PAYMENT_DATE_FIELDS + ExportFilter.DATE_FIELDS,
        method="keep",
        empty_label=None,
        widget=FastSelect,
    )

    @property
    def payment_date_field(self) -> str | None:
        field = self.form.cleaned_data.get("date_field") or "period"
        return field if field in dict(self.PAYMENT_DATE_FIELDS) else None

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.payment_date_field is None:
            return super().filter_queryset(queryset)
        return HouseholdFilter.filter_queryset(self, queryset)

    def filter_payments(self, payments: QuerySet) -> QuerySet:
        """Apply the period to the payments when it is about them (a month or a payment date)."""
        field = self.payment_date_field
        if field is None:
            return payments
        period = self.clean_period()
        if field == "period" and period.start:
            period = Period(start=period.start.replace(day=1), end=period.end)
        return period.apply(payments, field)
