"""Admin for household imports (upload → preview → confirm) and the duplicate review queue.

Both pages call the services in ``services/imports.py`` and ``services/duplicates.py``; the
management command ``import_households`` uses the same ones.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from ..csv_format import PERSON_COLUMNS, PLAIN, csv_writer, escape_cell
from ..models import (
    DuplicateCandidate,
    DuplicateReason,
    DuplicateStatus,
    Household,
    ImportBatch,
    ImportStatus,
    Person,
)
from ..services.duplicates import (
    MergeError,
    likely_duplicates,
    mark_different,
    merge_duplicate,
    queue_duplicates,
)
from ..services.imports import (
    commit_batch,
    create_batch,
    max_bytes,
    recover_interrupted,
    rows_done,
    start_commit_in_background,
)

IMPORT_PERMISSION = "resettlement.import_households"
REVIEW_PERMISSION = "resettlement.review_duplicates"

#: The template's example row: a new household (temporary key NEW-1) with its head.
TEMPLATE_EXAMPLE = {
    "household_reference": "NEW-1",
    "program": "KZ-KANDAS",
    "origin_country": "AF",
    "origin_area": "Balkh, Mazar-i-Sharif",
    "destination_region": "KZ-55",
    "application_channel": "evacuation",
    "relation": "head",
    "surname": "Ахметов",
    "given_name": "Ерлан",
    "sex": "M",
    "birth_date": "1975",
    "birth_date_precision": "year",
    "citizenship": "AF",
    "document_type": "passport",
    "document_number": "P1234567",
    "languages": "Kazakh, Dari",
    "phone": "+77011234567",
    "member_status": "abroad",
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Windows-1251, comma or semicolon; the columns of the template."),
    )


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("file_name", "status", "rows_total", "created_by", "created_at", "committed_at")
    list_filter = ("status",)
    list_select_related = ("created_by",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(IMPORT_PERMISSION)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "template.csv",
                view(self.template_view),
                name="resettlement_importbatch_template",
            ),
            path(
                "<int:object_id>/confirm/",
                view(self.confirm_view),
                name="resettlement_importbatch_confirm",
            ),
            *super().get_urls(),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        self._check(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read(max_bytes() + 1)
            batch = create_batch(data=data, file_name=upload.name, user=request.user)
            return HttpResponseRedirect(
                reverse("admin:resettlement_importbatch_change", args=[batch.pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import households from CSV"),
            "form": form,
            "columns": PERSON_COLUMNS,
            "max_bytes": max_bytes(),
        }
        return TemplateResponse(request, "admin/resettlement/importbatch/upload.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        self._check(request)
        batch = get_object_or_404(ImportBatch.objects.select_related("created_by"), pk=object_id)
        self._recover(request, batch)
        summary = batch.summary or {}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import of %(name)s") % {"name": batch.file_name},
            "batch": batch,
            "summary": summary,
            "changes": summary.get("changes", []),
            "duplicates": summary.get("duplicates", []),
            "listed_changes_cut": len(summary.get("changes", [])) >= 1000,
            "can_confirm": batch.status == ImportStatus.READY
            and not summary.get("already_imported"),
            "importing": batch.status == ImportStatus.IMPORTING,
            "rows_done": rows_done(batch),
        }
        return TemplateResponse(request, "admin/resettlement/importbatch/preview.html", context)

    def _recover(self, request: HttpRequest, batch: ImportBatch) -> None:
        if recover_interrupted(batch):
            self.message_user(
                request,
                _(
                    "This import was cut off before it finished (the server restarted); "
                    "nothing of it was written. Confirm it again to import the file."
                ),
                messages.WARNING,
            )

    def confirm_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        self._check(request)
        batch = get_object_or_404(ImportBatch, pk=object_id)
        back = HttpResponseRedirect(
            reverse("admin:resettlement_importbatch_change", args=[batch.pk])
        )
        if request.method != "POST":
            return back
        if batch.status == ImportStatus.IMPORTING:
            self.message_user(
                request,
                _("This import is already running; nothing more was written."),
                messages.WARNING,
            )
            return back
        if batch.rows_total > settings.IMPORT_BACKGROUND_ROWS:
            if start_commit_in_background(batch, request.user) is None:
                self.message_user(
                    request,
                    _("This file has already been imported; nothing was written."),
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    _("The import has started; this page shows its progress."),
                    messages.INFO,
                )
            return back
        result = commit_batch(batch=batch, user=request.user)
        if result is None:
            self.message_user(
                request,
                _("This file has already been imported; nothing was written."),
                messages.WARNING,
            )
        elif result.committed:
            self.message_user(
                request,
                _(
                    "Imported: %(hc)d new and %(hu)d changed households, %(pc)d new and %(pu)d "
                    "changed people."
                )
                % {
                    "hc": result.households_created,
                    "hu": result.households_updated,
                    "pc": result.persons_created,
                    "pu": result.persons_updated,
                },
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _(
                    "The data changed since the preview and the file now has errors; nothing was written."
                ),
                messages.ERROR,
            )
        return back

    def template_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="households-template.csv"'
        writer = csv_writer(PLAIN)
        response.write("\ufeff")
        response.write(writer.writerow(PERSON_COLUMNS))
        response.write(
            writer.writerow([escape_cell(TEMPLATE_EXAMPLE.get(c, "")) for c in PERSON_COLUMNS])
        )
        return response


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    list_display = ("__str__", "reason", "status", "found_at", "batch", "decided_by", "decided_at")
    list_filter = ("status", "reason")
    list_select_related = ("person__household", "other__household", "batch", "decided_by")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        if not request.user.has_perm(REVIEW_PERMISSION):
            raise PermissionDenied
        candidate = get_object_or_404(
            DuplicateCandidate.objects.select_related(
                "person__household", "other__household", "kept", "decided_by"
            ),
            pk=object_id,
        )
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            note = form.cleaned_data["note"]
            try:
                if request.POST.get("decision") == "different":
                    mark_different(candidate=candidate, by=request.user, note=note)
                    self.message_user(request, _("Recorded: different people."), messages.SUCCESS)
                else:
                    keep = get_object_or_404(
                        Person,
                        pk=request.POST.get("keep"),
                    )
                    merge_duplicate(candidate=candidate, keep=keep, by=request.user, note=note)
                    self.message_user(
                        request,
                        _("Merged into %(name)s.") % {"name": keep.full_name},
                        messages.SUCCESS,
                    )
            except MergeError as error:
                form.add_error(None, error)
            else:
                return HttpResponseRedirect(
                    reverse("admin:resettlement_duplicatecandidate_changelist")
                )
        rows = []
        if candidate.person and candidate.other:
            for name in COMPARED_FIELDS:
                a, b = _shown(candidate.person, name), _shown(candidate.other, name)
                label = capfirst(Person._meta.get_field(name).verbose_name)
                rows.append({"name": label, "a": a, "b": b, "differs": a != b})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Possible duplicate"),
            "candidate": candidate,
            "rows": rows,
            "form": form,
            "is_open": candidate.status == DuplicateStatus.OPEN,
        }
        return TemplateResponse(
            request, "admin/resettlement/duplicatecandidate/review.html", context
        )


#: The fields of two possible duplicates shown side by side on the review page.
COMPARED_FIELDS = (
    "surname",
    "given_name",
    "patronymic",
    "surname_latin",
    "given_name_latin",
    "patronymic_latin",
    "sex",
    "birth_date",
    "citizenship",
    "document_type",
    "document_number",
    "iin",
    "relation",
    "member_status",
    "phone",
)


def _shown(person: Person, name: str) -> str:
    """A field of ``person`` as the pages show it: choices by their label, the date of birth as
    far as it is known, the country by its name."""
    if name == "birth_date":
        return person.birth_display
    if Person._meta.get_field(name).choices:
        return str(getattr(person, f"get_{name}_display")())
    value = getattr(person, name)
    return "" if value is None else str(value)


def warn_about_duplicates(request: HttpRequest, household: Household) -> None:
    """After a household form is saved: a warning listing members who may already be on record
    (queued for review too)."""
    links = []
    for member in household.members.all():
        found = likely_duplicates(member)
        if found:
            queue_duplicates(member)
        for other, reason in found:
            url = reverse("admin:resettlement_person_change", args=[other.pk])
            links.append(
                format_html(
                    '{} ~ <a href="{}">{}</a> ({}, {})',
                    member.full_name,
                    url,
                    other.full_name,
                    other.household.reference,
                    DuplicateReason(reason).label,
                )
            )
    if links:
        messages.warning(
            request,
            format_html(
                "{} {}",
                _("Possible duplicates (queued for review):"),
                format_html_join("; ", "{}", ((link,) for link in links)),
            ),
        )
