"""Admin for case work: households with their members, people, groups, status history."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from ..enums import CaseStatus
from ..models import Group, Household, Person, PlacementStatus, RegionQuota, StatusChange
from ..models.summaries import HEAD_NAMES
from ..selectors.access import groups_for
from ..selectors.quotas import GONE
from ..selectors.search import search_households_counted, search_persons
from ..services.cases import (
    TransitionError,
    allowed_transitions,
    case_transition,
    extend_status,
    members_changed,
    open_case,
)
from .access import (
    PersonalDataViewLogMixin,
    ScopedAdminMixin,
    ScopedInlineMixin,
    VersionedAdminMixin,
)
from .common import KeySearchMixin, ReadOnlyInline
from .forms import ExtensionForm, HouseholdMembersFormSet, PersonForm, TransitionForm
from .imports import warn_about_duplicates
from .languages import LocalizedChoicesMixin
from .reports import ExportActionsMixin, export_households_csv, export_persons_csv
from .scale import BigChangelistMixin, QuotaYearFilter, ReferenceListFilter

PERSON_ROWS = (
    ("relation", "sex", "birth_date", "birth_date_precision", "member_status"),
    ("surname", "given_name", "patronymic"),
    ("surname_latin", "given_name_latin", "patronymic_latin"),
    ("citizenship", "document_type", "document_number", "iin"),
    ("education", "occupation", "languages", "phone"),
)


def quota_name(quota: RegionQuota) -> str:
    """``Pavlodar Region 2025``: a quota named in a sentence (its own name adds its places)."""
    return f"{quota.region} {quota.year}"


def member_moves(form, *, new: bool) -> tuple[int, int]:
    """``(left, joined)`` for one saved person form: 1 left when the member has just become left
    or deceased; 1 joined when the member is new (and arriving) or has come back."""
    gone_now = form.cleaned_data.get("member_status") in GONE
    if new:
        return 0, int(not gone_now)
    gone_before = form.initial.get("member_status") in GONE
    return int(gone_now and not gone_before), int(gone_before and not gone_now)


def after_members_changed(
    request: HttpRequest, household: Household, *, left: int = 0, joined: int = 0
) -> None:
    """Planned payments and quota places follow members who joined, left or died
    (:func:`services.cases.members_changed`); the officer is told what changed in the quota."""
    done = members_changed(
        household=household,
        by=request.user,
        cause=str(_("Members changed")),
        left=left,
        joined=joined,
    )
    if done.released is not None and done.placement is None:
        messages.info(
            request,
            _(
                "%(ref)s no longer holds places in %(quota)s: nobody in the family arrives any "
                "more; %(count)d given back to the quota."
            )
            % {
                "count": done.places_given_back,
                "quota": quota_name(done.released.quota),
                "ref": household.reference,
            },
        )
        return
    if done.places_given_back:
        messages.info(
            request,
            _(
                "%(ref)s now holds %(places)d place(s) in %(quota)s; %(count)d given back to "
                "the quota."
            )
            % {
                "count": done.places_given_back,
                "quota": quota_name(done.released.quota),
                "ref": household.reference,
                "places": done.placement.places,
            },
        )
    elif done.places_short:
        messages.warning(
            request,
            _(
                "%(ref)s holds %(places)d place(s) in %(quota)s and %(arriving)d member(s) are "
                "arriving. To reserve more, release the places and place the household again."
            )
            % {
                "ref": household.reference,
                "places": done.placement.places,
                "quota": quota_name(done.placement.quota),
                "arriving": done.placement.places + done.places_short,
            },
        )


class PersonInline(LocalizedChoicesMixin, admin.StackedInline):
    model = Person
    form = PersonForm
    formset = HouseholdMembersFormSet
    fieldsets = ((None, {"fields": (*PERSON_ROWS, "edit_version")}),)
    extra = 0
    min_num = 1
    classes = ("member-card",)

    def get_extra(self, request: HttpRequest, obj: Household | None = None, **kwargs) -> int:
        return 0 if obj else 2

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "citizenship":
            # Countries are reference data: no add/edit/delete icons in every member card.
            field.widget.can_add_related = field.widget.can_change_related = False
            field.widget.can_delete_related = field.widget.can_view_related = False
        return field

    def has_delete_permission(self, request: HttpRequest, obj: Household | None = None) -> bool:
        # Once a case is under way its members stay on record: they leave or die, with a status.
        if obj is not None and obj.status != CaseStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = (
        "effective_on",
        "kind",
        "from_status",
        "to_status",
        "reason",
        "changed_by",
        "changed_at",
    )
    readonly_fields = fields
    show_change_link = False
    classes = ("history-table",)
    verbose_name_plural = _("status history")
    ordering = ("-changed_at", "-id")


@admin.register(Household)
class HouseholdAdmin(
    PersonalDataViewLogMixin,
    VersionedAdminMixin,
    ScopedAdminMixin,
    BigChangelistMixin,
    ExportActionsMixin,
    SimpleHistoryAdmin,
):
    scope_path = ""
    access_log_what = "household"
    actions = [export_households_csv]
    change_form_template = "admin/resettlement/household/change_form.html"
    list_display = (
        "reference",
        "head_name",
        "status",
        "destination_region",
        "group",
        "origin_country",
        "quota_year",
        "members",
    )
    list_display_links = ("reference", "head_name")
    list_filter = (
        ("program", ReferenceListFilter),
        "status",
        ("destination_region", ReferenceListFilter),
        ("group", ReferenceListFilter),
        ("origin_country", ReferenceListFilter),
        QuotaYearFilter,
    )
    list_select_related = ("program", "destination_region", "group", "origin_country")
    search_fields = ("reference",)  # shows the box; the search itself is get_search_results
    search_help_text = _(
        "Reference, any member's name in Cyrillic or Latin, document number or IIN"
    )
    autocomplete_fields = ("group", "destination_region", "origin_country")
    inlines = [PersonInline, StatusChangeInline]
    list_per_page = 50

    class Media:
        css = {"all": ["resettlement/admin.css"]}

    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 80})},
    }
    readonly_fields = (
        # Joining a quota reserves places in the ledger: "Place in quota" sets the year.
        "quota_year",
        "applied_on",
        "decided_on",
        "status_granted_on",
        "status_expires_on",
        "extensions_used",
        "arrived_on",
        "citizenship_on",
    )
    fieldsets = (
        (
            _("Case"),
            {
                "fields": (("program", "reference"), ("group", "application_channel")),
            },
        ),
        (
            _("Origin and placement"),
            {"fields": (("origin_country", "origin_area"), ("destination_region", "quota_year"))},
        ),
        (
            _("Key dates"),
            {
                "fields": (
                    ("applied_on", "decided_on"),
                    ("status_granted_on", "status_expires_on", "extensions_used"),
                    ("arrived_on", "residence_permit_on", "citizenship_on"),
                ),
                "description": _(
                    "Dates of the case's steps are set by the status changes; "
                    "use “Change status” with the effective date."
                ),
            },
        ),
        (
            _("Kyrgyzstan"),
            {"fields": (("commission_on", "certificate_number"),), "classes": ("collapse",)},
        ),
        (_("Notes"), {"fields": ("notes",)}),
    )

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in ("origin_country", "destination_region"):
            # Reference data is maintained on its own pages, not from inside a case.
            field.widget.can_add_related = field.widget.can_change_related = False
            field.widget.can_delete_related = False
        return field

    def get_readonly_fields(self, request: HttpRequest, obj: Household | None = None) -> tuple:
        # The program fixes the reference series; a case does not move between programs.
        fields = (*self.readonly_fields, "program", "reference") if obj else self.readonly_fields
        if (
            obj is not None
            and obj.quota_placements.filter(status=PlacementStatus.RESERVED).exists()
        ):
            # Its quota places are in that region: release them before moving the family.
            fields = (*fields, "destination_region")
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Household | None = None) -> tuple:
        if obj:
            # super(): VersionedAdminMixin adds the hidden version field to the page.
            return super().get_fieldsets(request, obj)
        # A new case gets its reference when it is saved (see services.cases.open_case).
        case, *rest = self.fieldsets
        fields = ("program", ("group", "application_channel"))
        return ((case[0], {"fields": fields}), *rest)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Household]:
        # The head's names and the member count are kept on the household and its summary
        # (services.summaries), so a page of 50 rows needs no subquery per row.
        return (
            super()
            .get_queryset(request)
            .annotate(**{name: F(f"summary__{name}") for name in HEAD_NAMES})
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        found, count = search_households_counted(queryset, search_term)
        # Known when the matches were looked up as ids: the paginator need not count again.
        request.search_result_count = count
        return found, False

    @admin.display(description=_("head of household"), ordering="head_surname")
    def head_name(self, obj: Household) -> str:
        cyrillic = " ".join(p for p in (obj.head_surname, obj.head_given_name) if p)
        latin = " ".join(p for p in (obj.head_surname_latin, obj.head_given_name_latin) if p)
        if cyrillic and latin and cyrillic != latin:
            return f"{cyrillic} / {latin}"
        return cyrillic or latin or "—"

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, obj: Household) -> int:
        return obj.member_count

    def save_model(self, request: HttpRequest, obj: Household, form, change: bool) -> None:
        if not change:
            open_case(household=obj, by=request.user)
        elif form.has_changed():
            obj.save()
        # else only members changed: they are saved (with their own history) by the inline; an
        # unchanged household is not written, so its history shows no empty "Changed" entry.

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        warn_about_duplicates(request, form.instance)
        members = [f for f in formsets if f.model is Person]
        if change and any(f.has_changed() for f in members):
            left = joined = 0
            for formset in members:
                for index, member in enumerate(formset.forms):
                    new = index >= formset.initial_form_count()
                    if member.cleaned_data.get("DELETE"):
                        # A member removed from a draft case takes no place any more.
                        left += int(not new and member.initial.get("member_status") not in GONE)
                    elif member.has_changed():
                        moves = member_moves(member, new=new)
                        left, joined = left + moves[0], joined + moves[1]
            after_members_changed(request, form.instance, left=left, joined=joined)

    def has_delete_permission(self, request: HttpRequest, obj: Household | None = None) -> bool:
        # Cases keep their history for good; they are closed or withdrawn, never deleted.
        return False

    # --- status changes ---------------------------------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/status/",
                view(self.transition_view),
                name="resettlement_household_transition",
            ),
            path(
                "<int:object_id>/extend/",
                view(self.extension_view),
                name="resettlement_household_extend",
            ),
            *super().get_urls(),
        ]

    def _case_for_status_change(self, request: HttpRequest, object_id: int) -> Household:
        household = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not request.user.has_perm("resettlement.change_case_status"):
            raise PermissionDenied
        return household

    def _status_page(
        self, request: HttpRequest, household: Household, form, title: str
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": household,
            "title": title,
            "form": form,
            "history": household.status_changes.select_related("changed_by").order_by(
                "-changed_at"
            )[:5],
        }
        return TemplateResponse(request, "admin/resettlement/household/status_change.html", context)

    def _back_to_case(self, household: Household) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:resettlement_household_change", args=[household.pk])
        )

    def transition_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        household = self._case_for_status_change(request, object_id)
        if not allowed_transitions(household.status):
            self.message_user(
                request, _("This case is closed; its status cannot change."), messages.WARNING
            )
            return self._back_to_case(household)
        form = TransitionForm(request.POST or None, status=household.status)
        if request.method == "POST" and form.is_valid():
            try:
                case_transition(
                    household=household,
                    to=form.cleaned_data["to"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    on=form.cleaned_data["on"],
                )
            except TransitionError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    _("%(ref)s is now “%(status)s”.")
                    % {"ref": household.reference, "status": household.get_status_display()},
                    messages.SUCCESS,
                )
                return self._back_to_case(household)
        title = _("Change the status of %(ref)s") % {"ref": household.reference}
        return self._status_page(request, household, form, title)

    def extension_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        household = self._case_for_status_change(request, object_id)
        program = household.program
        if program.max_extensions == 0:
            self.message_user(
                request,
                _("%(program)s has no status extensions.") % {"program": program},
                messages.WARNING,
            )
            return self._back_to_case(household)
        form = ExtensionForm(request.POST or None, max_months=program.extension_max_months)
        if request.method == "POST" and form.is_valid():
            try:
                extend_status(
                    household=household,
                    months=form.cleaned_data["months"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except TransitionError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    _("The status of %(ref)s now expires on %(date)s.")
                    % {
                        "ref": household.reference,
                        "date": date_format(household.status_expires_on),
                    },
                    messages.SUCCESS,
                )
                return self._back_to_case(household)
        title = _("Extend the status of %(ref)s") % {"ref": household.reference}
        return self._status_page(request, household, form, title)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        extra_context = extra_context or {}
        extra_context["can_change_status"] = request.user.has_perm(
            "resettlement.change_case_status"
        )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Person)
class PersonAdmin(
    PersonalDataViewLogMixin,
    VersionedAdminMixin,
    ScopedAdminMixin,
    BigChangelistMixin,
    LocalizedChoicesMixin,
    ExportActionsMixin,
    SimpleHistoryAdmin,
):
    scope_path = "household"
    access_log_what = "person"
    form = PersonForm
    actions = [export_persons_csv]
    list_display = (
        "full_name",
        "latin_name",
        "household",
        "relation",
        "sex",
        "birth_display",
        "iin",
        "document_number",
        "member_status",
    )
    list_filter = (
        ("household__program", ReferenceListFilter),
        "member_status",
        "sex",
        "relation",
        "education",
    )
    list_select_related = ("household",)
    search_fields = ("iin",)
    search_help_text = _("Name in Cyrillic or Latin, document number, IIN or case reference")
    autocomplete_fields = ("household",)
    fieldsets = ((None, {"fields": ("household", *PERSON_ROWS)}),)
    list_per_page = 50

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        return search_persons(queryset, search_term), False

    @admin.display(description=_("name (Latin)"))
    def latin_name(self, obj: Person) -> str:
        return " ".join(
            p for p in (obj.surname_latin, obj.given_name_latin, obj.patronymic_latin) if p
        )

    @admin.display(description=_("born"), ordering="birth_date")
    def birth_display(self, obj: Person) -> str:
        return obj.birth_display

    @admin.display(description=_("full name"), ordering="surname")
    def full_name(self, obj: Person) -> str:
        return obj.full_name

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and not form.has_changed():
            return
        # As on the household page: a member added, edited or moved changes what the household
        # (and, when moved, the one they left) is paid and how many quota places it holds.
        person = form.instance
        moved_from = form.initial.get("household") if change else None
        if moved_from and moved_from != person.household_id:
            was_arriving = form.initial.get("member_status") not in GONE
            after_members_changed(
                request, Household.objects.get(pk=moved_from), left=int(was_arriving)
            )
            after_members_changed(
                request, person.household, joined=int(person.member_status not in GONE)
            )
        else:
            left, joined = member_moves(form, new=not change)
            after_members_changed(request, person.household, left=left, joined=joined)

    def has_delete_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        return False


class GroupHouseholdInline(ScopedInlineMixin, ReadOnlyInline):
    scope_path = ""
    model = Household
    fields = ("reference", "status", "destination_region", "origin_area", "members")
    readonly_fields = fields
    verbose_name_plural = _("households in this group")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("destination_region")

    @admin.display(description=_("members"))
    def members(self, obj: Household) -> int:
        return obj.member_count


@admin.register(Group)
class GroupAdmin(ScopedAdminMixin, KeySearchMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "program",
        "status",
        "origin_country",
        "planned_size",
        "household_count",
        "people",
    )
    list_filter = (
        ("program", ReferenceListFilter),
        "status",
        ("origin_country", ReferenceListFilter),
    )
    list_select_related = ("program", "origin_country")
    autocomplete_fields = ("origin_country", "transit_country")
    inlines = [GroupHouseholdInline]
    fieldsets = (
        (None, {"fields": ("program", "name", "status")}),
        (_("Route"), {"fields": (("origin_country", "origin_area"), "transit_country")}),
        (
            _("Size and dates"),
            {"fields": ("planned_size", ("planned_on", "departed_on", "arrived_on"))},
        ),
        (_("Notes"), {"fields": ("notes",)}),
    )

    def scope(self, request: HttpRequest, queryset: QuerySet[Group]) -> QuerySet[Group]:
        return queryset.filter(pk__in=groups_for(request.user).values("pk"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        people = (
            Person.objects.filter(household__group=OuterRef("pk"))
            .order_by()
            .values("household__group")
            .annotate(n=Count("pk"))
            .values("n")
        )
        households = (
            Household.objects.filter(group=OuterRef("pk"))
            .order_by()
            .values("group")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                people_count=Coalesce(Subquery(people, output_field=IntegerField()), Value(0)),
                households_count=Coalesce(
                    Subquery(households, output_field=IntegerField()), Value(0)
                ),
            )
        )

    @admin.display(description=_("households"), ordering="households_count")
    def household_count(self, obj: Group) -> int:
        return obj.households_count

    @admin.display(description=_("people"), ordering="people_count")
    def people(self, obj: Group) -> int:
        return obj.people_count

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return False
