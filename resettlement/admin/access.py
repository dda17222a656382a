"""Scope and audit in the admin: what every case-data ModelAdmin mixes in, and the audit pages.

- :class:`ScopedAdminMixin` filters the admin's queryset through ``selectors/access.py``, so the
  list, the change/history/delete pages reached by id (404 when out of scope), the autocomplete
  endpoints and ``RelatedOnlyFieldListFilter`` choices all see only the user's records; it also
  narrows foreign-key choices (program, group, region, household).
- :class:`PersonalDataViewLogMixin` writes an ``AccessLog`` row for every view of a page with
  personal data.
- :class:`VersionedFormMixin` refuses a save made from a stale copy of the record.
"""

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from ..models import AccessLog, RetentionRun, StaffProfile
from ..models.audit import AccessKind
from ..selectors.access import (
    access_log_for,
    choices_for,
    forget_scope,
    is_region_scoped,
    programs_for,
    regions_for,
    scope_queryset,
)
from ..services.audit import log_access


class ScopedAdminMixin:
    """Restrict an admin to the records in the user's scope.

    ``scope_path`` is the lookup from the model to ``Household`` ("" for households; ``None``
    to scope with :meth:`scope` overridden instead).
    """

    scope_path: str | None = "household"

    def scope(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return scope_queryset(request.user, queryset, household_path=self.scope_path)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        choices = choices_for(request.user, db_field.related_model)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "destination_region" and is_region_scoped(request.user) and field:
            # A case without a region would leave the scope of the region-bound clerk entering it.
            field.required = True
        return field

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "does not exist"; answer 404 like any unknown URL.
        raise Http404

    def _get_in_scope_or_404(self, request: HttpRequest, object_id: str) -> None:
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        # Django checks the delete permission first; out of scope must not answer otherwise.
        self._get_in_scope_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        # simple-history falls back to the history rows when get_queryset misses the object.
        self._get_in_scope_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, **kwargs):
        self._get_in_scope_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, **kwargs)


class ScopedInlineMixin:
    """For inlines listing case records (e.g. a group's households)."""

    scope_path: str = "household"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_queryset(request.user, super().get_queryset(request), self.scope_path)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        choices = choices_for(request.user, db_field.related_model)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PersonalDataViewLogMixin:
    """Log each successful GET of the change and history pages (they show personal data)."""

    access_log_what: str = ""

    def _log_view(self, request: HttpRequest, response: HttpResponse, object_id: str, what: str):
        if request.method == "GET" and response.status_code == 200:
            log_access(request=request, kind=AccessKind.VIEW, what=what, object_id=object_id)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._log_view(request, response, object_id, self.access_log_what)

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        return self._log_view(request, response, object_id, f"{self.access_log_what} history")

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, **kwargs):
        response = super().history_form_view(request, object_id, version_id, **kwargs)
        return self._log_view(request, response, object_id, f"{self.access_log_what} history")


STALE_MESSAGE = _(
    "Someone else saved this record while you were editing it. Your changes were not saved: "
    "open the record again to see the current version, then make your changes there."
)


class VersionedForm(forms.ModelForm):
    """A model form carrying the record's ``version``; a save from a stale copy is refused.

    The check locks the row (``SELECT … FOR UPDATE``) inside the admin's transaction, so of two
    concurrent saves the second one waits, then sees the new version and is refused.
    """

    edit_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["edit_version"].initial = self.instance.version

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        model = type(self.instance)
        current = (
            model.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if cleaned.get("edit_version") is None or cleaned["edit_version"] != current:
            raise forms.ValidationError(STALE_MESSAGE, code="stale")
        # The admin loaded the instance before the lock; carry the locked version forward.
        self.instance.version = current
        return cleaned


class VersionedAdminMixin:
    """Give a ModelAdmin the :class:`VersionedForm` and render its hidden version field."""

    form = VersionedForm

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets
        return (*fieldsets, (None, {"fields": ("edit_version",), "classes": ("hidden",)}))


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: nobody edits or deletes the log, not even a superuser through the admin."""

    list_display = ("at", "user", "kind", "what", "object_id", "row_count", "path")
    list_filter = ("kind", "what")
    list_select_related = ("user",)
    search_fields = ("user__username", "what", "object_id")
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return access_log_for(request.user).select_related("user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(AccessLogAdmin):
    list_display = (
        "at",
        "by",
        "older_than_days",
        "closed_before",
        "households",
        "persons",
        "history_rows",
    )
    list_filter = ()
    list_select_related = ("by",)
    search_fields = ()
    date_hierarchy = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return RetentionRun.objects.select_related("by")


class StaffProfileForm(forms.ModelForm):
    class Meta:
        model = StaffProfile
        fields = ("user", "preferred_language", "programs", "regions")


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    """Who works in which programs and regions. A program administrator assigns only their own."""

    form = StaffProfileForm
    list_display = ("user", "preferred_language", "program_list", "region_list")
    list_select_related = ("user",)
    filter_horizontal = ("programs", "regions")
    autocomplete_fields = ()
    search_fields = ("user__username", "user__first_name", "user__last_name")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).prefetch_related("programs", "regions")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(programs__in=programs_for(request.user)).distinct()

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "programs":
            kwargs["queryset"] = programs_for(request.user)
        elif db_field.name == "regions":
            kwargs["queryset"] = regions_for(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            # Only staff accounts, never superusers: a profile does not make anyone more powerful.
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_superuser=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        forget_scope(form.instance.user)

    @admin.display(description=_("programs"))
    def program_list(self, obj: StaffProfile) -> str:
        return ", ".join(p.code for p in obj.programs.all()) or "—"

    @admin.display(description=_("regions"))
    def region_list(self, obj: StaffProfile) -> str:
        return ", ".join(r.code for r in obj.regions.all()) or _("all of the programs")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser
