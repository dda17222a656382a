"""Bulk imports of households from CSV, and the queue of possible duplicate persons.

An ``ImportBatch`` keeps the uploaded file's text (bounded by ``IMPORT_MAX_BYTES``), its
SHA-256 (so the same file is never committed twice), the preview and the row errors.
A ``DuplicateCandidate`` is a pair of people who may be one person, waiting for a case
officer's decision; the decision is kept.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .cases import Person


class ImportStatus(models.TextChoices):
    INVALID = "invalid", _("Has errors (nothing written)")
    READY = "ready", _("Checked, waiting for confirmation")
    IMPORTING = "importing", _("Importing")
    COMMITTED = "committed", _("Imported")


class ImportBatch(models.Model):
    """One uploaded CSV file of households and members, from upload to commit."""

    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    text = models.TextField(_("file contents"), blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.INVALID
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    #: When a background import claimed the batch (status ``importing``).
    claimed_at = models.DateTimeField(_("import started at"), null=True, blank=True, editable=False)
    committed_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("household import")
        verbose_name_plural = _("household imports")
        constraints = [
            # The database itself refuses a second commit of the same file.
            models.UniqueConstraint(
                fields=["sha256"],
                condition=Q(status="committed"),
                name="import_file_committed_once",
                violation_error_message=_("This file has already been imported."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})" if self.created_at else ""


class DuplicateReason(models.TextChoices):
    IIN = "iin", _("Same IIN")
    DOCUMENT = "document", _("Same document number")
    NAME_BIRTH = "name_birth", _("Same name and date or year of birth")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a decision")
    MERGED = "merged", _("Same person (merged)")
    DIFFERENT = "different", _("Different people")


class DuplicateCandidate(models.Model):
    """Two records that may be one person. ``person`` is the newer record, ``other`` the older.

    Merging keeps ``kept`` and deletes the other record after copying into ``kept`` every
    field it lacks; the deleted record stays in the person history and in ``merged_snapshot``.
    """

    person = models.ForeignKey(
        Person,
        verbose_name=_("person"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    other = models.ForeignKey(
        Person,
        verbose_name=_("possible duplicate of"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=10, choices=DuplicateReason.choices)
    status = models.CharField(
        _("decision"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("found by import"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    found_at = models.DateTimeField(_("found at"), auto_now_add=True)
    kept = models.ForeignKey(
        Person,
        verbose_name=_("record kept"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    merged_snapshot = models.JSONField(_("merged record"), default=dict, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["status", "-found_at", "-id"]
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["person", "other"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=~Q(person=F("other")), name="duplicate_pair_two_people"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ~ {self.other} ({self.get_reason_display()})"
