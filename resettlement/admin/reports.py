"""Admin for report settings, and the "Export selected to CSV" actions of the case lists."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from ..csv_format import PLAIN
from ..exports import (
    household_export_columns,
    payment_export_columns,
    person_export_columns,
    personal_data_response,
)
from ..models import AgeBandLimits, Payment
from ..selectors.access import households_for, persons_for, scope_queryset

EXPORT_PERSONAL_DATA = "resettlement.export_personal_data"


@admin.register(AgeBandLimits)
class AgeBandLimitsAdmin(admin.ModelAdmin):
    list_display = ("program", "sex", "adult_from", "pension_from")
    list_editable = ("adult_from", "pension_from")
    list_filter = ("program",)


class ExportActionsMixin:
    """Gives a model admin ``has_export_personal_data_permission`` for its export action."""

    def has_export_personal_data_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_PERSONAL_DATA)


@admin.action(description=_("Export selected to CSV"), permissions=["export_personal_data"])
def export_households_csv(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse:
    """The selected households, in the columns of /exports/households.csv."""
    households = households_for(request.user).filter(pk__in=queryset.values("pk")).order_by("pk")
    return personal_data_response(
        request=request,
        what="households.csv",
        queryset=households,
        columns=household_export_columns(),
        dialect=PLAIN,
        filters={"admin_action": "export_selected"},
    )


@admin.action(description=_("Export selected to CSV"), permissions=["export_personal_data"])
def export_persons_csv(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse:
    """The selected people, in the columns of /exports/persons.csv."""
    persons = (
        persons_for(request.user)
        .filter(pk__in=queryset.values("pk"))
        .order_by("household_id", "pk")
    )
    return personal_data_response(
        request=request,
        what="persons.csv",
        queryset=persons,
        columns=person_export_columns(),
        dialect=PLAIN,
        filters={"admin_action": "export_selected"},
    )


@admin.action(description=_("Export selected to CSV"), permissions=["export_personal_data"])
def export_payments_csv(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse:
    """The selected payments, in the columns of /exports/payments.csv."""
    payments = (
        scope_queryset(request.user, Payment.objects.all(), household_path="grant__household")
        .filter(pk__in=queryset.values("pk"))
        .order_by("pk")
    )
    return personal_data_response(
        request=request,
        what="payments.csv",
        queryset=payments,
        columns=payment_export_columns(),
        dialect=PLAIN,
        filters={"admin_action": "export_selected"},
    )
