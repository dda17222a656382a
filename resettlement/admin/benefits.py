"""Admin for benefits: index values, rules, grants, the payment ledger, payment runs, quota places.

Every button calls one service (``services.benefits``, ``services.payments``,
``services.quota_ledger``); a refusal from the service is shown on the form and nothing changes.

Scope (``selectors/access.py``): grants, payments, exclusions and placements follow their
household's program and region; payment runs their program and region; rules their program;
index values the countries of the user's programs. Out of scope answers 404 everywhere — lists,
change and history pages, the run pages, the household's benefit pages — and list filters offer
only in-scope choices (``ReferenceListFilter``, never ``DISTINCT`` over the ledger).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from ..benefits import format_money
from ..models import (
    BatchExclusion,
    BatchState,
    BenefitGrant,
    BenefitRule,
    Household,
    IndexValue,
    Payment,
    PaymentBatch,
    PaymentState,
    PlacementStatus,
    Program,
    QuotaPlacement,
    Recalculation,
)
from ..selectors.access import (
    batches_for,
    countries_for,
    households_for,
    index_values_for,
    quotas_for,
    rules_for,
)
from ..selectors.benefits import why_not_paid
from ..services.benefits import (
    change_tier,
    grant_benefit,
    plain,
    recalculate_grant,
    set_index_value,
)
from ..services.payments import (
    approve_batch,
    exclude_from_batch,
    pay_batch,
    prepare_batch,
    refuse_payment,
    reverse_payment,
)
from ..services.quota_ledger import members_arriving, place_in_quota, quota_for, release_places
from .access import ScopedAdminMixin, ScopedInlineMixin
from .benefit_forms import (
    DecisionForm,
    ExcludeForm,
    GrantForm,
    IndexValueForm,
    PayRunForm,
    PlaceByReferenceForm,
    PlaceForm,
    PrepareRunForm,
    ReasonForm,
    ReverseForm,
    TierForm,
)
from .common import ReadOnlyInline
from .reports import ExportActionsMixin, export_payments_csv
from .scale import ReferenceListFilter

FORM_PAGE = "admin/resettlement/benefits/form_page.html"


def currency_symbols() -> dict[str, str]:
    """ISO code → symbol (KZT → ₸, KGS → сом), from the programs."""
    return dict(Program.objects.values_list("currency", "currency_symbol"))


def money_display(amount: Decimal | None, currency: str) -> str:
    return format_money(amount, currency_symbols().get(currency, currency))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger rows are written by services only; the admin shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ServicePagesMixin:
    """Form pages whose submit calls a service; refusals become form errors."""

    def form_page(
        self,
        request: HttpRequest,
        *,
        title: str,
        form: forms.Form,
        back: str,
        banner: str = "",
        submit: str = "",
        context: dict | None = None,
    ) -> TemplateResponse:
        page = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "back": back,
            "banner": banner,
            "submit": submit or _("Save"),
            **(context or {}),
        }
        return TemplateResponse(request, FORM_PAGE, page)

    def run_service(self, request: HttpRequest, form: forms.Form, call, success: str) -> bool:
        """Call ``call()``; on a refusal put its message on ``form`` and return False."""
        try:
            call()
        except ValidationError as error:
            form.add_error(None, error)
            return False
        self.message_user(request, success, messages.SUCCESS)
        return True

    def require(self, request: HttpRequest, permission: str) -> None:
        if not request.user.has_perm(f"resettlement.{permission}"):
            raise PermissionDenied

    def household_or_404(self, request: HttpRequest, pk: int) -> Household:
        return get_object_or_404(households_for(request.user).select_related("program"), pk=pk)


def household_url(household: Household) -> str:
    return reverse("admin:resettlement_household_change", args=[household.pk])


# --- index values and rules -------------------------------------------------------------


@admin.register(IndexValue)
class IndexValueAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    form = IndexValueForm
    list_display = ("code", "country", "year", "value_display", "legal_basis")
    list_filter = ("country", "code")
    fields = ("country", "code", "year", "value", "legal_basis", "change_reason")

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(pk__in=index_values_for(request.user).values("pk"))

    def get_form(self, request: HttpRequest, obj: IndexValue | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.allowed_countries = countries_for(request.user)
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: IndexValue | None = None) -> tuple:
        return ("country", "code", "year") if obj else ()

    @admin.display(description=_("value"), ordering="value")
    def value_display(self, obj: IndexValue) -> str:
        return format_money(obj.value, "₸" if obj.country == "KZ" else "")

    def save_model(self, request: HttpRequest, obj: IndexValue, form, change: bool) -> None:
        if change and "value" in form.changed_data:
            recalculations = set_index_value(
                country=obj.country,
                code=obj.code,
                year=obj.year,
                value=form.cleaned_data["value"],
                by=request.user,
                reason=form.cleaned_data["change_reason"],
            )
            IndexValue.objects.filter(pk=obj.pk).update(legal_basis=obj.legal_basis)
            self.message_user(
                request,
                _("%(count)d benefit(s) had planned payments recomputed.")
                % {"count": len(recalculations)},
                messages.INFO,
            )
        else:
            obj.save()

    def has_delete_permission(self, request: HttpRequest, obj: IndexValue | None = None) -> bool:
        return False


@admin.register(BenefitRule)
class BenefitRuleAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "program",
        "frequency",
        "unit",
        "amount_display",
        "months",
        "quota_participants_only",
        "from_status",
        "effective_from",
        "effective_to",
    )
    list_filter = (
        ("program", ReferenceListFilter),
        "frequency",
        "unit",
        "quota_participants_only",
    )
    list_select_related = ("program",)

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(pk__in=rules_for(request.user).values("pk"))

    fieldsets = (
        (None, {"fields": ("program", "code", "name", "description", "legal_basis")}),
        (
            _("Amount"),
            {
                "fields": (
                    ("frequency", "months"),
                    "unit",
                    ("amount_kind", "index_code"),
                    ("amount", "amount_max"),
                )
            },
        ),
        (_("Conditions"), {"fields": ("quota_participants_only", "from_status")}),
        (_("In force"), {"fields": (("effective_from", "effective_to"),)}),
    )

    @admin.display(description=_("amount"))
    def amount_display(self, obj: BenefitRule) -> str:
        if obj.amount_kind == "index":
            low = plain(obj.amount)
            span = f"{low}–{plain(obj.amount_max)}" if obj.is_range else low
            return f"{span} {obj.index_code}"
        if obj.is_range:
            return f"{format_money(obj.amount, '')}–{format_money(obj.amount_max, obj.program.currency_symbol)}"
        return format_money(obj.amount, obj.program.currency_symbol)

    def has_delete_permission(self, request: HttpRequest, obj: BenefitRule | None = None) -> bool:
        return False


# --- grants -----------------------------------------------------------------------------


class GrantPaymentInline(ScopedInlineMixin, ReadOnlyInline):
    model = Payment
    fk_name = "grant"
    scope_path = "grant__household"
    fields = ("period", "person", "amount_display", "index_value", "index_year", "state", "batch")
    readonly_fields = fields
    ordering = ("period", "person_id", "id")

    @admin.display(description=_("amount"))
    def amount_display(self, obj: Payment) -> str:
        return money_display(obj.amount, obj.currency)


class RecalculationInline(ScopedInlineMixin, ReadOnlyInline):
    model = Recalculation
    scope_path = "grant__household"
    fields = ("recalculated_at", "recalculated_by", "cause", "changes")
    readonly_fields = fields
    show_change_link = False


@admin.register(BenefitGrant)
class BenefitGrantAdmin(ScopedAdminMixin, ServicePagesMixin, SimpleHistoryAdmin):
    list_display = ("household", "rule", "tier", "starts_on", "granted_by", "paid", "planned")
    list_filter = (("rule__program", ReferenceListFilter), ("rule", ReferenceListFilter))
    list_select_related = ("household", "rule__program", "granted_by")
    search_fields = ("household__reference",)
    readonly_fields = (
        "household",
        "rule",
        "tier",
        "tier_reason",
        "starts_on",
        "granted_by",
        "granted_at",
    )
    fields = readonly_fields
    inlines = [GrantPaymentInline, RecalculationInline]
    actions = ["recalculate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BenefitGrant]:
        zero = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
        return (
            super()
            .get_queryset(request)
            .annotate(
                paid_total=Coalesce(
                    Sum("payments__amount", filter=_state(PaymentState.PAID)), zero
                ),
                planned_total=Coalesce(
                    Sum(
                        "payments__amount",
                        filter=_state(PaymentState.PLANNED) | _state(PaymentState.APPROVED),
                    ),
                    zero,
                ),
            )
        )

    @admin.display(description=pgettext_lazy("amount", "paid"))
    def paid(self, obj: BenefitGrant) -> str:
        return format_money(obj.paid_total, obj.rule.program.currency_symbol)

    @admin.display(description=_("still to pay"))
    def planned(self, obj: BenefitGrant) -> str:
        return format_money(obj.planned_total, obj.rule.program.currency_symbol)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Recalculate planned payments"))
    def recalculate(self, request: HttpRequest, queryset: QuerySet[BenefitGrant]) -> None:
        self.require(request, "add_benefitgrant")
        done = 0
        for grant in queryset:
            if recalculate_grant(
                grant=grant, by=request.user, cause=str(_("Recalculated by hand"))
            ):
                done += 1
        self.message_user(
            request, _("%(count)d benefit(s) changed.") % {"count": done}, messages.INFO
        )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "household/<int:household_id>/",
                view(self.household_view),
                name="resettlement_household_benefits",
            ),
            path(
                "household/<int:household_id>/grant/",
                view(self.grant_view),
                name="resettlement_household_grant",
            ),
            path("<int:grant_id>/tier/", view(self.tier_view), name="resettlement_grant_tier"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        # A benefit is granted from the household's page, where its conditions are checked.
        if not self.has_add_permission(request):
            raise PermissionDenied
        self.message_user(
            request, _("Open the household and use “Grant a benefit”."), messages.INFO
        )
        return HttpResponseRedirect(reverse("admin:resettlement_household_changelist"))

    def household_view(self, request: HttpRequest, household_id: int) -> HttpResponse:
        household = self.household_or_404(request, household_id)
        if not (
            request.user.has_perm("resettlement.view_payment")
            or request.user.has_perm("resettlement.view_household")
        ):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": Household._meta,
            "title": _("Benefits and payments of %(ref)s") % {"ref": household.reference},
            "household": household,
            "statuses": why_not_paid(household),
            "placements": household.quota_placements.select_related("quota__region", "placed_by"),
        }
        return TemplateResponse(request, "admin/resettlement/benefits/household.html", context)

    def grant_view(self, request: HttpRequest, household_id: int) -> HttpResponse:
        household = self.household_or_404(request, household_id)
        self.require(request, "add_benefitgrant")
        form = GrantForm(request.POST or None, household=household)
        back = reverse("admin:resettlement_household_benefits", args=[household.pk])
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if self.run_service(
                request,
                form,
                lambda: grant_benefit(
                    household=household,
                    rule=data["rule"],
                    by=request.user,
                    starts_on=data["starts_on"],
                    tier=data["tier"],
                    tier_reason=data["tier_reason"],
                ),
                _("“%(rule)s” granted; its payments are planned.") % {"rule": data["rule"]},
            ):
                return HttpResponseRedirect(back)
        return self.form_page(
            request,
            title=_("Grant a benefit to %(ref)s") % {"ref": household.reference},
            form=form,
            back=back,
            banner=f"{household.reference} · {household.program} · {household.get_status_display()}",
        )

    def tier_view(self, request: HttpRequest, grant_id: int) -> HttpResponse:
        grant = get_object_or_404(self.get_queryset(request).select_related("rule"), pk=grant_id)
        self.require(request, "add_benefitgrant")
        form = TierForm(request.POST or None, initial={"tier": grant.tier})
        back = reverse("admin:resettlement_household_benefits", args=[grant.household_id])
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                form,
                lambda: change_tier(
                    grant=grant,
                    tier=form.cleaned_data["tier"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                ),
                _("Tier changed; planned payments recomputed."),
            )
        ):
            return HttpResponseRedirect(back)
        return self.form_page(
            request,
            title=_("Change the tier of %(grant)s") % {"grant": grant},
            form=form,
            back=back,
        )


def _state(state: str) -> Q:
    return Q(payments__state=state, payments__reversal_of__isnull=True)


# --- the ledger -------------------------------------------------------------------------


@admin.register(Payment)
class PaymentAdmin(ScopedAdminMixin, ExportActionsMixin, ServicePagesMixin, ReadOnlyAdmin):
    scope_path = "grant__household"
    change_form_template = "admin/resettlement/benefits/payment_change_form.html"
    actions = [export_payments_csv]
    list_display = (
        "period",
        "household",
        "person",
        "rule",
        "amount_display",
        "index_display",
        "state",
        "batch",
        "paid_on",
        "payment_reference",
    )
    list_filter = (
        "state",
        ("grant__rule__program", ReferenceListFilter),
        ("grant__rule", ReferenceListFilter),
        ("batch", ReferenceListFilter),
        "period",
    )
    list_select_related = ("grant__household", "grant__rule__program", "person", "batch__program")
    search_fields = ("grant__household__reference", "payment_reference")
    date_hierarchy = "period"
    readonly_fields = (
        "grant",
        "person",
        "period",
        "amount_display",
        "currency",
        "index_value",
        "index_year",
        "state",
        "decision_reason",
        "batch",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
        "decided_by",
        "decided_at",
        "paid_by",
        "paid_at",
        "paid_on",
        "payment_reference",
        "reversal_of",
    )
    fields = readonly_fields

    @admin.display(description=_("household"), ordering="grant__household__reference")
    def household(self, obj: Payment) -> str:
        return obj.grant.household.reference

    @admin.display(description=_("benefit"))
    def rule(self, obj: Payment) -> str:
        return obj.grant.rule.name

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Payment) -> str:
        return format_money(obj.amount, obj.grant.rule.program.currency_symbol)

    @admin.display(description=_("index used"))
    def index_display(self, obj: Payment) -> str:
        if obj.index_value is None:
            return "—"
        return f"{obj.grant.rule.index_code} {obj.index_year}: {format_money(obj.index_value, '')}"

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:payment_id>/refuse/",
                view(self.refuse_view),
                name="resettlement_payment_refuse",
            ),
            path(
                "<int:payment_id>/reverse/",
                view(self.reverse_view),
                name="resettlement_payment_reverse",
            ),
            *super().get_urls(),
        ]

    def _payment(self, request: HttpRequest, payment_id: int) -> Payment:
        return get_object_or_404(self.get_queryset(request), pk=payment_id)

    def _back(self, payment: Payment) -> str:
        return reverse("admin:resettlement_payment_change", args=[payment.pk])

    def refuse_view(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        payment = self._payment(request, payment_id)
        self.require(request, "approve_payments")
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            missed = form.cleaned_data["decision"] == "missed"
            if self.run_service(
                request,
                form,
                lambda: refuse_payment(
                    payment=payment,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    missed=missed,
                ),
                _("The payment is marked missed.") if missed else _("The payment is refused."),
            ):
                return HttpResponseRedirect(self._back(payment))
        return self.form_page(
            request,
            title=_("Refuse or mark missed: %(payment)s") % {"payment": payment},
            form=form,
            back=self._back(payment),
        )

    def reverse_view(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        payment = self._payment(request, payment_id)
        self.require(request, "record_payments")
        form = ReverseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if self.run_service(
                request,
                form,
                lambda: reverse_payment(
                    payment=payment,
                    by=request.user,
                    reason=data["reason"],
                    paid_on=data["paid_on"],
                    reference=data["reference"],
                    idempotency_key=data["idempotency_key"],
                ),
                _("The reversal is recorded."),
            ):
                return HttpResponseRedirect(self._back(payment))
        return self.form_page(
            request,
            title=_("Reverse %(payment)s") % {"payment": payment},
            form=form,
            back=self._back(payment),
            banner=_("A reversal is a new negative entry; the paid payment stays as it was."),
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        payment = self._payment(request, int(object_id))
        extra_context = {
            **(extra_context or {}),
            "can_refuse": payment.state in (PaymentState.PLANNED, PaymentState.APPROVED)
            and request.user.has_perm("resettlement.approve_payments"),
            "can_reverse": payment.state == PaymentState.PAID
            and payment.reversal_of_id is None
            and request.user.has_perm("resettlement.record_payments"),
        }
        return super().change_view(request, object_id, form_url, extra_context)


# --- payment runs -----------------------------------------------------------------------


class BatchPaymentInline(ScopedInlineMixin, ReadOnlyInline):
    model = Payment
    fk_name = "batch"
    scope_path = "grant__household"
    fields = ("household", "person", "period", "rule", "amount_display", "state")
    readonly_fields = fields
    ordering = ("grant__household__reference", "period", "person_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("grant__household", "grant__rule__program", "person")
        )

    @admin.display(description=_("household"))
    def household(self, obj: Payment) -> str:
        return obj.grant.household.reference

    @admin.display(description=_("benefit"))
    def rule(self, obj: Payment) -> str:
        return obj.grant.rule.name

    @admin.display(description=_("amount"))
    def amount_display(self, obj: Payment) -> str:
        return format_money(obj.amount, obj.grant.rule.program.currency_symbol)


class ExclusionInline(ScopedInlineMixin, ReadOnlyInline):
    model = BatchExclusion
    fields = ("household", "reason", "excluded_by", "excluded_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ScopedAdminMixin, ServicePagesMixin, admin.ModelAdmin):
    change_form_template = "admin/resettlement/benefits/batch_change_form.html"
    list_display = (
        "__str__",
        "state",
        "lines",
        "total",
        "prepared_by",
        "approved_by",
        "paid_by",
        "paid_on",
    )
    list_filter = (
        "state",
        ("program", ReferenceListFilter),
        ("region", ReferenceListFilter),
        "month",
    )
    list_select_related = ("program", "region", "prepared_by", "approved_by", "paid_by")

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(pk__in=batches_for(request.user).values("pk"))

    readonly_fields = (
        "program",
        "month",
        "region",
        "state",
        "lines",
        "total",
        "prepared_by",
        "prepared_at",
        "approved_by",
        "approved_at",
        "paid_by",
        "paid_at",
        "paid_on",
        "payment_reference",
    )
    fields = readonly_fields
    inlines = [BatchPaymentInline, ExclusionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaymentBatch]:
        zero = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
        return (
            super()
            .get_queryset(request)
            .annotate(
                line_count=Count("payments"),
                amount_total=Coalesce(Sum("payments__amount"), zero),
            )
        )

    @admin.display(description=_("payments"))
    def lines(self, obj: PaymentBatch) -> int:
        return obj.line_count

    @admin.display(description=_("total"))
    def total(self, obj: PaymentBatch) -> str:
        return format_money(obj.amount_total, obj.program.currency_symbol)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("prepare/", view(self.prepare_view), name="resettlement_paymentbatch_prepare"),
            path(
                "<int:batch_id>/approve/",
                view(self.approve_view),
                name="resettlement_paymentbatch_approve",
            ),
            path("<int:batch_id>/pay/", view(self.pay_view), name="resettlement_paymentbatch_pay"),
            path(
                "<int:batch_id>/exclude/",
                view(self.exclude_view),
                name="resettlement_paymentbatch_exclude",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        self.require(request, "add_paymentbatch")
        return HttpResponseRedirect(reverse("admin:resettlement_paymentbatch_prepare"))

    def _batch(self, request: HttpRequest, batch_id: int) -> PaymentBatch:
        return get_object_or_404(self.get_queryset(request).select_related("program"), pk=batch_id)

    def _back(self, batch: PaymentBatch) -> str:
        return reverse("admin:resettlement_paymentbatch_change", args=[batch.pk])

    def prepare_view(self, request: HttpRequest) -> HttpResponse:
        self.require(request, "add_paymentbatch")
        form = PrepareRunForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                batch = prepare_batch(
                    program=data["program"],
                    month=data["month"],
                    region=data["region"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    _(
                        "%(batch)s holds %(count)d payment(s); run it again to add what fell due since."
                    )
                    % {"batch": batch, "count": batch.payments.count()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._back(batch))
        return self.form_page(
            request,
            title=_("Prepare a payment run"),
            form=form,
            back=reverse("admin:resettlement_paymentbatch_changelist"),
            banner=_(
                "Collects every planned payment due up to the month that is in no run yet. "
                "Another officer approves the run."
            ),
            submit=_("Prepare"),
        )

    def approve_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        batch = self._batch(request, batch_id)
        self.require(request, "approve_payments")
        form = forms.Form(request.POST if request.method == "POST" else None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                form,
                lambda: approve_batch(batch=batch, by=request.user),
                _("%(batch)s is approved.") % {"batch": batch},
            )
        ):
            return HttpResponseRedirect(self._back(batch))
        return self.form_page(
            request,
            title=_("Approve %(batch)s") % {"batch": batch},
            form=form,
            back=self._back(batch),
            banner=_("%(count)d payment(s), %(total)s, prepared by %(user)s")
            % {"count": batch.line_count, "total": self.total(batch), "user": batch.prepared_by},
            submit=_("Approve"),
        )

    def pay_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        batch = self._batch(request, batch_id)
        self.require(request, "record_payments")
        form = PayRunForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                form,
                lambda: pay_batch(
                    batch=batch,
                    by=request.user,
                    paid_on=form.cleaned_data["paid_on"],
                    reference=form.cleaned_data["reference"],
                ),
                _("%(batch)s is recorded as paid.") % {"batch": batch},
            )
        ):
            return HttpResponseRedirect(self._back(batch))
        return self.form_page(
            request,
            title=_("Record %(batch)s as paid") % {"batch": batch},
            form=form,
            back=self._back(batch),
            banner=_("%(count)d payment(s), %(total)s")
            % {"count": batch.line_count, "total": self.total(batch)},
        )

    def exclude_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        batch = self._batch(request, batch_id)
        self.require(request, "change_paymentbatch")
        households = households_for(request.user).filter(grants__payments__batch=batch).distinct()
        form = ExcludeForm(request.POST or None, households=households)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                form,
                lambda: exclude_from_batch(
                    batch=batch,
                    household=form.cleaned_data["household"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                ),
                _("The household is left out of %(batch)s.") % {"batch": batch},
            )
        ):
            return HttpResponseRedirect(self._back(batch))
        return self.form_page(
            request,
            title=_("Leave a household out of %(batch)s") % {"batch": batch},
            form=form,
            back=self._back(batch),
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        batch = self._batch(request, int(object_id))
        user = request.user
        prepared = batch.state == BatchState.PREPARED
        extra_context = {
            **(extra_context or {}),
            "can_approve": prepared and user.has_perm("resettlement.approve_payments"),
            "approve_is_own": batch.prepared_by_id == user.pk,
            "can_pay": batch.state == BatchState.APPROVED
            and user.has_perm("resettlement.record_payments"),
            "can_exclude": prepared and user.has_perm("resettlement.change_paymentbatch"),
        }
        return super().change_view(request, object_id, form_url, extra_context)


# --- quota ledger -----------------------------------------------------------------------


class PlacementYearFilter(admin.SimpleListFilter):
    """Quota year, from the user's quotas (a small table), not ``DISTINCT`` over placements."""

    title = _("quota year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        years = quotas_for(request.user).order_by("-year").values_list("year", flat=True)
        return [(str(year), str(year)) for year in dict.fromkeys(years)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(quota__year=int(value))
        return queryset


@admin.register(QuotaPlacement)
class QuotaPlacementAdmin(ScopedAdminMixin, ServicePagesMixin, admin.ModelAdmin):
    list_display = (
        "household",
        "quota",
        "places",
        "status",
        "over_quota",
        "placed_by",
        "placed_at",
        "released_at",
    )
    list_filter = (
        "status",
        "over_quota",
        PlacementYearFilter,
        ("quota__region", ReferenceListFilter),
    )
    list_select_related = ("household", "quota__region", "placed_by")
    search_fields = ("household__reference",)
    readonly_fields = (
        "household",
        "quota",
        "places",
        "status",
        "over_quota",
        "override_reason",
        "placed_by",
        "placed_at",
        "released_by",
        "released_at",
        "release_reason",
    )
    fields = readonly_fields
    actions = None

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    change_form_template = "admin/resettlement/benefits/placement_change_form.html"

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """Place a household found by its reference (quota managers see no names or lists)."""
        self.require(request, "add_quotaplacement")
        form = PlaceByReferenceForm(
            request.POST or None,
            households=households_for(request.user),
            quotas=quotas_for(request.user),
        )
        back = reverse("admin:resettlement_quotaplacement_changelist")
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            household = data["household"]
            if self.run_service(
                request,
                form,
                lambda: place_in_quota(
                    household=household,
                    quota=data["quota"],
                    places=data["places"],
                    override_reason=data["override_reason"],
                    by=request.user,
                ),
                _("%(ref)s is placed in %(quota)s.")
                % {"ref": household.reference, "quota": data["quota"]},
            ):
                return HttpResponseRedirect(back)
        return self.form_page(
            request,
            title=_("Place a household in a regional quota"),
            form=form,
            back=back,
            banner=_(
                "Reserves one place per member arriving (or the places given). A full quota "
                "refuses the placement unless you may override it and give a reason."
            ),
            submit=_("Place"),
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        placement = get_object_or_404(self.get_queryset(request), pk=object_id)
        extra_context = {
            **(extra_context or {}),
            "can_release": placement.status == PlacementStatus.RESERVED
            and request.user.has_perm("resettlement.change_quotaplacement"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def back_to(self, request: HttpRequest, household: Household) -> str:
        """The household's page, or the placements for a user who does not see households."""
        if request.user.has_perm("resettlement.view_household"):
            return household_url(household)
        return reverse("admin:resettlement_quotaplacement_changelist")

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "household/<int:household_id>/place/",
                view(self.place_view),
                name="resettlement_household_place",
            ),
            path(
                "household/<int:household_id>/release/",
                view(self.release_view),
                name="resettlement_household_release",
            ),
            *super().get_urls(),
        ]

    def place_view(self, request: HttpRequest, household_id: int) -> HttpResponse:
        household = self.household_or_404(request, household_id)
        self.require(request, "add_quotaplacement")
        initial = {"quota": quota_for(household), "places": members_arriving(household)}
        back = self.back_to(request, household)
        form = PlaceForm(
            request.POST or None,
            household=household,
            quotas=quotas_for(request.user),
            initial=initial,
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if self.run_service(
                request,
                form,
                lambda: place_in_quota(
                    household=household,
                    quota=data["quota"],
                    places=data["places"],
                    override_reason=data["override_reason"],
                    by=request.user,
                ),
                _("%(ref)s holds %(places)d place(s) in %(quota)s.")
                % {"ref": household.reference, "places": data["places"], "quota": data["quota"]},
            ):
                return HttpResponseRedirect(back)
        return self.form_page(
            request,
            title=_("Place %(ref)s in a regional quota") % {"ref": household.reference},
            form=form,
            back=back,
        )

    def release_view(self, request: HttpRequest, household_id: int) -> HttpResponse:
        household = self.household_or_404(request, household_id)
        self.require(request, "change_quotaplacement")
        form = ReasonForm(request.POST or None)
        back = self.back_to(request, household)
        if (
            request.method == "POST"
            and form.is_valid()
            and self.run_service(
                request,
                form,
                lambda: release_places(
                    household=household, by=request.user, reason=form.cleaned_data["reason"]
                ),
                _("The places of %(ref)s are released.") % {"ref": household.reference},
            )
        ):
            return HttpResponseRedirect(back)
        held = household.quota_placements.filter(status=PlacementStatus.RESERVED).first()
        return self.form_page(
            request,
            title=_("Release the quota places of %(ref)s") % {"ref": household.reference},
            form=form,
            back=back,
            banner=str(held) if held else _("This household holds no places."),
        )
