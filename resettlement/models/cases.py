"""Cases: groups (cohorts) of returnees, households, their members and status history."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..enums import (
    ApplicationChannel,
    CaseStatus,
    DatePrecision,
    DocumentType,
    Education,
    GroupStatus,
    HistoryKind,
    MemberStatus,
    Relation,
    Sex,
)
from ..text import normalise_document_number, search_key, transliterate
from ..validators import validate_iin
from .constraints import formula_safe, one_of
from .reference import Country, Program, Region


def _dates_in_order(earlier: str, later: str, name: str, message: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{earlier}__isnull": True})
        | Q(**{f"{later}__isnull": True})
        | Q(**{f"{later}__gte": F(earlier)}),
        name=name,
        violation_error_message=message,
    )


class Group(models.Model):
    """People who move together: an evacuation flight, a convoy, a planned cohort."""

    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.PROTECT)
    name = models.CharField(_("name"), max_length=200)
    origin_country = models.ForeignKey(
        Country,
        verbose_name=_("country of origin"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    origin_area = models.CharField(_("area of origin"), max_length=200, blank=True)
    transit_country = models.ForeignKey(
        Country,
        verbose_name=_("transit country"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    planned_size = models.PositiveIntegerField(_("planned size (people)"), default=0)
    planned_on = models.DateField(_("planned date"), null=True, blank=True)
    departed_on = models.DateField(_("departed"), null=True, blank=True)
    arrived_on = models.DateField(_("arrived"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=GroupStatus.choices, default=GroupStatus.PLANNED
    )
    notes = models.TextField(_("notes"), blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False, editable=False)
    search_key = models.CharField(max_length=400, editable=False, blank=True)
    history = HistoricalRecords(excluded_fields=["search_key"])

    class Meta:
        ordering = ["-planned_on", "name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "name"],
                name="group_name_unique_per_program",
                violation_error_message=_("This program already has a group with that name."),
            ),
            _dates_in_order(
                "departed_on",
                "arrived_on",
                "group_arrival_after_departure",
                _("The group cannot arrive before it departed."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.search_key = search_key(self.name, self.origin_area)
        super().save(*args, **kwargs)


class Household(models.Model):
    """A family's case: one application covers the whole household, however many members."""

    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.PROTECT)
    reference = models.CharField(_("reference"), max_length=20, blank=True)
    group = models.ForeignKey(
        Group,
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
    )
    origin_country = models.ForeignKey(
        Country,
        verbose_name=_("country of origin"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # indexed in Meta (see there)
    )
    origin_area = models.CharField(
        _("area of origin"), max_length=200, blank=True, help_text=_("Province, district, village")
    )
    destination_region = models.ForeignKey(
        Region,
        verbose_name=_("destination region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
    )
    quota_year = models.PositiveSmallIntegerField(
        _("quota year"),
        null=True,
        blank=True,
        help_text=_("Only for families in the regional resettlement quota."),
    )
    application_channel = models.CharField(
        _("application channel"), max_length=20, choices=ApplicationChannel.choices, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=CaseStatus.choices,
        default=CaseStatus.DRAFT,
        editable=False,
    )
    applied_on = models.DateField(_("applied"), null=True, blank=True)
    decided_on = models.DateField(_("decision"), null=True, blank=True)
    arrived_on = models.DateField(_("arrived"), null=True, blank=True)
    status_granted_on = models.DateField(_("status granted"), null=True, blank=True)
    status_expires_on = models.DateField(_("status expires"), null=True, blank=True)
    extensions_used = models.PositiveSmallIntegerField(
        _("extensions used"), default=0, editable=False
    )
    residence_permit_on = models.DateField(_("residence permit"), null=True, blank=True)
    citizenship_on = models.DateField(_("citizenship"), null=True, blank=True)
    commission_on = models.DateField(
        _("commission date"),
        null=True,
        blank=True,
        help_text=_("Kyrgyzstan: interagency commission"),
    )
    certificate_number = models.CharField(
        _("certificate number"),
        max_length=40,
        blank=True,
        help_text=_("Kyrgyzstan: kayrylman certificate"),
    )
    notes = models.TextField(_("notes"), blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Optimistic lock: every save of an existing row increments it (see admin/access.py).
    version = models.PositiveIntegerField(_("version"), default=0, db_default=0, editable=False)
    anonymised_on = models.DateField(_("anonymised"), null=True, blank=True, editable=False)
    # Derived from the members, for lists and reports over a million people; kept right by
    # services.summaries after every write (with the rest of HouseholdSummary).
    member_count = models.PositiveIntegerField(_("members"), default=0, editable=False)
    members_present = models.PositiveIntegerField(
        _("members not left or deceased"), default=0, editable=False
    )
    history = HistoricalRecords(excluded_fields=["updated_at", "member_count", "members_present"])

    class Meta:
        ordering = ["-id"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        # Permissions that are not about one model's rows; roles (auth groups) combine them.
        permissions = [
            ("change_case_status", _("Can change a case's status (decisions, arrival, closure)")),
            ("view_reports", _("Can view reports and download aggregate CSV")),
            ("export_personal_data", _("Can export personal data (names, documents, contacts)")),
            ("import_households", _("Can import households from CSV")),
            ("review_duplicates", _("Can decide on possible duplicate persons")),
            ("override_quota", _("Can place a household over the regional quota")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "reference"],
                name="household_reference_unique_per_program",
                violation_error_message=_("Another household of this program has this reference."),
            ),
            models.CheckConstraint(
                condition=~Q(reference=""), name="household_reference_not_empty"
            ),
            formula_safe("reference", "household_reference_plain", blank=True),
            one_of("status", CaseStatus, "household_status_valid"),
            one_of(
                "application_channel", ApplicationChannel, "household_channel_valid", blank=True
            ),
            _dates_in_order(
                "applied_on",
                "decided_on",
                "household_decision_after_application",
                _("The decision date cannot be before the application date."),
            ),
            _dates_in_order(
                "status_granted_on",
                "status_expires_on",
                "household_expiry_after_grant",
                _("The status cannot expire before it was granted."),
            ),
            _dates_in_order(
                "residence_permit_on",
                "citizenship_on",
                "household_citizenship_after_permit",
                _("Citizenship cannot come before the residence permit."),
            ),
        ]
        indexes = [
            models.Index(fields=["program", "status"], name="household_program_status"),
            # Not db_index on the field: that adds an unused pattern-ops twin (see Person).
            models.Index(fields=["origin_country"], name="household_origin_country"),
            # Search by reference without the program (iexact compares upper-cased).
            models.Index(Upper("reference"), name="household_reference_upper"),
            # The quota report and ledger look up the few families in a quota year.
            models.Index(
                fields=["quota_year", "program"],
                condition=Q(quota_year__isnull=False),
                name="household_quota_year",
            ),
        ]
        # On PostgreSQL, migration 0019 also adds covering indexes for the arrivals and status
        # grants reports (``household_arrivals``, ``household_status_granted``); they are not
        # declared here because SQLite has no INCLUDE.

    def __str__(self) -> str:
        return self.reference or str(_("new household"))

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.quota_year and not self.destination_region_id:
            raise ValidationError(
                {"destination_region": _("A family in the quota needs a destination region.")}
            )


class Person(models.Model):
    """A member of a household. Names are kept in Cyrillic and Latin script, as in documents."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="members"
    )
    relation = models.CharField(_("relation to head"), max_length=14, choices=Relation.choices)
    surname = models.CharField(_("surname (Cyrillic)"), max_length=100, blank=True)
    given_name = models.CharField(_("given name (Cyrillic)"), max_length=100, blank=True)
    patronymic = models.CharField(_("patronymic (Cyrillic)"), max_length=100, blank=True)
    surname_latin = models.CharField(_("surname (Latin)"), max_length=100, blank=True)
    given_name_latin = models.CharField(_("given name (Latin)"), max_length=100, blank=True)
    patronymic_latin = models.CharField(_("patronymic (Latin)"), max_length=100, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(
        _("date of birth"),
        null=True,
        blank=True,
        help_text=_("When only the year is known, enter 1 January."),
    )
    birth_date_precision = models.CharField(
        _("known to"), max_length=4, choices=DatePrecision.choices, default=DatePrecision.EXACT
    )
    citizenship = models.ForeignKey(
        Country,
        verbose_name=_("citizenship"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # indexed in Meta (see there)
    )
    document_type = models.CharField(
        _("document"), max_length=12, choices=DocumentType.choices, blank=True
    )
    document_number = models.CharField(_("document number"), max_length=40, blank=True)
    iin = models.CharField(
        _("IIN"),
        max_length=12,
        blank=True,
        validators=[validate_iin],
        help_text=_("Kazakhstan's 12-digit individual identification number"),
    )
    education = models.CharField(
        _("education"), max_length=14, choices=Education.choices, blank=True
    )
    occupation = models.CharField(_("occupation"), max_length=200, blank=True)
    languages = models.CharField(
        _("languages"), max_length=200, blank=True, help_text=_("e.g. Kazakh, Dari, Russian")
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    member_status = models.CharField(
        _("member status"), max_length=12, choices=MemberStatus.choices, default=MemberStatus.ABROAD
    )
    search_key = models.CharField(max_length=700, editable=False)
    document_key = models.CharField(max_length=40, editable=False)  # indexed in Meta
    is_demo = models.BooleanField(_("demo data"), default=False, editable=False)
    # Optimistic lock, as on Household: incremented by every save of an existing row.
    version = models.PositiveIntegerField(_("version"), default=0, db_default=0, editable=False)
    history = HistoricalRecords(excluded_fields=["search_key", "document_key"])

    class Meta:
        ordering = ["household", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation=Relation.HEAD),
                name="one_head_per_household",
                violation_error_message=_("A household has exactly one head."),
            ),
            models.UniqueConstraint(
                fields=["iin"],
                condition=~Q(iin=""),
                name="iin_unique",
                violation_error_message=_("Another person already has this IIN."),
            ),
            models.CheckConstraint(
                condition=~Q(surname="", surname_latin=""),
                name="person_has_a_surname",
                violation_error_message=_("Enter the surname in Cyrillic or in Latin script."),
            ),
            formula_safe("iin", "person_iin_plain", blank=True),
            one_of("relation", Relation, "person_relation_valid"),
            one_of("sex", Sex, "person_sex_valid"),
            one_of("birth_date_precision", DatePrecision, "person_birth_precision_valid"),
            one_of("member_status", MemberStatus, "person_member_status_valid"),
            one_of("document_type", DocumentType, "person_document_type_valid", blank=True),
            one_of("education", Education, "person_education_valid", blank=True),
        ]
        indexes = [
            models.Index(fields=["iin"], name="person_iin"),
            # Declared here rather than with db_index on the field: on PostgreSQL the field
            # form adds a second, pattern-ops index for LIKE, which no query uses (codes and
            # document keys are compared whole) and every insert of a person had to update.
            models.Index(fields=["document_key"], name="person_document_key"),
            models.Index(fields=["citizenship"], name="person_citizenship"),
            # Likely duplicates: a name key prefix and a year of birth, both checked in the
            # index (common names are shared by thousands in a national register).
            models.Index(fields=["search_key", "birth_date"], name="person_name_birth"),
        ]
        # On PostgreSQL, migration 0008_scale_indexes also adds a trigram (GIN) index on
        # search_key for substring search; it is not declared here because SQLite has none.

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.refresh_derived_fields()
        if self.pk is not None:
            self.version += 1
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        cyrillic = " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)
        latin = " ".join(
            p for p in (self.surname_latin, self.given_name_latin, self.patronymic_latin) if p
        )
        return cyrillic or latin

    @property
    def birth_display(self) -> str:
        if not self.birth_date:
            return ""
        if self.birth_date_precision == DatePrecision.YEAR:
            return str(self.birth_date.year)
        return date_format(self.birth_date, "SHORT_DATE_FORMAT")

    def refresh_derived_fields(self) -> None:
        """Fill the Latin name from the Cyrillic when missing, and the search keys."""
        for cyrillic, latin in (
            ("surname", "surname_latin"),
            ("given_name", "given_name_latin"),
            ("patronymic", "patronymic_latin"),
        ):
            if getattr(self, cyrillic) and not getattr(self, latin):
                setattr(self, latin, transliterate(getattr(self, cyrillic)))
        self.search_key = search_key(
            self.surname,
            self.given_name,
            self.patronymic,
            "|",
            self.surname_latin,
            self.given_name_latin,
            self.patronymic_latin,
        )[:700]
        self.document_key = normalise_document_number(self.document_number)


class StatusChange(models.Model):
    """Append-only history of a household's case: one row per status change or extension."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="status_changes",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=HistoryKind.choices)
    from_status = models.CharField(_("from"), max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=CaseStatus.choices)
    effective_on = models.DateField(_("effective on"))
    changed_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["household", "changed_at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        indexes = [models.Index(fields=["to_status", "effective_on"], name="statuschange_to_date")]

    def __str__(self) -> str:
        return f"{self.household}: {self.from_status or '—'} → {self.to_status}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(_("Status history is append-only; it cannot be edited."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Status history is append-only; it cannot be deleted."))
